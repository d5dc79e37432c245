"""Where the rollups read the main tables from: the read replica when one is configured (a `replica` entry in
DATABASES, made from DATABASE_REPLICA_URL), else the primary. A rollup of past days tolerates a replica's lag
of seconds; the nightly job also recomputes the day before, so a late row is counted the next night."""

from django.conf import settings

REPLICA = "replica"


def source() -> str:
    return REPLICA if REPLICA in settings.DATABASES else "default"
