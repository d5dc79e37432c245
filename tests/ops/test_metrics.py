"""The Prometheus endpoint (issue 19): who may read it, what it counts, the business gauges against seeded
rows, multi-process aggregation, and that a cache or broker outage does not break it.

Counters live in the process-wide registry and grow across tests, so the tests compare a value before and
after the action (`delta`)."""

import json
import os
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from celery import signals as celery_signals
from django.core.cache import cache
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from bookings.models import Booking, BookingStatus
from config import metrics as config_metrics
from config.celery import app as celery_app
from core import metrics as core_metrics
from core.tasks import apply_deferred_cache_deletes_task
from notifications.models import Channel, Delivery
from payments import services as payment_services
from payments.models import Entry, Payment, Payout, Refund
from tests.bookings.helpers import make_companion
from tests.conftest import requires_redis
from tests.factories import CustomerFactory
from tests.payments.helpers import accepted_on_the_real_clock
from tests.resilience.outage import redis_down

BASE_DIR = Path(__file__).resolve().parent.parent.parent
TOKEN = "metrics-test-token-0123456789abcdef"  # noqa: S105
AUTHORIZED = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _metrics_settings():
    config_metrics._memory.clear()
    with override_settings(METRICS_TOKEN=TOKEN, METRICS_ALLOWED_NETWORKS=[]):
        yield
    config_metrics._memory.clear()


def scrape(client, **extra) -> str:
    response = client.get("/metrics", **{**AUTHORIZED, **extra})
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return response.content.decode()


def registry_samples() -> str:
    """This process's metrics in the text format, straight from the registry (no request, no cache read)."""
    from prometheus_client import REGISTRY, generate_latest

    return generate_latest(REGISTRY).decode()


