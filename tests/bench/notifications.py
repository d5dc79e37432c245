"""WhatsApp notifications under load: queued deliveries sent by a real Celery worker through the real
`twilio` client to a fake Twilio, exactly once each.

Setup (bulk, not measured): RECIPIENTS customers with verified, opted-in numbers; N pending WhatsApp
deliveries for them (5,000 by default, bulk-created as notification_record leaves them), each carrying a
marker of its own in its first template variable. A fake Twilio (tests/notifications/fake_twilio.py) runs
in this process on 127.0.0.1; a `celery -A config worker` subprocess (prefork, --concurrency C; settings
tests/bench/worker_settings.py: the bench database, a broker, eager mode off) consumes a private queue on
Redis (BENCH_BROKER_URL, named explicitly for the worker and for the Celery app of the bench's own that
enqueues: never the project's in-process app, whose producer an earlier scenario may have opened) with
WHATSAPP_BACKEND=twilio and TWILIO_API_BASE_URL pointing at the fake.

A warm-up of WARMUP deliveries proves the chain (and that the worker is up) before the measurement. Then
send_delivery_task is enqueued for every delivery (for 20% of them twice, back to back, as the sweep or a
redelivery would: two worker processes race for the row) and the clock runs until every row is "sent": printed as
messages per second (rows marked sent, and as Twilio received them) with the p50/p95 time from enqueue to
Twilio's create. The check: every delivery sent, each marker received by Twilio exactly once (a duplicate
is a message sent twice), each row holding the sid of its own message.

The deliveries are deleted afterwards (the recipients stay, reused by the next run).
"""

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

from tests.bench.load import percentile

DELIVERIES = 5_000
RECIPIENTS = 500
WARMUP = 20
DUPLICATE_TASKS = 0.2  # share of deliveries whose task is enqueued twice, back to back
RECIPIENT_DOMAIN = "whatsapp.bench.kompanion.test"
PHONE_PREFIX = "+62899"  # + 7 digits: E.164, a range the seeder does not use
TEMPLATE_KEY = "booking_requested"
CONTENT_SID = "HX" + "be" * 16
ACCOUNT_SID = "AC" + "bench0" * 5 + "00"
AUTH_TOKEN = "bench-only-twilio-auth-token"  # noqa: S105
SENDER = "+6281100000000"
BASE_DIR = Path(__file__).resolve().parent.parent.parent
READY_TIMEOUT_S = 90


class Broken(Exception):
    pass


def _recipients():
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts.models import Role, User

    emails = [f"whatsapp{index:04d}@{RECIPIENT_DOMAIN}" for index in range(RECIPIENTS)]
    existing = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
    password, now = make_password(None), timezone.now()
    User.objects.bulk_create(
        [
            User(
                email=email,
                full_name=f"Bench WhatsApp {index}",
                role=Role.CUSTOMER,
                password=password,
                phone=f"{PHONE_PREFIX}{index:07d}",
                phone_verified_at=now,
                whatsapp_opt_in=True,
            )
            for index, email in enumerate(emails)
            if email not in existing
        ]
    )
    users = list(User.objects.filter(email__in=emails).order_by("email"))
    User.objects.filter(pk__in=[user.pk for user in users]).update(whatsapp_opt_in=True, phone_verified_at=now)
    return users


def _create_deliveries(users, count: int, tag: str) -> dict[str, int]:
    """`count` pending WhatsApp deliveries; returns marker → delivery id."""
    from notifications.models import Channel, Delivery

    rows = []
    for number in range(count):
        user = users[number % len(users)]
        marker = f"{tag}-{number:05d}"
        variables = {
            "1": marker,
            "2": "Sabtu, 6 Desember 2025 19.00 WIB",
            "3": "Jumat, 5 Desember 2025 19.00 WIB",
            "4": "https://kompanion.id/bookings/BENCH/",
        }
        rows.append(
            Delivery(
                recipient=user,
                channel=Channel.WHATSAPP,
                to=user.phone,
                template_key=TEMPLATE_KEY,
                variables=variables,
                body=f"*Permintaan pemesanan baru*\n{marker} meminta Sabtu 19.00.\nhttps://kompanion.id/bookings/BENCH/",
            )
        )
    created = Delivery.objects.bulk_create(rows, batch_size=1_000)
    return {delivery.variables["1"]: delivery.pk for delivery in created}


def _start_worker(*, broker: str, queue: str, concurrency: int, fake_url: str, log_path: Path) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker",
        "--pool", "prefork",
        "--concurrency", str(concurrency),
        "--queues", queue,
        "--hostname", f"bench-notifications-{queue[-8:]}@%h",
        "--prefetch-multiplier", "1",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
        "--loglevel", "WARNING",
    ]  # fmt: skip
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.bench.worker_settings",  # the bench settings with a broker
        "BENCH_CELERY_BROKER_URL": broker,
        "PYTHONUNBUFFERED": "1",
        "WHATSAPP_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_WHATSAPP_FROM": SENDER,
        "TWILIO_API_BASE_URL": fake_url,
        "TWILIO_WHATSAPP_TEMPLATES": json.dumps({TEMPLATE_KEY: CONTENT_SID}),
        "TWILIO_TIMEOUT_SECONDS": "10",
    }
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command, cwd=BASE_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def _stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is not None:
        return
    os.killpg(worker.pid, signal.SIGTERM)  # warm shutdown: the pool children go with it
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def _print_log_tail(log_path: Path, lines: int = 20) -> None:
    if log_path.exists():
        tail = log_path.read_text(errors="replace").splitlines()[-lines:]
        print("\n".join(f"celery | {line}" for line in tail), file=sys.stderr)


