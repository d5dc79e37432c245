"""The Prometheus endpoint (/metrics, config/urls.py) and the figures computed when it is scraped
(issue 19): Celery queue lengths from the broker, and the business gauges read from the database.

Request, database and Celery counters are recorded as they happen (django-prometheus' middlewares,
core/metrics.py); what is here is read at scrape time, each query bounded, and kept in the cache so that
frequent scrapes (or several Prometheis, or several web processes) do not load the database: the business
gauges for BUSINESS_SECONDS, the ledger check (a sum over the whole entries table) for LEDGER_SECONDS. Each
process also keeps its last answer in memory for the same time, so with the cache down a scrape costs the
database at most one computation per process per period, and the endpoint keeps answering.
"""

import logging
import time
from datetime import timedelta

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.db.models import Count, Min
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily

from bookings.models import BookingStatus
from config.celery import app as celery_app
from core.metrics import CONTENT_TYPE, access_allowed, exposition
from notifications.models import Channel, Delivery
from payments import ledger
from payments.models import Payment, Payout, Refund

logger = logging.getLogger(__name__)

BUSINESS_SECONDS = 30
LEDGER_SECONDS = 300
# A settled payment confirms its booking in the same transaction; one still unconfirmed this long after is stuck.
PAID_UNCONFIRMED_AFTER = timedelta(minutes=10)
# The bound of that query: payments created this far back (a stuck one alerts long before it leaves it).
PAID_UNCONFIRMED_WINDOW = timedelta(days=7)
WHATSAPP_FAILED_WINDOW = timedelta(hours=1)
# The bound of that query: deliveries created this far back (Twilio reports a failure within hours).
WHATSAPP_CREATED_WINDOW = timedelta(days=2)
# A booking that got its money stays in one of these only when settling failed to confirm it.
UNCONFIRMED_STATUSES = (BookingStatus.REQUESTED, BookingStatus.AWAITING_PAYMENT, BookingStatus.EXPIRED)
REFUND_WAITING = (Refund.Status.PENDING, Refund.Status.NEEDS_DETAILS, Refund.Status.MANUAL_QUEUED, Refund.Status.FAILED)
# kombu's Redis transport keeps a queue's prioritised messages in lists named queue + "\x06\x16" + step.
KOMBU_PRIORITY_SEPARATOR = "\x06\x16"
KOMBU_PRIORITY_STEPS = (3, 6, 9)

_memory: dict[str, tuple[float, dict]] = {}


def _remembered(key: str, seconds: int, compute) -> dict:
    """`compute()`'s answer, at most `seconds` old: from this process' memory, else the cache, else fresh."""
    now = time.monotonic()
    kept = _memory.get(key)
    if kept and now - kept[0] < seconds:
        return kept[1]
    try:
        value = cache.get(key)
    except (redis.RedisError, OSError):  # a cache backend that raises while down (ours does not)
        value = None
    if value is None:
        value = compute()
        try:
            cache.set(key, value, seconds)
        except (redis.RedisError, OSError):
            pass
    _memory[key] = (now, value)
    return value


def business_figures() -> dict:
    """One bounded query per figure; ages in seconds (0 when nothing waits)."""
    now = timezone.now()
    paid_unconfirmed = (
        Payment.objects.filter(
            status=Payment.Status.PAID,
            needs_refund=False,
            booking__status__in=UNCONFIRMED_STATUSES,
            created_at__gte=now - PAID_UNCONFIRMED_WINDOW,
            paid_at__lte=now - PAID_UNCONFIRMED_AFTER,
        )
        .values("booking_id")
        .distinct()
        .count()
    )
    whatsapp_failed = Delivery.objects.filter(
        channel=Channel.WHATSAPP,
        status__in=(Delivery.Status.FAILED, Delivery.Status.UNDELIVERED),
        created_at__gte=now - WHATSAPP_CREATED_WINDOW,
        updated_at__gte=now - WHATSAPP_FAILED_WINDOW,
    ).count()
    refunds = {
        row["status"]: (row["count"], (now - row["oldest"]).total_seconds())
        for row in Refund.objects.filter(status__in=REFUND_WAITING)
        .values("status")
        .annotate(count=Count("id"), oldest=Min("created_at"))
        .order_by()
    }
    payouts = {
        row["status"]: (row["count"], (now - row["oldest"]).total_seconds())
        for row in Payout.objects.filter(status__in=Payout.OPEN_STATUSES)
        .values("status")
        .annotate(count=Count("id"), oldest=Min("requested_at"))
        .order_by()
    }
    return {
        "paid_unconfirmed": paid_unconfirmed,
        "whatsapp_failed": whatsapp_failed,
        "refunds": {str(status): refunds.get(str(status), (0, 0.0)) for status in REFUND_WAITING},
        "payouts": {str(status): payouts.get(str(status), (0, 0.0)) for status in Payout.OPEN_STATUSES},
    }


