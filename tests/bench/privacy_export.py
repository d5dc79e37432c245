"""Benchmark for issue 15: "export my data" for a person with 500 bookings and 10,000 messages.

Seeds a customer (bulk inserts, a few seconds) with --bookings completed bookings spread over 20 companions,
each with its events, a conversation of --messages / --bookings messages both ways, a payment, and a
notification with an email delivery; then builds their export as the Celery task does (privacy.export.build:
every declared kind streamed into the ZIP on a temporary file, saved to private storage) and prints the
seconds, the queries, the peak memory (the rise of the peak RSS during the build; then a second build with
tracemalloc for Python's own peak) and the ZIP's size. A person a fifth that size is measured the same way,
so the memory figures show whether they grow with the data. Checks the archive: every kind, the counts.

    .venv/bin/python -m tests.bench.privacy_export [--bookings 500] [--messages 10000]

Against BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/kompanion_bench_privacy; the name
must contain "bench"), created and migrated if missing. Each run seeds new people (tagged)."""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import secrets
import time
import tracemalloc
import zipfile
from datetime import timedelta

from tests.bench.memory import reset_peak_rss, rss_kb
from tests.bench.rows import completed_booking

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/kompanion_bench_privacy"


def seed(*, bookings: int, messages: int, tag: str):
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import ConsentRecord, User
    from bookings.models import Booking, BookingEvent, BookingStatus
    from chat.models import Conversation, Message
    from companions.models import Activity, CompanionProfile
    from notifications.models import Delivery, Notification
    from payments.models import Payment
    from tests.companions.helpers import listed_companion

    now = timezone.now()
    activity = Activity.objects.get(slug="hangout")
    per_booking = max(messages // bookings, 1)
    with transaction.atomic():
        companions = list(CompanionProfile.objects.filter(display_name__startswith="Ekspor").order_by("pk")[:20])
        if len(companions) < 20:  # the other parties, made once and kept
            companions = [listed_companion(name=f"Ekspor{index}") for index in range(20)]
        person = User.objects.create(
            email=f"export.{tag}@export.bench.kompanion.test",
            full_name=f"Ekspor {tag} Lestari",
            phone="+6281300000000",
            password=make_password("bench-password-123"),
            role="customer",
        )
        ConsentRecord.objects.bulk_create(
            ConsentRecord(user=person, document=document, version="1", ip_address="10.0.0.1", user_agent="Bench")
            for document in ("terms", "privacy")
        )
        rows = []
        for index in range(bookings):
            start = now - timedelta(days=30 + index, hours=index % 7)
            rows.append(
                completed_booking(
                    customer=person,
                    companion=companions[index % len(companions)],
                    start=start,
                    activity=activity,
                    note="Ngopi santai lalu jalan sore.",
                )
            )
        booked = Booking.objects.bulk_create(rows)
        BookingEvent.objects.bulk_create(
            BookingEvent(booking=booking, actor=actor, from_status=old, to_status=new, created_at=booking.created_at)
            for booking in booked
            for actor, old, new in (
                (person, "", BookingStatus.REQUESTED),
                (booking.companion.user, BookingStatus.REQUESTED, BookingStatus.AWAITING_PAYMENT),
                (None, BookingStatus.CONFIRMED, BookingStatus.COMPLETED),
            )
        )
        Payment.objects.bulk_create(
            Payment(booking=booking, order_id=f"{booking.reference}-1", amount=booking.total, status="paid")
            for booking in booked
        )
        conversations = Conversation.objects.bulk_create(
            Conversation(booking=booking, customer_id=person.pk, companion_id=booking.companion.user_id)
            for booking in booked
        )
        texts = (
            "Halo kak, jadi ketemu di kafe yang di pusat kota ya? Aku sampai sekitar jam 7 malam.",
            "Siap, nanti aku pakai baju biru biar gampang dikenali. Kalau hujan kita pindah ke dalam mall.",
        )
        Message.objects.bulk_create(
            (
                Message(
                    conversation=conversation,
                    sender_id=person.pk if number % 2 == 0 else conversation.companion_id,
                    text=texts[number % 2],
                    created_at=now - timedelta(days=30, minutes=number),
                )
                for conversation in conversations
                for number in range(per_booking)
            ),
            batch_size=2000,
        )
        notifications = Notification.objects.bulk_create(
            Notification(recipient=person, event="booking_completed", context={"reference": booking.reference})
            for booking in booked
        )
        Delivery.objects.bulk_create(
            Delivery(
                notification=notification,
                recipient=person,
                channel="email",
                to=person.email,
                template_key="booking_completed",
                subject="Booking completed",
                body=f"{notification.context['reference']} is complete.",
                status="sent",
            )
            for notification in notifications
        )
    return person


def build_once(person, *, trace: bool) -> dict:
    from django.db import connection
    from django.utils import timezone

    from core import crypto
    from privacy import export
    from privacy.models import ExportRequest

    row = ExportRequest.objects.create(user=person, token_hash=crypto.fingerprint(secrets.token_hex(16)))
    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    connection.close()  # a fresh connection, as a worker's task has
    rss_before = rss_kb("VmRSS")
    reset = reset_peak_rss()
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    with connection.execute_wrapper(count):
        outcome = export.build(row.pk, timezone.now())
    seconds = time.perf_counter() - started
    traced = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.stop()
    peak = rss_kb("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    row.refresh_from_db()
    with row.file.storage.open(row.file.name, "rb") as file:
        archive = zipfile.ZipFile(io.BytesIO(file.read()))
    data = json.loads(archive.read("data.json"))
    figures = {
        "outcome": outcome,
        "seconds": seconds,
        "queries": queries,
        "rss_before_mb": rss_before / 1024,
        "rss_rise_mb": (peak - rss_before) / 1024,
        "rss_exact": reset,
        "tracemalloc_peak_mb": traced / 1024 / 1024,
        "zip_bytes": row.size,
        "data_json_bytes": archive.getinfo("data.json").file_size,
        "index_html_bytes": archive.getinfo("index.html").file_size,
        "counts": data["manifest"]["counts"],
    }
    row.file.storage.delete(row.file.name)
    ExportRequest.objects.filter(pk=row.pk).delete()
    return figures


def report(label: str, figures: dict, traced: dict) -> None:
    mb = 1024 * 1024
    exact = "" if figures["rss_exact"] else " (process peak: clear_refs unavailable)"
    counts = figures["counts"]
    print(f"{label}:")
    print(f"  build: {figures['seconds']:.2f} s, {figures['queries']} queries ({figures['outcome']})")
    print(
        f"  memory: RSS {figures['rss_before_mb']:.0f} MB before, peak rise +{figures['rss_rise_mb']:.1f} MB{exact}; "
        f"tracemalloc peak {traced['tracemalloc_peak_mb']:.1f} MB (a second build, {traced['seconds']:.2f} s traced)"
    )
    print(
        f"  ZIP {figures['zip_bytes'] / mb:.2f} MB (data.json {figures['data_json_bytes'] / mb:.1f} MB, "
        f"index.html {figures['index_html_bytes'] / mb:.1f} MB uncompressed)"
    )
    print(
        f"  rows: {counts['bookings']} bookings, {counts['messages']} messages, {counts['payments']} payments, "
        f"{counts['notifications']} notifications, {counts['deliveries']} deliveries, {len(counts)} kinds"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bookings", type=int, default=500)
    parser.add_argument("--messages", type=int, default=10_000)
    options = parser.parse_args()
    os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_URL)

    from tests.bench import seed as bench_seed

    bench_seed.configure_django()
    bench_seed.ensure_database(recreate=False)
    bench_seed.migrate()

    from core import personal_data

    problems = []
    for label, bookings, messages in (
        ("a fifth", options.bookings // 5, options.messages // 5),
        ("the person", options.bookings, options.messages),
    ):
        tag = secrets.token_hex(3)
        started = time.perf_counter()
        person = seed(bookings=bookings, messages=messages, tag=tag)
        print(f"seeded {label}: {bookings} bookings, {messages} messages in {time.perf_counter() - started:.1f} s")
        figures = build_once(person, trace=False)
        traced = build_once(person, trace=True)
        report(f"export of {label} ({bookings} bookings, {messages} messages)", figures, traced)
        kinds = {declaration.kind for declaration in personal_data.declarations()}
        counts = figures["counts"]
        if set(counts) != kinds:
            problems.append(f"kinds missing: {sorted(kinds - set(counts))}")
        if counts["bookings"] != bookings or counts["messages"] != (messages // bookings) * bookings:
            problems.append(f"{label}: counts differ from the seed: {counts['bookings']}, {counts['messages']}")
    print("check: every kind, every booking and message" if not problems else "PROBLEMS: " + "; ".join(problems))


if __name__ == "__main__":
    main()