def _sent_count(ids) -> int:
    from notifications.models import Delivery

    return Delivery.objects.filter(pk__in=ids, status=Delivery.Status.SENT).count()


def _wait_all_sent(ids: list[int], worker: subprocess.Popen, *, deadline: float) -> float | None:
    """Polls until every row is sent; returns when (perf_counter), or None at the deadline."""
    while time.perf_counter() < deadline:
        if _sent_count(ids) == len(ids):
            return time.perf_counter()
        if worker.poll() is not None:
            raise Broken(f"the Celery worker exited with status {worker.returncode}")
        time.sleep(0.1)
    return None


def producer_app(broker: str):
    """A Celery app of the bench's own that only sends, to `broker`.

    Not the project's app (config.celery): in this process that one runs tasks in-process, and an earlier
    scenario (e.g. bookings: an eager apply_async borrows a producer) may already have opened its pool on
    the broker-less settings' URL; changing app.conf afterwards does not reach that cached pool, so the
    tasks went to the fallback broker (amqp://localhost, or memory://) and the worker never saw them."""
    from celery import Celery

    app = Celery("kompanion-bench-producer", set_as_current=False)
    app.conf.update(
        broker_url=broker,
        broker_connection_retry_on_startup=False,
        broker_transport_options={"socket_connect_timeout": 3},
        task_serializer="json",
        accept_content=["json"],
    )
    return app


def _enqueue(producer, ids: list[int], queue: str, *, twice: frozenset = frozenset()) -> dict[int, float]:
    """One send_delivery_task per delivery; those in `twice` get a second one right behind it (as the sweep
    or a redelivery would), so two worker processes race for the same row. Returns when each was enqueued."""
    from notifications.tasks import send_delivery_task

    enqueued = {}
    for delivery_id in ids:
        enqueued[delivery_id] = time.monotonic()
        producer.send_task(send_delivery_task.name, args=[delivery_id], queue=queue)
        if delivery_id in twice:
            producer.send_task(send_delivery_task.name, args=[delivery_id], queue=queue)
    return enqueued