def ledger_figures() -> dict:
    report = ledger.check()
    return {
        "balanced": report.balanced,
        "imbalance": report.total,
        "unbalanced_journals": len(report.unbalanced),
        "checked_at": time.time(),
    }


class BusinessCollector:
    def collect(self):
        up = GaugeMetricFamily(
            "kompanion_business_gauges_up", "1 when the business gauges below could be read from the database"
        )
        try:
            figures = _remembered("metrics:business", BUSINESS_SECONDS, business_figures)
            checked = _remembered("metrics:ledger", LEDGER_SECONDS, ledger_figures)
        except DatabaseError:
            logger.warning("metrics: the business gauges could not be read", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "kompanion_bookings_paid_unconfirmed",
            "Bookings whose payment settled over 10 minutes ago (in the last 7 days) but which are not confirmed",
            value=figures["paid_unconfirmed"],
        )
        yield GaugeMetricFamily(
            "kompanion_whatsapp_failed_last_hour",
            "WhatsApp deliveries that failed or were not delivered in the last hour",
            value=figures["whatsapp_failed"],
        )
        for kind, rows, what in (
            ("refund", figures["refunds"], "Refunds"),
            ("payout", figures["payouts"], "Payouts"),
        ):
            waiting = GaugeMetricFamily(
                f"kompanion_{kind}s_waiting", f"{what} not finished, by status", labels=["status"]
            )
            oldest = GaugeMetricFamily(
                f"kompanion_{kind}_oldest_waiting_seconds",
                f"Age of the oldest {kind} not finished, by status (0 when none)",
                labels=["status"],
            )
            for status, (count, age) in rows.items():
                waiting.add_metric([status], count)
                oldest.add_metric([status], age)
            yield waiting
            yield oldest
        yield GaugeMetricFamily(
            "kompanion_ledger_balanced",
            "1 when every journal balances and all entries sum to 0 (checked at most every 5 minutes)",
            value=1 if checked["balanced"] else 0,
        )
        yield GaugeMetricFamily(
            "kompanion_ledger_imbalance_rupiah",
            "The sum of every ledger entry (0 when balanced)",
            value=checked["imbalance"],
        )
        yield GaugeMetricFamily(
            "kompanion_ledger_unbalanced_journals",
            "Journals whose entries do not sum to 0",
            value=checked["unbalanced_journals"],
        )
        yield GaugeMetricFamily(
            "kompanion_ledger_checked_timestamp_seconds", "When the ledger check above ran", value=checked["checked_at"]
        )


def celery_queue_names() -> list[str]:
    names = {celery_app.conf.task_default_queue or "celery"}
    names.update(queue.name for queue in celery_app.conf.task_queues or ())
    names.update(
        route["queue"]
        for route in (celery_app.conf.task_routes or {}).values()
        if isinstance(route, dict) and "queue" in route
    )
    return sorted(names)


class CeleryQueueCollector:
    """Messages waiting in each known queue (LLEN on the Redis broker, with kombu's priority lists)."""

    def collect(self):
        up = GaugeMetricFamily("kompanion_celery_broker_up", "1 when the broker answered the queue-length query")
        broker_url = settings.CELERY_BROKER_URL
        if not broker_url.startswith(("redis://", "rediss://", "unix://")):
            return  # no broker (tasks run in-process) or not Redis: nothing to measure
        queues = celery_queue_names()
        client = redis.Redis.from_url(broker_url, socket_timeout=2, socket_connect_timeout=2)
        try:
            with client.pipeline(transaction=False) as pipeline:
                for name in queues:
                    pipeline.llen(name)
                    for step in KOMBU_PRIORITY_STEPS:
                        pipeline.llen(f"{name}{KOMBU_PRIORITY_SEPARATOR}{step}")
                lengths = pipeline.execute()
        except (redis.RedisError, OSError):
            up.add_metric([], 0)
            yield up
            return
        finally:
            client.close()
        up.add_metric([], 1)
        yield up
        family = GaugeMetricFamily(
            "kompanion_celery_queue_length", "Messages waiting in a Celery queue", labels=["queue"]
        )
        per_queue = 1 + len(KOMBU_PRIORITY_STEPS)
        for index, name in enumerate(queues):
            family.add_metric([name], sum(lengths[index * per_queue : (index + 1) * per_queue]))
        yield family


def scrape_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CeleryQueueCollector())
    registry.register(BusinessCollector())
    return registry


@csrf_exempt
@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus' scrape: with `Authorization: Bearer <METRICS_TOKEN>` or from METRICS_ALLOWED_NETWORKS
    (judged on REMOTE_ADDR). Anybody else gets the same 404 as for a page that does not exist."""
    allowed = access_allowed(
        authorization=request.headers.get("Authorization", ""),
        remote_addr=request.META.get("REMOTE_ADDR", ""),
        token=settings.METRICS_TOKEN,
        networks=settings.METRICS_ALLOWED_NETWORKS,
    )
    if not allowed:
        raise Http404
    return HttpResponse(exposition(scrape_registry()), content_type=CONTENT_TYPE)
