"""The read replica's router (registered only when DATABASE_REPLICA_URL is set).

A read goes to the replica only when all of these hold, and to the primary otherwise:
- it runs inside a "replica allowed" scope (core.replica: `@reads_from_replica` page views), or the caller
  asked for the replica by name (`read_alias(explicit=True)`, the analytics rollups);
- the request is not pinned: its browser did not write within REPLICA_PIN_SECONDS, and it has not written yet;
- the primary's connection is not inside transaction.atomic (the locking and money paths read what they
  lock, and a replica never sees a transaction's uncommitted rows);
- the replica answers and its replay lags at most REPLICA_MAX_LAG_SECONDS (checked at most every
  HEALTH_CHECK_SECONDS per process, the verdict cached meanwhile).
Writes, and querysets Django marks for writing (select_for_update, get_or_create, update_or_create), always
go to the primary: Django asks db_for_write for those.
"""

from django.db import DEFAULT_DB_ALIAS, connections

from core import replica
from core.replica import REPLICA


def read_alias(*, explicit: bool = False) -> str:
    """The alias a read should use now: "replica" when allowed and safe (module docstring), else "default".
    `explicit`: the caller asks for the replica outside a page's scope (the analytics rollups)."""
    if not replica.configured():
        return DEFAULT_DB_ALIAS
    scope = replica.current_scope()
    if scope is None and not explicit:
        return DEFAULT_DB_ALIAS
    if replica.pinned() or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    if not replica.replica_usable():
        return DEFAULT_DB_ALIAS
    if scope is not None:
        scope.used_replica = True
    return REPLICA


class ReplicaRouter:
    def db_for_read(self, model, **hints) -> str:
        return read_alias()

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        # One database seen at two moments: rows from either may be related.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS
