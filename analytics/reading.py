"""Where the rollups read the main tables from: the read replica when one is configured (a `replica` entry in
DATABASES, made from DATABASE_REPLICA_URL) and the router finds it safe, else the primary. A rollup of past
days tolerates a replica's lag of seconds; the nightly job also recomputes the day before, so a late row is
counted the next night. The primary is read instead inside a transaction on it (a test's, or a caller that
must see its own rows), for a browser that just wrote, and when the replica is down or lags too far
(core/db_router.py)."""

from core import db_router

REPLICA = db_router.REPLICA


def source() -> str:
    return db_router.read_alias(explicit=True)
