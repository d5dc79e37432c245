"""Benchmark for issue 15: the purge of 1,000 accounts in one run of the job.

Seeds N accounts whose deletion's grace period is over (customers, each with a few completed bookings with
20 companions, a conversation per booking with messages both ways, notifications with email deliveries,
consent records and a verified email address) by bulk inserts, then runs `privacy.deletion.purge_due`
once and prints the seconds, the queries per person and the peak memory (the rise of the peak RSS during
the run; the kernel's peak is reset first), and checks that every one was purged: each deletion marked
purged and journalled, and none of their emails, names or phone numbers left in any text or JSON column.

    .venv/bin/python -m tests.bench.privacy_purge [--accounts 1000] [--bookings 3] [--messages 4]

Against BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/kompanion_bench_privacy_purge; the
name must contain "bench"), created and migrated if missing. Each run seeds a new batch (tagged), so the
database grows by one batch per run; `--reseed` starts from an empty database.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import secrets
import time
from datetime import timedelta

from tests.bench.memory import reset_peak_rss, rss_kb
from tests.bench.rows import completed_booking

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/kompanion_bench_privacy_purge"


def seed(*, accounts: int, bookings: int, messages: int, tag: str):
    from allauth.account.models import EmailAddress
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import ConsentRecord, User
    from bookings.models import Booking
    from chat.models import Conversation, Message
    from companions.models import Activity, CompanionProfile
    from notifications.models import Delivery, Notification
    from privacy.models import DeletionRequest
    from tests.companions.helpers import listed_companion

    now = timezone.now()
    password = make_password("bench-password-123")
    activity = Activity.objects.get(slug="hangout")
    with transaction.atomic():
        companions = list(CompanionProfile.objects.filter(display_name__startswith="Teman").order_by("pk")[:20])
        if len(companions) < 20:  # the other parties, made once and kept (they are not purged)
            companions = [listed_companion(name=f"Teman{index}") for index in range(20)]
        people = User.objects.bulk_create(
            User(
                email=f"person{index}.{tag}@purge.bench.kompanion.test",
                full_name=f"Purnama{tag} Lestari{index}",
                phone=f"+62813{index:08d}",
                password=password,
                is_active=False,
                role="customer",
            )
            for index in range(accounts)
        )
        EmailAddress.objects.bulk_create(
            EmailAddress(user=person, email=person.email, verified=True, primary=True) for person in people
        )
        ConsentRecord.objects.bulk_create(
            ConsentRecord(user=person, document=document, version="1", ip_address="10.0.0.1", user_agent="Bench")
            for person in people
            for document in ("terms", "privacy")
        )
        rows = []
        for index, person in enumerate(people):
            for number in range(bookings):
                companion = companions[(index + number) % len(companions)]
                start = now - timedelta(days=30 + index % 300, hours=number * 5)
                rows.append(
                    completed_booking(
                        customer=person,
                        companion=companion,
                        start=start,
                        activity=activity,
                        note=f"Halo, aku {person.full_name}, WA {person.phone}",
                    )
                )
        booked = Booking.objects.bulk_create(rows)
        conversations = Conversation.objects.bulk_create(
            Conversation(booking=booking, customer_id=booking.customer_id, companion_id=booking.companion.user_id)
            for booking in booked
        )
        by_id = {person.pk: person for person in people}
        Message.objects.bulk_create(
            Message(
                conversation=conversation,
                sender_id=conversation.customer_id if number % 2 == 0 else conversation.companion_id,
                text=(
                    f"Aku {by_id[conversation.customer_id].full_name}, nomorku {by_id[conversation.customer_id].phone}"
                    if number % 2 == 0
                    else f"Siap {by_id[conversation.customer_id].full_name.split()[0]}, sampai ketemu!"
                ),
            )
            for conversation in conversations
            for number in range(messages)
        )
        notifications = Notification.objects.bulk_create(
            Notification(
                recipient=booking.customer, event="booking_completed", context={"reference": booking.reference}
            )
            for booking in booked
        )
        Delivery.objects.bulk_create(
            Delivery(
                notification=notification,
                recipient_id=notification.recipient_id,
                channel="email",
                to=by_id[notification.recipient_id].email,
                template_key="booking_completed",
                subject="Booking selesai",
                body=f"Halo {by_id[notification.recipient_id].full_name}",
                status="sent",
            )
            for notification in notifications
        )
        DeletionRequest.objects.bulk_create(
            DeletionRequest(user=person, requested_at=now - timedelta(days=15), purge_after=now - timedelta(days=1))
            for person in people
        )
    return people


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--bookings", type=int, default=3)
    parser.add_argument("--messages", type=int, default=4)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--statements", action="store_true", help="time each SQL statement (slower)")
    options = parser.parse_args()
    os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_URL)

    from tests.bench import seed as bench_seed

    bench_seed.configure_django()
    bench_seed.ensure_database(recreate=options.reseed)
    bench_seed.migrate()

    from django.db import connection
    from django.utils import timezone

    from privacy import deletion
    from privacy.models import DeletionRequest, DeletionStatus, PurgeRecord
    from tests.privacy.scan import database_hits

    due_before = DeletionRequest.objects.filter(status=DeletionStatus.SCHEDULED).count()
    if due_before:
        print(f"bench: {due_before} deletions already due in the database; they are purged in this run too")
    tag = secrets.token_hex(3)
    started = time.perf_counter()
    people = seed(accounts=options.accounts, bookings=options.bookings, messages=options.messages, tag=tag)
    print(
        f"seeded {len(people)} accounts due for purge ({options.bookings} bookings, {options.bookings} "
        f"conversations of {options.messages} messages, {options.bookings} notifications and deliveries each) "
        f"in {time.perf_counter() - started:.1f} s"
    )

    queries = 0
    by_statement: dict[str, list[float]] = {}

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        if not options.statements:
            return execute(sql, params, many, context)
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            key = re.sub(r"\d+", "N", sql)[:160]
            by_statement.setdefault(key, []).append(time.perf_counter() - began)

    connection.close()  # a fresh connection, as a worker's task has
    rss_before = rss_kb("VmRSS")
    reset = reset_peak_rss()
    started = time.perf_counter()
    with connection.execute_wrapper(count):
        outcome = deletion.purge_due(timezone.now())
    seconds = time.perf_counter() - started
    peak = rss_kb("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    purged = outcome.purged
    print(f"purge_due: {purged} purged, {outcome.skipped} skipped, {outcome.failed} failed")
    print(f"  {seconds:.2f} s in all, {seconds / max(purged, 1) * 1000:.1f} ms per person")
    print(f"  {queries} queries, {queries / max(purged, 1):.1f} per person")
    note = "" if reset else " (the process's peak: clear_refs unavailable)"
    print(f"  peak memory: RSS {rss_before / 1024:.0f} MB before, {peak / 1024:.0f} MB at the peak{note}")

    if options.statements:
        print("  time by statement (top 12):")
        for key, times in sorted(by_statement.items(), key=lambda item: -sum(item[1]))[:12]:
            print(f"    {sum(times):7.2f} s {len(times):6d}x  {key}")

    ids = [person.pk for person in people]
    problems = []
    if DeletionRequest.objects.filter(user_id__in=ids, status=DeletionStatus.PURGED).count() != len(ids):
        problems.append("not every deletion is marked purged")
    if PurgeRecord.objects.filter(user_id__in=ids).count() != len(ids):
        problems.append("not every purge is journalled")
    sample = people[:: max(len(people) // 5, 1)][:5]
    needles = [tag]
    for person in sample:
        needles += [person.email, person.phone, person.phone.replace("+62", "0")]
    hits = database_hits(needles)
    if hits:
        problems.append(f"left in the database: {hits[:10]}")
    print("check: every account purged, nothing of theirs left" if not problems else "PROBLEMS: " + "; ".join(problems))


if __name__ == "__main__":
    main()
