"""Prometheus metrics shared by every app (issue 19): the metric objects lower apps increment, the access
rule of the scrape endpoints, query timings and Celery task counts.

The endpoint itself, and the gauges that read the marketplace's tables, live in config/metrics.py (the top
layer may import every app; this module imports none).

Multi-process mode: with PROMETHEUS_MULTIPROC_DIR set before prometheus_client is first imported, every
process (gunicorn worker, Celery pool child) writes its values to files there and a scrape adds them up
(MultiProcessCollector). config/gunicorn.py sets it for the web container and empties it at start; a Celery
worker needs it set in its environment (and serves its own figures on CELERY_METRICS_PORT, see
`start_worker_metrics_server`).
"""

import hmac
import ipaddress
import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from celery import signals as celery_signals
from django.db.backends.signals import connection_created
from django_prometheus.cache.metrics import (
    django_cache_get_fail_total,
    django_cache_get_total,
    django_cache_hits_total,
    django_cache_misses_total,
)
from django_prometheus.db.metrics import (
    connections_total,
    errors_total,
    execute_total,
    query_duration_seconds,
)
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

logger = logging.getLogger(__name__)

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # Values are written on first use, into this directory: a process started with the variable set (a
    # worker, a one-off command) must not fail on a directory nobody made.
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)

# The classic text format every Prometheus reads (generate_latest writes it for names like ours).
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

# --- What lower apps count ------------------------------------------------------------------------------

WEBHOOK_VERDICTS = Counter(
    "kompanion_webhook_verdicts_total",
    "Webhook calls by provider (midtrans, twilio) and verdict (forged, accepted, or Midtrans' own verdicts: "
    "applied, duplicate, stale, amount_mismatch, unknown_order, ignored, unexpected)",
    ["provider", "verdict"],
)
CELERY_TASKS = Counter(
    "kompanion_celery_tasks_total",
    "Celery task events by task name and event (sent, started, succeeded, failed, retried)",
    ["task", "event"],
)


def webhook_verdict(provider: str, verdict: str) -> None:
    """One webhook call judged: `provider` "midtrans" or "twilio"; `verdict` "forged", "accepted" or the
    verdict recorded on the notification (amount_mismatch is the "mismatched" one)."""
    WEBHOOK_VERDICTS.labels(provider=provider, verdict=str(verdict)).inc()


# --- Who may read them ------------------------------------------------------------------------------------


def access_allowed(*, authorization: str, remote_addr: str, token: str, networks: Iterable[str]) -> bool:
    """A scrape is allowed with `Authorization: Bearer <token>` (when a token is configured) or from an
    address inside one of `networks` (CIDRs). The address is the TCP peer (REMOTE_ADDR), never a forwarded
    header a client can write. Neither configured: nobody."""
    if token:
        scheme, _, presented = authorization.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode()):
            return True
    if not networks:
        return False
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in ipaddress.ip_network(network, strict=False) for network in networks)


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def exposition(extra: CollectorRegistry | None = None) -> bytes:
    """The text exposition of this process's metrics (all processes' in multi-process mode), then `extra`'s
    (collectors computed at scrape time, registered on a registry of their own)."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    output = generate_latest(registry)
    if extra is not None:
        output += generate_latest(extra)
    return output


def clear_multiprocess_dir(path: str) -> None:
    """Empty the directory at a server's start: files of processes from an earlier run would be added
    to this run's figures forever (their pids never exit again)."""
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    for leftover in directory.glob("*.db"):
        leftover.unlink(missing_ok=True)


# --- Database timings -------------------------------------------------------------------------------------
# django-prometheus' own metric names (django_db_*), recorded by an execute wrapper instead of its
# database backend: the backend would change ENGINE, which production settings check and a replica
# router would have to repeat; a wrapper works on whatever connection the settings build.


class QueryTimer:
    def __init__(self, alias: str, vendor: str):
        self.alias = alias
        self.vendor = vendor
        # Looked up once per connection, not per query (a multi-process value notices a fork by itself).
        self.executed = execute_total.labels(alias, vendor)
        self.duration = query_duration_seconds.labels(alias, vendor)

    def __call__(self, execute, sql, params, many, context):
        self.executed.inc(len(params) if many and params else 1)
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        except Exception as error:
            errors_total.labels(self.alias, self.vendor, type(error).__name__).inc()
            raise
        finally:
            self.duration.observe(time.perf_counter() - started)


def _instrument_connection(sender, connection, **kwargs) -> None:
    connections_total.labels(connection.alias, connection.vendor).inc()
    if not any(isinstance(wrapper, QueryTimer) for wrapper in connection.execute_wrappers):
        # First, not last: `connection.execute_wrapper()` pops the last wrapper when its block ends, and a
        # connection opened inside such a block must not lose ours to it.
        connection.execute_wrappers.insert(0, QueryTimer(connection.alias, connection.vendor))