def value(text: str, name: str, **labels) -> float | None:
    """The sample `name` with exactly these labels (a subset match), or None when absent."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(key) == want for key, want in labels.items()):
                return sample.value
    return None


def grown(before: str, after: str, name: str, **labels) -> float:
    """How much the sample `name` (these labels) grew between two readings of the registry."""
    return (value(after, name, **labels) or 0) - (value(before, name, **labels) or 0)


def delta(client, action, name: str, **labels) -> float:
    before = value(scrape(client), name, **labels) or 0
    action()
    return (value(scrape(client), name, **labels) or 0) - before


def fresh_figures() -> None:
    """Forget the remembered business figures (the cache and this process' memory), as 30 s passing would."""
    config_metrics._memory.clear()
    cache.delete_many(["metrics:business", "metrics:ledger"])


# --- Who may read it ------------------------------------------------------------------------------------------


def test_nobody_gets_in_when_neither_a_token_nor_a_network_is_configured(client):
    with override_settings(METRICS_TOKEN="", METRICS_ALLOWED_NETWORKS=[]):
        assert client.get("/metrics").status_code == 404
        assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404
        assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404


def test_no_token_or_a_wrong_one_gets_the_same_404_as_a_missing_page(client):
    missing = client.get("/no-such-page-at-all")
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": f"Basic {TOKEN}"}):
        response = client.get("/metrics", **headers)
        assert response.status_code == 404 == missing.status_code
        assert b"django_http" not in response.content


def test_the_right_token_gets_the_text_exposition(client):
    text = scrape(client)
    assert "# TYPE django_http_requests_latency_seconds_by_view_method histogram" in text
    assert "# TYPE kompanion_ledger_balanced gauge" in text


def test_an_allowed_network_gets_in_without_a_token_judged_on_the_peer_address(client):
    with override_settings(METRICS_ALLOWED_NETWORKS=["10.0.0.0/8", "fd00::/8"]):
        assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
        assert client.get("/metrics", REMOTE_ADDR="fd00::5").status_code == 200
        assert client.get("/metrics", REMOTE_ADDR="203.0.113.5").status_code == 404
        # A client outside cannot claim an inside address through a forwarded header.
        spoofed = client.get("/metrics", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="10.1.2.3")
        assert spoofed.status_code == 404


def test_a_post_is_not_served(client):
    assert client.post("/metrics", **AUTHORIZED).status_code == 405


# --- Requests, queries --------------------------------------------------------------------------------------


def test_request_latency_and_errors_by_view_appear_after_requests(client):
    def requests():
        assert client.get("/healthz").status_code in (200, 503)
        assert client.get("/terms/").status_code == 200

    assert delta(client, requests, "django_http_requests_latency_seconds_by_view_method_count", view="terms") == 1
    missing = delta(
        client,
        lambda: client.get("/no-such-page-at-all"),
        "django_http_responses_total_by_status_view_method_total",
        status="404",
        view="<unnamed view>",
        method="GET",
    )
    assert missing == 1


def test_database_queries_are_counted_and_timed(client):
    def queries():
        list(Booking.objects.all()[:1])
        list(Payment.objects.all()[:1])

    # The scrape itself queries too (the business gauges are remembered, so only the first one does).
    scrape(client)
    assert delta(client, queries, "django_db_execute_total", alias="default") == 2
    assert value(scrape(client), "django_db_query_duration_seconds_count", alias="default") > 0


# --- Webhook verdicts ------------------------------------------------------------------------------------------


def test_a_forged_midtrans_notification_counts_as_forged(client):
    payment = payment_services.payment_create(booking=accepted_on_the_real_clock())
    body = {
        "order_id": payment.order_id,
        "status_code": "200",
        "gross_amount": f"{payment.amount}.00",
        "transaction_status": "settlement",
        "signature_key": "0" * 128,
    }

    def post():
        response = client.post("/webhooks/midtrans/", json.dumps(body), content_type="application/json")
        assert response.status_code == 403

    assert delta(client, post, "kompanion_webhook_verdicts_total", provider="midtrans", verdict="forged") == 1


def test_a_midtrans_notification_with_a_wrong_amount_counts_as_mismatched(client):
    from payments.midtrans_rules import signature
    from payments.models import PaymentNotification

    payment = payment_services.payment_create(booking=accepted_on_the_real_clock())
    body = {
        "order_id": payment.order_id,
        "status_code": "200",
        "gross_amount": f"{payment.amount - 1}.00",
        "transaction_status": "settlement",
        "fraud_status": "accept",
        "payment_type": "bank_transfer",
        "transaction_id": "0f1e2d3c-aaaa-bbbb-cccc-000000000001",
    }
    body["signature_key"] = signature(
        order_id=body["order_id"],
        status_code="200",
        gross_amount=body["gross_amount"],
        server_key="test-only-midtrans-server-key",
    )

    def post():
        response = client.post("/webhooks/midtrans/", json.dumps(body), content_type="application/json")
        assert response.json()["verdict"] == PaymentNotification.Verdict.AMOUNT_MISMATCH

    assert delta(client, post, "kompanion_webhook_verdicts_total", provider="midtrans", verdict="amount_mismatch") == 1


def test_a_twilio_callback_with_a_bad_signature_counts_as_forged(client):
    def post():
        response = client.post(
            "/webhooks/twilio/status/",
            "MessageSid=SM0&MessageStatus=delivered",
            content_type="application/x-www-form-urlencoded",
            HTTP_X_TWILIO_SIGNATURE="forged",
        )
        assert response.status_code == 403

    assert delta(client, post, "kompanion_webhook_verdicts_total", provider="twilio", verdict="forged") == 1


# --- Celery ------------------------------------------------------------------------------------------------------


def test_celery_task_runs_are_counted_by_task_name(client):
    name = apply_deferred_cache_deletes_task.name
    started = value(scrape(client), "kompanion_celery_tasks_total", task=name, event="started") or 0
    succeeded = value(scrape(client), "kompanion_celery_tasks_total", task=name, event="succeeded") or 0

    apply_deferred_cache_deletes_task.delay()  # eager in tests: run here, through Celery's tracer

    text = scrape(client)
    assert value(text, "kompanion_celery_tasks_total", task=name, event="started") == started + 1
    assert value(text, "kompanion_celery_tasks_total", task=name, event="succeeded") == succeeded + 1


def test_a_failing_task_counts_as_failed(client):
    @celery_app.task(name="tests.metrics.failing_task")
    def failing_task():
        raise RuntimeError("boom")

    def run():
        # As a worker runs it: the tracer records the failure instead of raising it (tests' eager mode
        # propagates errors before Celery signals a failure).
        assert failing_task.apply(throw=False).failed()

    assert delta(client, run, "kompanion_celery_tasks_total", task="tests.metrics.failing_task", event="failed") == 1


@requires_redis
def test_queue_length_and_sent_tasks_are_read_from_the_broker(client, worker_queue):
    name = apply_deferred_cache_deletes_task.name
    sent = value(scrape(client), "kompanion_celery_tasks_total", task=name, event="sent") or 0
    assert value(scrape(client), "kompanion_celery_queue_length", queue=worker_queue) == 0

    for _ in range(3):  # no worker consumes this private queue
        apply_deferred_cache_deletes_task.delay()

    text = scrape(client)
    assert value(text, "kompanion_celery_broker_up") == 1
    assert value(text, "kompanion_celery_queue_length", queue=worker_queue) == 3
    assert value(text, "kompanion_celery_tasks_total", task=name, event="sent") == sent + 3


def test_a_worker_serves_its_own_counts_under_the_same_rule():
    core_metrics.CELERY_TASKS.labels(task="tests.metrics.worker", event="succeeded").inc()
    server = core_metrics.start_worker_metrics_server(port=0, address="127.0.0.1")
    url = f"http://127.0.0.1:{server.server_port}/metrics"
    try:

        def status(headers: dict) -> tuple[int, str]:
            try:
                with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as response:
                    return response.status, response.read().decode()
            except urllib.error.HTTPError as error:
                return error.code, ""

        assert status({})[0] == 404
        assert status({"Authorization": "Bearer wrong"})[0] == 404
        code, text = status({"Authorization": f"Bearer {TOKEN}"})
        assert code == 200
        assert value(text, "kompanion_celery_tasks_total", task="tests.metrics.worker", event="succeeded") >= 1
        with override_settings(METRICS_ALLOWED_NETWORKS=["127.0.0.0/8"]):
            assert status({})[0] == 200
    finally:
        server.shutdown()
        server.server_close()


def test_a_worker_starting_empties_its_metrics_directory(tmp_path, monkeypatch):
    leftover = tmp_path / "counter_12345.db"
    leftover.write_bytes(b"from an earlier run")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    # What the worker's main process runs on Celery's worker_init signal (connected by core.metrics.connect()).
    assert any(receiver is core_metrics._on_worker_init for _, receiver in celery_signals.worker_init.receivers)
    core_metrics._on_worker_init()

    assert not leftover.exists()


# --- Cache timings ----------------------------------------------------------------------------------------------


def test_cache_operations_are_timed_and_gets_counted_as_hits_misses_and_failures(client):
    def calls():
        with core_metrics.timed_cache_operation("get"):
            pass
        core_metrics.cache_get_result(hit=True)
        core_metrics.cache_get_result(hit=False)
        with pytest.raises(ConnectionError), core_metrics.timed_cache_operation("get"):
            raise ConnectionError("redis is down")

    # Read from the registry, not through /metrics: a scrape reads the (Redis) cache itself.
    before = registry_samples()
    calls()
    after = registry_samples()

    assert grown(before, after, "kompanion_cache_operation_seconds_count", operation="get") == 2
    assert grown(before, after, "django_cache_get_total", backend="redis") == 2
    assert grown(before, after, "django_cache_get_hits_total", backend="redis") == 1
    assert grown(before, after, "django_cache_get_misses_total", backend="redis") == 1
    assert grown(before, after, "django_cache_get_fail_total", backend="redis") == 1


# --- Business gauges -------------------------------------------------------------------------------------------


def test_bookings_paid_but_not_confirmed_after_ten_minutes(client):
    now = timezone.now()
    stuck, recent, confirmed, refunded = (
        payment_services.payment_create(booking=accepted_on_the_real_clock(days_ahead=days)) for days in (1, 2, 3, 4)
    )
    Payment.objects.filter(pk__in=[stuck.pk, confirmed.pk, refunded.pk]).update(
        status=Payment.Status.PAID, paid_at=now - timedelta(minutes=11)
    )
    Payment.objects.filter(pk=recent.pk).update(status=Payment.Status.PAID, paid_at=now - timedelta(minutes=9))
    Booking.objects.filter(pk=confirmed.booking_id).update(status=BookingStatus.CONFIRMED)
    # Money that came for a booking it could no longer confirm is being refunded: not stuck.
    Payment.objects.filter(pk=refunded.pk).update(needs_refund=True)
    Booking.objects.filter(pk=refunded.booking_id).update(status=BookingStatus.EXPIRED)

    assert value(scrape(client), "kompanion_bookings_paid_unconfirmed") == 1


def whatsapp(user, status, *, updated_ago: timedelta, channel=Channel.WHATSAPP) -> Delivery:
    now = timezone.now()
    return Delivery.objects.create(
        recipient=user,
        channel=channel,
        to="+6281234567890" if channel == Channel.WHATSAPP else "a@example.com",
        template_key="payout_rejected",
        status=status,
        created_at=now - updated_ago - timedelta(minutes=1),
        updated_at=now - updated_ago,
    )


def test_failed_whatsapp_deliveries_in_the_last_hour(client):
    user = CustomerFactory()
    whatsapp(user, Delivery.Status.FAILED, updated_ago=timedelta(minutes=10))
    whatsapp(user, Delivery.Status.UNDELIVERED, updated_ago=timedelta(minutes=50))
    whatsapp(user, Delivery.Status.FAILED, updated_ago=timedelta(hours=2))  # too long ago
    whatsapp(user, Delivery.Status.DELIVERED, updated_ago=timedelta(minutes=5))
    whatsapp(user, Delivery.Status.FAILED, updated_ago=timedelta(minutes=5), channel=Channel.EMAIL)

    assert value(scrape(client), "kompanion_whatsapp_failed_last_hour") == 2


def test_the_figures_are_remembered_between_frequent_scrapes(client):
    user = CustomerFactory()
    whatsapp(user, Delivery.Status.FAILED, updated_ago=timedelta(minutes=10))
    assert value(scrape(client), "kompanion_whatsapp_failed_last_hour") == 1

    whatsapp(user, Delivery.Status.FAILED, updated_ago=timedelta(minutes=1))
    assert value(scrape(client), "kompanion_whatsapp_failed_last_hour") == 1  # within 30 s: not read again
    config_metrics._memory.clear()
    assert value(scrape(client), "kompanion_whatsapp_failed_last_hour") == 1  # another process: from the cache

    fresh_figures()
    assert value(scrape(client), "kompanion_whatsapp_failed_last_hour") == 2


def test_the_oldest_refund_and_payout_waiting(client):
    now = timezone.now()
    payment = payment_services.payment_create(booking=accepted_on_the_real_clock())
    for key, status, age in (
        ("a", Refund.Status.PENDING, timedelta(hours=3)),
        ("b", Refund.Status.PENDING, timedelta(hours=1)),
        ("c", Refund.Status.NEEDS_DETAILS, timedelta(days=2)),
        ("d", Refund.Status.SUCCEEDED, timedelta(days=9)),  # done: not waiting
    ):
        Refund.objects.create(
            booking=payment.booking,
            payment=payment,
            amount=10_000,
            refund_key=f"metrics-{key}",
            reason="cancelled",
            method=Refund.Method.GATEWAY,
            status=status,
            created_at=now - age,
        )
    bank = {"bank": "bca", "account_number": "1234567890", "holder_name": "X"}
    Payout.objects.create(profile=make_companion(), amount=50_000, requested_at=now - timedelta(hours=5), **bank)
    Payout.objects.create(
        profile=make_companion(),
        amount=50_000,
        status=Payout.Status.PAID,
        requested_at=now - timedelta(days=30),
        **bank,
    )

    text = scrape(client)
    assert value(text, "kompanion_refunds_waiting", status="pending") == 2
    assert 3 * 3600 <= value(text, "kompanion_refund_oldest_waiting_seconds", status="pending") < 3 * 3600 + 60
    assert 2 * 86400 <= value(text, "kompanion_refund_oldest_waiting_seconds", status="needs_details") < 2 * 86400 + 60
    assert value(text, "kompanion_refund_oldest_waiting_seconds", status="manual_queued") == 0
    assert value(text, "kompanion_payouts_waiting", status="requested") == 1
    assert 5 * 3600 <= value(text, "kompanion_payout_oldest_waiting_seconds", status="requested") < 5 * 3600 + 60
    assert value(text, "kompanion_payout_oldest_waiting_seconds", status="approved") == 0


def test_the_ledger_check_and_its_imbalance(client):
    from tests.payments.helpers import paid

    paid()
    text = scrape(client)
    assert value(text, "kompanion_ledger_balanced") == 1
    assert value(text, "kompanion_ledger_imbalance_rupiah") == 0

    # A stray entry no journal balances. PostgreSQL's deferred trigger refuses it at commit, so it lives in
    # a savepoint rolled back at the end (SQLite has no trigger: the rollback is all the same).
    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        entry = Entry.objects.first()
        Entry.objects.create(journal=entry.journal, account=entry.account, amount=7)
        assert value(scrape(client), "kompanion_ledger_balanced") == 1  # checked at most every 5 minutes
        fresh_figures()
        text = scrape(client)
        assert value(text, "kompanion_ledger_balanced") == 0
        assert value(text, "kompanion_ledger_imbalance_rupiah") == 7
        assert value(text, "kompanion_ledger_unbalanced_journals") == 1
        raise Undo


# --- Outages -----------------------------------------------------------------------------------------------------


def test_redis_down_does_not_break_the_endpoint(client, monkeypatch):
    user = CustomerFactory()
    whatsapp(user, Delivery.Status.FAILED, updated_ago=timedelta(minutes=10))
    with redis_down(monkeypatch):
        text = scrape(client)
        assert value(text, "kompanion_business_gauges_up") == 1
        assert value(text, "kompanion_whatsapp_failed_last_hour") == 1
        assert value(text, "kompanion_celery_broker_up") == 0


# --- Multi-process mode ------------------------------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import sys

    import django

    django.setup()
    from core import metrics

    if sys.argv[1] == "write":
        metrics.webhook_verdict("midtrans", "forged")
        metrics.CELERY_TASKS.labels(task="x", event="started").inc(int(sys.argv[2]))
    else:
        sys.stdout.write(metrics.exposition().decode())
    """
)


def run_child(directory: Path, *arguments: str) -> str:
    environment = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
    }
    result = subprocess.run(
        [sys.executable, "-c", CHILD, *arguments],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_multiprocess_mode_adds_up_every_process(tmp_path):
    directory = tmp_path / "metrics"  # not made beforehand: the first process makes it
    run_child(directory, "write", "2")
    run_child(directory, "write", "5")

    text = run_child(directory, "read")

    assert value(text, "kompanion_webhook_verdicts_total", provider="midtrans", verdict="forged") == 2
    assert value(text, "kompanion_celery_tasks_total", task="x", event="started") == 7


def test_gunicorn_config_empties_the_directory_at_start_and_sets_it_for_the_workers(tmp_path):
    directory = tmp_path / "metrics"
    run_child(directory, "write", "1")
    assert list(directory.glob("*.db"))
    script = textwrap.dedent(
        """
        import os, runpy, sys

        config = runpy.run_path("config/gunicorn.py")
        config["on_starting"](None)
        print(os.environ["PROMETHEUS_MULTIPROC_DIR"])
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(directory)
    assert not list(directory.glob("*.db"))
    assert value(run_child(directory, "read"), "kompanion_webhook_verdicts_total") is None


def test_the_production_cache_times_its_calls_and_counts_hits_and_misses(client, monkeypatch):
    """ResilientRedisCache itself (production's cache) feeds the cache metrics: a get that finds its key is a
    hit, one that does not is a miss, and with Redis down the miss and the failure are counted too."""
    from django.core.cache import caches
    from django.test import override_settings

    from tests.resilience.outage import dead_redis_url, production_settings

    live = production_settings(monkeypatch, os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1"))
    dead = production_settings(monkeypatch, dead_redis_url())
    before = registry_samples()
    with override_settings(CACHES={"default": {**live["CACHES"]["default"], "KEY_PREFIX": "metrics-test"}}):
        cache = caches["default"]
        cache.set("seen", 1, 30)
        assert cache.get("seen") == 1 and cache.get("never-set") is None
    with override_settings(CACHES={"default": {**dead["CACHES"]["default"], "KEY_PREFIX": "metrics-test"}}):
        assert caches["default"].get("seen", "fallback") == "fallback"
    after = registry_samples()

    assert grown(before, after, "django_cache_get_hits_total", backend="redis") == 1
    assert grown(before, after, "django_cache_get_misses_total", backend="redis") == 2
    assert grown(before, after, "django_cache_get_fail_total", backend="redis") == 1
    assert grown(before, after, "kompanion_cache_operation_seconds_count", operation="get") == 3
    assert grown(before, after, "kompanion_cache_operation_seconds_count", operation="other") >= 1  # the set