def run(
    *,
    deliveries: int = DELIVERIES,
    concurrency: int = 4,
    budget_s: float = 600,
    latency_ms: float = 0,
    duplicate_share: float = DUPLICATE_TASKS,
    seed: int = 2026,
    log_path: Path,
) -> bool:
    """Prints the figures and the check; returns False only if the benchmark broke: the worker did not start,
    some delivery was never sent, or one was sent twice."""
    from django.conf import settings
    from django.db import connections

    from notifications.models import Delivery
    from tests.notifications.fake_twilio import FakeTwilio

    broker = settings.BENCH_BROKER_URL  # named for the worker and the producer alike
    if not broker.startswith(("redis://", "rediss://")):
        print("bench: notifications: BROKEN: needs Redis for the Celery broker (BENCH_BROKER_URL or BENCH_REDIS_URL)")
        return False
    queue = f"kompanion-bench-{uuid.uuid4().hex}"
    tag = uuid.uuid4().hex[:8]
    started = time.perf_counter()
    users = _recipients()
    Delivery.objects.filter(recipient__email__endswith=f"@{RECIPIENT_DOMAIN}").delete()  # an interrupted run's
    warm_markers = _create_deliveries(users, WARMUP, f"warm{tag}")
    markers = _create_deliveries(users, deliveries, tag)
    connections.close_all()
    setup_s = time.perf_counter() - started

    producer = producer_app(broker)
    fake = FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, latency=latency_ms / 1000).start()
    log_path.write_text("")
    worker = _start_worker(broker=broker, queue=queue, concurrency=concurrency, fake_url=fake.url, log_path=log_path)
    print(
        f"\n[notifications: {deliveries:,} WhatsApp deliveries, real Celery worker (prefork x {concurrency}) on "
        f"{broker.split('@')[-1]}, fake Twilio at {fake.url} answering in {latency_ms:g} ms; worker log: {log_path}]"
    )
    print(
        f"setup: {len(users)} recipients with verified numbers, {deliveries:,} + {WARMUP} warm-up pending "
        f"deliveries in {setup_s:.1f} s (not measured)"
    )
    try:
        warm_ids = list(warm_markers.values())
        _enqueue(producer, warm_ids, queue)
        if _wait_all_sent(warm_ids, worker, deadline=time.perf_counter() + READY_TIMEOUT_S) is None:
            raise Broken(
                f"the worker did not send the {WARMUP} warm-up messages within {READY_TIMEOUT_S} s "
                f"({_sent_count(warm_ids)} sent; Twilio received {fake.created_count})"
            )
        received_before = fake.created_count

        ids = list(markers.values())
        twice = frozenset(random.Random(seed).sample(ids, round(len(ids) * duplicate_share)))
        began, began_monotonic = time.perf_counter(), time.monotonic()
        enqueued = _enqueue(producer, ids, queue, twice=twice)
        enqueue_s = time.perf_counter() - began
        finished = _wait_all_sent(ids, worker, deadline=began + budget_s)
        elapsed = (finished or time.perf_counter()) - began
    except Broken as error:
        print(f"bench: notifications: BROKEN: {error}", file=sys.stderr)
        _print_log_tail(log_path)
        return False
    finally:
        _stop_worker(worker)
        fake.stop()
        try:
            with producer.connection_for_write() as connection:
                connection.default_channel.queue_delete(queue)
        finally:
            producer.close()

    # --- Figures ---
    ours = [message for message in fake.messages if (message.content_variables or {}).get("1", "") in markers]
    by_marker = Counter(message.content_variables["1"] for message in ours)
    sent_rows = dict(Delivery.objects.filter(pk__in=ids, status=Delivery.Status.SENT).values_list("pk", "provider_id"))
    attempts = Counter(Delivery.objects.filter(pk__in=ids).values_list("attempts", flat=True))
    statuses = Counter(Delivery.objects.filter(pk__in=ids).values_list("status", flat=True))
    first_seen: dict[str, object] = {}
    for message in ours:
        first_seen.setdefault(message.content_variables["1"], message)
    latencies = [
        (first_seen[marker].received_monotonic - enqueued[delivery_id]) * 1000
        for marker, delivery_id in markers.items()
        if marker in first_seen
    ]
    twilio_span = max((m.received_monotonic for m in ours), default=began_monotonic) - began_monotonic
    rate_rows = len(sent_rows) / elapsed if elapsed else 0.0
    rate_twilio = len(ours) / twilio_span if twilio_span else 0.0
    header = (
        f"{'scenario':<13} {'messages':>8} {'conc':>4} {'msg/s':>7} {'at Twilio/s':>11} {'p50 ms':>8} {'p95 ms':>8}"
    )
    print()
    print("msg/s: rows marked sent per second, from the first enqueue; p50/p95: enqueue → Twilio received the create")
    print(header)
    print("-" * len(header))
    print(
        f"{'notifications':<13} {len(sent_rows):>8} {concurrency:>4} {rate_rows:>7.1f} {rate_twilio:>11.1f} "
        f"{percentile(latencies, 0.5):>8.1f} {percentile(latencies, 0.95):>8.1f}"
    )
    stopped = "" if finished else f" (time budget of {budget_s:.0f} s reached)"
    print(
        f"{len(sent_rows):,} of {deliveries:,} sent in {elapsed:.1f} s{stopped}; {len(ids) + len(twice):,} tasks "
        f"({len(twice):,} deliveries enqueued twice, back to back) enqueued in {enqueue_s:.1f} s; "
        f"rows by status: {', '.join(f'{status} x {count:,}' for status, count in sorted(statuses.items()))}; "
        f"attempts: {', '.join(f'{n} x {count:,}' for n, count in sorted(attempts.items()))}"
    )

    # --- Check ---
    duplicates = sum(count - 1 for count in by_marker.values() if count > 1)
    never_sent = deliveries - len(sent_rows)
    sid_by_marker = {marker: message.sid for marker, message in first_seen.items()}
    wrong_sid = sum(
        1
        for marker, delivery_id in markers.items()
        if delivery_id in sent_rows and sent_rows[delivery_id] != sid_by_marker.get(marker)
    )
    strays = fake.created_count - received_before - len(ours)
    checks = [
        (never_sent == 0, f"every delivery sent: {len(sent_rows):,} of {deliveries:,} ({never_sent:,} never sent)"),
        (duplicates == 0, f"no message sent twice: {duplicates:,} duplicates at Twilio"),
        (len(by_marker) == len(sent_rows), f"Twilio received {len(by_marker):,} distinct deliveries"),
        (wrong_sid == 0, f"each row holds the sid of its own message: {wrong_sid:,} wrong"),
        (strays == 0, f"nothing else reached Twilio: {strays:,} unexpected messages"),
    ]
    print("\ncheck:")
    for passed, line in checks:
        print(f"  {'ok    ' if passed else 'FAILED'} {line}")
    if duplicates:
        print(f"\nbench: notifications: !!! {duplicates:,} DUPLICATE WHATSAPP MESSAGES !!!", file=sys.stderr)
        for marker, count in [(m, c) for m, c in by_marker.items() if c > 1][:5]:
            print(f"bench:   {marker} received {count} times", file=sys.stderr)

    Delivery.objects.filter(pk__in=[*ids, *warm_ids]).delete()
    return all(passed for passed, _ in checks)
