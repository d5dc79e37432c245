"""When a read may go to the read replica: the scope, the read-your-writes pin and the replica's health,
which core/db_router.py combines.

Reads go to the replica only inside an explicit scope (`@reads_from_replica` on a read-only page view, or
`replica_reads()`), and never for a browser that wrote within REPLICA_PIN_SECONDS (read-your-writes): any
request other than GET/HEAD/OPTIONS, or any write to the primary while a request runs, sets the pin cookie,
and until it runs out that browser reads from the primary. The pin holds only a time, in a cookie of its
own, so it works for visitors who are not signed in and costs no session write; a forged one only sends its
sender's reads to the primary.

The replica's health (up, and replaying within REPLICA_MAX_LAG_SECONDS) is asked at most every
HEALTH_CHECK_SECONDS per process; a replica that fails or lags is left alone until the next check.
"""

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections

REPLICA = "replica"
HEALTH_CHECK_SECONDS = 5.0


# Seconds the replica's replay is behind; 0 when it has replayed all it received (an idle primary sends
# nothing, so the last replayed transaction's age alone would read as lag). NULL: nothing replayed yet.
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
    ELSE EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())
END
"""


class _Health:
    """This process's last verdict on the replica (shared by its threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.checked_at = -float("inf")
        self.usable = False

    def forget(self) -> None:
        with self.lock:
            self.checked_at = -float("inf")


_health = _Health()


def configured() -> bool:
    return REPLICA in settings.DATABASES


def replica_lag_seconds() -> float | None:
    """The replica's replay lag now (one query on the replica); None when unknown. Raises DatabaseError when
    the replica cannot be reached."""
    with connections[REPLICA].cursor() as cursor:
        cursor.execute(LAG_SQL)
        (lag,) = cursor.fetchone()
    return None if lag is None else float(lag)


def _check() -> bool:
    try:
        lag = replica_lag_seconds()
    except (DatabaseError, InterfaceError) as error:
        logger.warning("Read replica unavailable, reading from the primary: %s", error)
        connections[REPLICA].close()
        return False
    if lag is None or lag > settings.REPLICA_MAX_LAG_SECONDS:
        logger.warning(
            "Read replica lags %s s (over %s s), reading from the primary", lag, settings.REPLICA_MAX_LAG_SECONDS
        )
        return False
    return True


def replica_usable() -> bool:
    """Whether the replica answers and is recent enough; asks it at most every HEALTH_CHECK_SECONDS."""
    now = time.monotonic()
    if now - _health.checked_at < HEALTH_CHECK_SECONDS:
        return _health.usable
    if not _health.lock.acquire(blocking=False):
        # Another thread is asking the replica (up to its connect timeout): go by the last verdict meanwhile.
        return _health.usable
    try:
        if now - _health.checked_at >= HEALTH_CHECK_SECONDS:
            _health.usable = _check()
            _health.checked_at = time.monotonic()
        return _health.usable
    finally:
        _health.lock.release()


def mark_replica_unusable() -> None:
    """The replica failed a query: read from the primary until the next check is due."""
    with _health.lock:
        _health.usable = False
        _health.checked_at = time.monotonic()
    try:
        connections[REPLICA].close()
    except DatabaseError:
        logger.warning("Closing the failed read replica connection failed too", exc_info=True)


def forget_replica_health() -> None:
    """Check the replica again on the next read (tests; an operator's shell after fixing the replica)."""
    _health.forget()


logger = logging.getLogger(__name__)
PIN_COOKIE = "replica_pin"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
WRITE_STATEMENTS = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE", "TRUNCATE", "COPY", "CREATE", "ALTER", "DROP"})


@dataclass
class RequestState:
    """One request's facts the router reads: pinned to the primary, and whether it wrote yet."""

    pinned: bool = False
    wrote: bool = False

    def watch(self, execute, sql, params, many, context):
        """A connection execute_wrapper on the primary: note any write (the reads after it, in this request
        and for the pin's duration, then come from the primary too)."""
        if not self.wrote and _statement_keyword(sql) in WRITE_STATEMENTS:
            self.wrote = True
        return execute(sql, params, many, context)


@dataclass
class Scope:
    """An open "replica allowed" scope; the router records in it that it handed out the replica."""

    used_replica: bool = False


_request: ContextVar[RequestState | None] = ContextVar("replica_request", default=None)
_scope: ContextVar[Scope | None] = ContextVar("replica_scope", default=None)


def _statement_keyword(sql) -> str:
    text = sql if isinstance(sql, str) else str(sql)
    return text.lstrip(" \t\r\n(").split(None, 1)[0].upper() if text.strip() else ""


def current_scope() -> Scope | None:
    return _scope.get()


def pinned() -> bool:
    """Whether this request must read from the primary: it wrote, or its browser wrote a moment ago."""
    state = _request.get()
    return state is not None and (state.pinned or state.wrote)


@contextmanager
def replica_reads() -> Iterator[Scope]:
    """Let the reads inside go to the replica (when the router finds that safe)."""
    token = _scope.set(Scope())
    try:
        yield _scope.get()
    finally:
        _scope.reset(token)


@contextmanager
def primary_reads() -> Iterator[None]:
    """Close any replica scope for the reads inside."""
    token = _scope.set(None)
    try:
        yield
    finally:
        _scope.reset(token)


def reads_from_replica(view: Callable) -> Callable:
    """For read-only page views that tolerate data a few seconds old. When the replica fails during the view
    (it went down after the last health check), the view is answered once more from the primary, so a
    replica outage never shows as an error page. The view must not write what it would write twice."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        with replica_reads() as scope:
            try:
                return view(request, *args, **kwargs)
            except (OperationalError, InterfaceError):
                if not scope.used_replica:
                    raise
                # The error may have come from the primary; then the second try raises it again, as before.
                mark_replica_unusable()
        with primary_reads():
            return view(request, *args, **kwargs)

    return wrapped


def _pinned_until(request) -> float:
    try:
        return float(request.COOKIES.get(PIN_COOKIE, 0))
    except ValueError:
        return 0.0


class ReplicaPinMiddleware:
    """Read-your-writes across requests (installed only when a replica is configured)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        now = time.time()
        writes = request.method not in SAFE_METHODS
        state = RequestState(pinned=writes or _pinned_until(request) > now)
        token = _request.set(state)
        try:
            with connections["default"].execute_wrapper(state.watch):
                response = self.get_response(request)
        finally:
            _request.reset(token)
        if writes or state.wrote:
            seconds = settings.REPLICA_PIN_SECONDS
            response.set_cookie(
                PIN_COOKIE,
                f"{time.time() + seconds:.3f}",
                max_age=math.ceil(seconds),
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response