# --- Cache timings -----------------------------------------------------------------------------------------
# For core/cache.py's ResilientRedisCache, whose one funnel (_call) every operation passes through; its
# BACKEND path stays as it is (settings and tests name it). django-prometheus' own get/hit/miss names.

CACHE_SECONDS = Histogram(
    "kompanion_cache_operation_seconds",
    "Time of a cache operation against Redis, by operation (get, set, add, delete, incr...)",
    ["operation"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
CACHE_BACKEND = "redis"


@contextmanager
def timed_cache_operation(operation: str) -> Iterator[None]:
    """Around one call to Redis: its time, whether it raised or not (a failed get also counts as failed)."""
    started = time.perf_counter()
    try:
        yield
    except Exception:
        if operation == "get":
            django_cache_get_fail_total.labels(backend=CACHE_BACKEND).inc()
        raise
    finally:
        CACHE_SECONDS.labels(operation=operation).observe(time.perf_counter() - started)


def cache_get_result(*, hit: bool) -> None:
    """One cache get answered (by Redis or by the outage's miss): a hit or a miss."""
    django_cache_get_total.labels(backend=CACHE_BACKEND).inc()
    (django_cache_hits_total if hit else django_cache_misses_total).labels(backend=CACHE_BACKEND).inc()


# --- Celery task counts -----------------------------------------------------------------------------------


def _task_name(sender=None, task=None, headers=None) -> str:
    if headers and headers.get("task"):
        return str(headers["task"])
    named = task or sender
    return str(getattr(named, "name", None) or named or "unknown")


def _on_published(sender=None, headers=None, **kwargs) -> None:
    CELERY_TASKS.labels(task=_task_name(sender=sender, headers=headers), event="sent").inc()


def _on_prerun(sender=None, task=None, **kwargs) -> None:
    CELERY_TASKS.labels(task=_task_name(sender=sender, task=task), event="started").inc()


def _on_success(sender=None, **kwargs) -> None:
    CELERY_TASKS.labels(task=_task_name(sender=sender), event="succeeded").inc()


def _on_failure(sender=None, **kwargs) -> None:
    CELERY_TASKS.labels(task=_task_name(sender=sender), event="failed").inc()


def _on_retry(sender=None, **kwargs) -> None:
    CELERY_TASKS.labels(task=_task_name(sender=sender), event="retried").inc()


def _on_worker_init(**kwargs) -> None:
    # The worker's main process, before its pool forks and before any task ran: nothing is written yet.
    if multiprocess_dir():
        clear_multiprocess_dir(multiprocess_dir())


def _on_worker_ready(**kwargs) -> None:
    from django.conf import settings

    if settings.CELERY_METRICS_PORT:
        start_worker_metrics_server(port=settings.CELERY_METRICS_PORT)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class' signature
        pass


def start_worker_metrics_server(*, port: int, address: str = "0.0.0.0") -> WSGIServer:  # noqa: S104
    """Serve the Celery worker's figures (all its pool processes' in multi-process mode) on `port` in a
    daemon thread, under the same rule as the web's /metrics (METRICS_TOKEN or METRICS_ALLOWED_NETWORKS)."""
    from django.conf import settings

    def application(environ, start_response):
        allowed = access_allowed(
            authorization=environ.get("HTTP_AUTHORIZATION", ""),
            remote_addr=environ.get("REMOTE_ADDR", ""),
            token=settings.METRICS_TOKEN,
            networks=settings.METRICS_ALLOWED_NETWORKS,
        )
        if not allowed or environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not Found"]
        body = exposition()
        start_response("200 OK", [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(body)))])
        return [body]

    server = make_server(address, port, application, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics-server", daemon=True).start()
    logger.info("worker metrics on port %s", server.server_port)
    return server


def connect() -> None:
    """Hook the counters up (config/celery.py calls this in every process: web, worker, beat)."""
    connection_created.connect(_instrument_connection, dispatch_uid="core.metrics.instrument_connection")
    celery_signals.after_task_publish.connect(_on_published, dispatch_uid="core.metrics.published", weak=False)
    celery_signals.task_prerun.connect(_on_prerun, dispatch_uid="core.metrics.prerun", weak=False)
    celery_signals.task_success.connect(_on_success, dispatch_uid="core.metrics.success", weak=False)
    celery_signals.task_failure.connect(_on_failure, dispatch_uid="core.metrics.failure", weak=False)
    celery_signals.task_retry.connect(_on_retry, dispatch_uid="core.metrics.retry", weak=False)
    celery_signals.worker_init.connect(_on_worker_init, dispatch_uid="core.metrics.worker_init", weak=False)
    celery_signals.worker_ready.connect(_on_worker_ready, dispatch_uid="core.metrics.worker_ready", weak=False)
