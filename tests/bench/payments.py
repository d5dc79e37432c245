"""Midtrans notifications under load: signed JSON posted over HTTP to the gunicorn-served webhook
(/webhooks/midtrans/), into PostgreSQL, then a correctness check of what they did.

Setup (bulk, not measured): N bookings awaiting payment, each with one payment attempt
(payments.services.payment_create). For every order a "pending" (status_code 201) then a "settlement"
(200), signed with the bench MIDTRANS_SERVER_KEY. Of the notifications sent (10,000 by default):

* 30% are duplicates: byte-identical re-deliveries, half of them at the same moment as the original
  (adjacent in the queue, so two server threads race for the same payment) and half later;
* 10% are out of order: the order's "pending" delivered after its "settlement".

Delivery runs in waves (wave k carries every order's k-th delivery, orders shuffled), so what each
notification must do is known in advance: the first pending and the settlement are applied, duplicates
are recorded "duplicate", late pendings "stale". Throughput and latency are measured over all waves.
A notification the webhook refuses with 429 (its rate limiter, under load) or defers with 503 (a row lock
not had within LOCK_TIMEOUT_MS: "database busy", so Midtrans retries) is reported, not re-sent, and the check
expects it to have changed nothing; any other answer than 200, 429 or 503 breaks the run.

Then the check: the ledger balances, every booking whose settlement arrived is confirmed once, each
payment applied exactly once per status and settled by exactly one payment_settled journal, escrow
holds exactly the booking's amount, every notification is recorded once with the expected verdict.
A failed check means the benchmark is broken (run.py exits non-zero), whatever the figures.

The ledger is append-only (a PostgreSQL trigger refuses DELETE and UPDATE of journals and entries), so
the bookings, payments, notifications and journals stay in the bench database, as they would in
production: about 3,500 bookings, 10,000 notification rows and 3,500 journals per run. Each run books a
later stretch of time (from 40 days ahead, after the previous run's bookings), far from the days the
search, profile and booking scenarios look at. `--reseed` starts the bench database over.
"""

import http.client
import itertools
import json
import random
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from tests.bench.load import HEADERS, SERVER_TIMING, Result, Sample, percentile, run_items

WEBHOOK = "/webhooks/midtrans/"
NOTIFICATIONS = 10_000
DUPLICATE_SHARE = 0.30
OUT_OF_ORDER_SHARE = 0.10
CONCURRENT_DUPLICATE_SHARE = 0.5  # duplicates sent alongside their original rather than later
PAYERS = 100  # customers; each pays for N/100 bookings at different times
PAYER_DOMAIN = "payers.bench.kompanion.test"
SLOT_SPACING = timedelta(hours=6)  # between one customer's bookings: 2 h + any buffer, never overlapping
FIRST_START = timedelta(days=40)  # far from the booking scenario's slots (days 2–8)
PAY_WITHIN = timedelta(hours=2)  # payment deadline from setup; the run takes minutes
WARMUP_ORDER_PREFIX = "BENCH-WARMUP-"
POST_HEADERS = {**HEADERS, "Content-Type": "application/json", "User-Agent": "Veritrans"}

FIRST, DUPLICATE, LATE = "first", "duplicate", "late"  # delivery kinds
# The moves these notifications may make (../shared/INTEGRATIONS.md), written out here rather than taken
# from payments.midtrans_rules, so that the check does not trust the code it checks.
LEGAL_MOVES = {("", "pending"), ("", "settlement"), ("pending", "settlement")}


@dataclass(frozen=True)
class Order:
    booking_id: int
    reference: str
    order_id: str
    amount: int


@dataclass(frozen=True)
class Delivery:
    order: int  # index into the orders
    status: str  # "pending" or "settlement"
    kind: str  # FIRST, DUPLICATE (same body again) or LATE (pending after its settlement)
    wave: int = -1  # set by plan(): copies of one order in one wave are the same notification, sent at once


@dataclass
class Posted(Sample):
    verdict: str = ""  # from the webhook's JSON answer


# --- The plan -------------------------------------------------------------------------------------------


def plan(*, total: int, rng: random.Random) -> tuple[int, list[list[Delivery]]]:
    """(order count, waves). Each order's deliveries are grouped into steps; a step's copies are the same
    notification sent at once (they race), and step k of every order goes into wave k."""
    duplicates = round(total * DUPLICATE_SHARE)
    duplicates += (total - duplicates) % 2  # the rest is pairs: one pending and one settlement per order
    orders = (total - duplicates) // 2
    late = round(total * OUT_OF_ORDER_SHARE)
    if orders < 1 or late > orders:
        raise ValueError(f"{total} notifications leave too few orders for the mix")
    swapped = set(rng.sample(range(orders), late))
    steps: dict[int, list[list[Delivery]]] = {}
    for order in range(orders):
        if order in swapped:  # settlement first; its pending arrives afterwards
            steps[order] = [[Delivery(order, "settlement", FIRST)], [Delivery(order, "pending", LATE)]]
        else:
            steps[order] = [[Delivery(order, "pending", FIRST)], [Delivery(order, "settlement", FIRST)]]
    # Duplicates spread evenly: every order gets ⌊d/n⌋ or ⌈d/n⌉ of them. A late pending is never repeated,
    # so that "duplicate" and "out of order" stay separate counts.
    targets = list(range(orders))
    rng.shuffle(targets)
    for number in range(duplicates):
        order = targets[number % orders]
        status = "settlement" if order in swapped else rng.choice(("pending", "settlement"))
        groups = steps[order]
        position = next(i for i, group in enumerate(groups) if group[0] == Delivery(order, status, FIRST))
        copy = Delivery(order, status, DUPLICATE)
        if rng.random() < CONCURRENT_DUPLICATE_SHARE:
            groups[position].append(copy)
        else:
            groups.insert(position + 1, [copy])  # after the original, before the next status
    waves: list[list[Delivery]] = []
    for wave in itertools.count():
        groups = [steps[order][wave] for order in range(orders) if wave < len(steps[order])]
        if not groups:
            break
        rng.shuffle(groups)
        waves.append([replace(delivery, wave=wave) for group in groups for delivery in group])
    return orders, waves


def notification_body(order: Order, status: str, *, server_key: str) -> bytes:
    """What Midtrans posts for a bank-transfer (virtual account) payment, signed."""
    from payments.midtrans_rules import signature

    status_code = "201" if status == "pending" else "200"
    gross_amount = f"{order.amount}.00"
    payload = {
        "va_numbers": [{"va_number": f"{order.booking_id:011d}", "bank": "bca"}],
        "transaction_time": "2026-11-20 10:00:00",
        "transaction_status": status,
        "transaction_id": f"bench-{order.booking_id:08d}-0000-0000-000000000000",
        "status_message": "midtrans payment notification",
        "status_code": status_code,
        "signature_key": signature(
            order_id=order.order_id, status_code=status_code, gross_amount=gross_amount, server_key=server_key
        ),
        "payment_type": "bank_transfer",
        "order_id": order.order_id,
        "merchant_id": "G000000000",
        "gross_amount": gross_amount,
        "fraud_status": "accept",
        "currency": "IDR",
        "expiry_time": "2026-11-20 11:00:00",
    }
    if status == "settlement":
        payload["settlement_time"] = "2026-11-20 10:05:00"
    return json.dumps(payload).encode()


# --- Setup ---------------------------------------------------------------------------------------------------


def _payers():
    from django.contrib.auth.hashers import make_password

    from accounts.models import Role, User

    password = make_password(None)
    payers = []
    for index in range(PAYERS):
        user, _ = User.objects.get_or_create(
            email=f"payer{index:03d}@{PAYER_DOMAIN}",
            defaults={"full_name": f"Bench Payer {index}", "role": Role.CUSTOMER, "password": password},
        )
        payers.append(user)
    return payers


def forget_warmup() -> None:
    """The warm-up's notifications (unknown orders: no payment, no ledger) are not kept."""
    from payments.models import PaymentNotification

    PaymentNotification.objects.filter(order_id__startswith=WARMUP_ORDER_PREFIX, payment=None).delete()


def first_start(payers, now):
    """Where this run's bookings begin: FIRST_START ahead, and after every booking of an earlier run (those
    stay: the ledger is append-only), so that no companion's or customer's times overlap."""
    from django.db.models import Max

    from bookings.models import Booking

    start = now + FIRST_START
    latest = Booking.objects.filter(customer__in=payers).aggregate(latest=Max("hold_until"))["latest"]
    if latest is not None:
        start = max(start, latest + timedelta(hours=1))
    return start.replace(minute=0, second=0, microsecond=0)


def create_orders(payers, count: int) -> list[Order]:
    """`count` bookings awaiting payment (bulk insert), each with one attempt from payment_create. Distinct
    companions; one customer's bookings SLOT_SPACING apart, so no exclusion constraint is touched."""
    from django.db import transaction
    from django.utils import timezone

    from bookings import services as booking_services
    from bookings.models import Booking, BookingStatus
    from companions.models import CompanionProfile
    from payments.services import payment_create

    now = timezone.now()
    # From the far end of the table: the booking scenario takes the first companions.
    profiles = list(
        CompanionProfile.objects.filter(activities__isnull=False)
        .distinct()
        .order_by("-pk")
        .only("pk", "hourly_rate", "buffer_minutes")[:count]
    )
    if len(profiles) < count:
        raise ValueError(f"{count} orders need as many companions; the bench database has {len(profiles)}")
    ActivityLink = CompanionProfile.activities.through
    activity_of = dict(
        ActivityLink.objects.filter(companionprofile_id__in=[profile.pk for profile in profiles])
        .order_by("companionprofile_id", "activity_id")
        .distinct("companionprofile_id")
        .values_list("companionprofile_id", "activity_id")
    )
    begin = first_start(payers, now)
    bookings = []
    for index, profile in enumerate(profiles):
        start = begin + SLOT_SPACING * (index // len(payers))
        end = start + timedelta(hours=2)
        price = booking_services.booking_quote(profile=profile, hours=2)
        bookings.append(
            Booking(
                customer=payers[index % len(payers)],
                companion_id=profile.pk,
                start=start,
                end=end,
                hold_until=end + timedelta(minutes=profile.buffer_minutes),
                activity_id=activity_of[profile.pk],
                meeting_place="Bench café, ground floor",
                status=BookingStatus.AWAITING_PAYMENT,
                hourly_rate=price.hourly_rate,
                hours=price.hours,
                subtotal=price.subtotal,
                service_fee=price.service_fee,
                discount=price.discount,
                total=price.total,
                commission_basis_points=price.commission_basis_points,
                commission=price.commission,
                companion_earnings=price.companion_earnings,
                response_deadline=min(now + booking_services.RESPONSE_WINDOW, start - timedelta(hours=2)),
                payment_deadline=now + PAY_WITHIN,
                accepted_at=now,
                complete_after=end + booking_services.DISPUTE_WINDOW,
                created_at=now,
            )
        )
    with transaction.atomic():
        Booking.objects.bulk_create(bookings, batch_size=1_000)
        payments = [payment_create(booking=booking) for booking in bookings]
    return [
        Order(booking_id=booking.pk, reference=booking.reference, order_id=payment.order_id, amount=payment.amount)
        for booking, payment in zip(bookings, payments, strict=True)
    ]


# --- Load ---------------------------------------------------------------------------------------------


def post(connection: http.client.HTTPConnection, label: str, body: bytes) -> Posted:
    started = time.perf_counter()
    connection.request("POST", WEBHOOK, body=body, headers=POST_HEADERS)
    response = connection.getresponse()
    answer = response.read()
    client_ms = (time.perf_counter() - started) * 1000
    timing = SERVER_TIMING.search(response.getheader("Server-Timing", ""))
    queries = response.getheader("X-Query-Count")
    try:
        verdict = str(json.loads(answer).get("verdict") or "")
    except (ValueError, AttributeError):
        verdict = ""
    return Posted(
        path=label,
        status=response.status,
        client_ms=client_ms,
        server_ms=float(timing.group(1)) if timing else None,
        queries=int(queries) if queries is not None else None,
        verdict=verdict,
    )


def post_load(*, port: int, requests: Sequence[tuple[str, bytes]], concurrency: int, deadline: float) -> Result:
    """load.run_load for POSTs: each (label, body) posted once, in order, until `deadline`."""
    return run_items(
        port=port,
        items=requests,
        send=lambda connection, request: post(connection, *request),
        describe=lambda request: request[0],
        concurrency=concurrency,
        deadline=deadline,
        thread_name="bench-webhook",
    )


# --- The check ----------------------------------------------------------------------------------------


def expected_verdicts(answered: list[tuple[Delivery, Posted]]) -> dict[int, Counter]:
    """Per order, Counter of (status, verdict) the answered notifications must have been recorded with:
    replayed wave by wave. With every notification answered that is: first pending and settlement
    "applied", duplicates "duplicate", late pendings "stale"; a refused one (429) changes what its copies
    get (e.g. the duplicate of a refused pending is the one applied)."""
    copies: dict[tuple[int, int], list[str]] = defaultdict(list)
    for delivery, _sample in answered:
        copies[(delivery.order, delivery.wave)].append(delivery.status)
    expected: dict[int, Counter] = defaultdict(Counter)
    state: dict[int, str] = defaultdict(str)  # the last status applied, per order
    for order, wave in sorted(copies):
        statuses = copies[(order, wave)]
        status = statuses[0]  # one status per order and wave (plan)
        if status == state[order]:
            first = "duplicate"
        elif (state[order], status) in LEGAL_MOVES:
            first, state[order] = "applied", status
        else:
            first = "stale"
        expected[order][(status, first)] += 1
        if len(statuses) > 1:  # the copies raced; whichever lost saw the winner's result
            expected[order][(status, "stale" if first == "stale" else "duplicate")] += len(statuses) - 1
    return expected


def check(orders: list[Order], delivered: list[tuple[Delivery, Posted]]) -> list[tuple[bool, str]]:
    """(passed, line) for every property the notifications must leave behind."""
    from django.db.models import Count, Q, Sum

    from bookings.models import Booking, BookingEvent, BookingStatus
    from payments import ledger
    from payments.models import Entry, Journal, Payment, PaymentNotification

    lines: list[tuple[bool, str]] = []
    booking_ids = [order.booking_id for order in orders]
    order_ids = {order.order_id: index for index, order in enumerate(orders)}
    answered = [(delivery, sample) for delivery, sample in delivered if sample.status == 200]
    settled = sorted({d.order for d, _ in answered if d.status == "settlement"})
    settled_bookings = {orders[index].booking_id for index in settled}

    unbalanced = ledger.unbalanced_journals()
    lines.append(
        (not unbalanced, f"ledger balanced: {len(unbalanced)} unbalanced journals {unbalanced[:3] or ''}".strip())
    )

    statuses = dict(Booking.objects.filter(pk__in=booking_ids).values_list("pk", "status"))
    not_confirmed = [pk for pk in settled_bookings if statuses.get(pk) != BookingStatus.CONFIRMED]
    lines.append(
        (
            not not_confirmed,
            f"bookings whose settlement was delivered that are confirmed: "
            f"{len(settled_bookings) - len(not_confirmed):,} of {len(settled_bookings):,}"
            + (f" (e.g. booking {not_confirmed[:3]} is {statuses.get(not_confirmed[0])})" if not_confirmed else ""),
        )
    )
    unsettled = [pk for pk in booking_ids if pk not in settled_bookings]
    if unsettled:  # only when the time budget cut the run short
        moved = [pk for pk in unsettled if statuses.get(pk) != BookingStatus.AWAITING_PAYMENT]
        lines.append(
            (
                not moved,
                f"bookings without a delivered settlement still awaiting payment: "
                f"{len(unsettled) - len(moved):,} of {len(unsettled):,}",
            )
        )
    confirmations = Counter(
        BookingEvent.objects.filter(booking_id__in=booking_ids, to_status=BookingStatus.CONFIRMED).values_list(
            "booking_id", flat=True
        )
    )
    twice = [pk for pk, count in confirmations.items() if count > 1]
    lines.append((not twice, f"bookings confirmed more than once (booking events): {len(twice)}"))

    paid = dict(
        Payment.objects.filter(order_id__in=order_ids, status=Payment.Status.PAID, provider_status="settlement")
        .exclude(paid_at=None)
        .values_list("order_id", "booking_id")
    )
    missing_paid = [orders[index].order_id for index in settled if orders[index].order_id not in paid]
    lines.append(
        (
            not missing_paid and len(paid) == len(settled),
            f"payments paid (status paid, provider status settlement): {len(paid):,}, settlements delivered for "
            f"{len(settled):,}" + (f"; not paid: {missing_paid[:3]}" if missing_paid else ""),
        )
    )

    applied = Counter(
        PaymentNotification.objects.filter(order_id__in=order_ids, verdict="applied").values_list(
            "order_id", "transaction_status"
        )
    )
    per_payment = Counter()
    for (order_id, _status), count in applied.items():
        per_payment[order_id] += count
    twice_applied = [key for key, count in applied.items() if count > 1]
    over_two = [order_id for order_id, count in per_payment.items() if count > 2]
    settlement_once = sum(1 for index in settled if applied[(orders[index].order_id, "settlement")] == 1)
    lines.append(
        (
            not twice_applied and not over_two and settlement_once == len(settled),
            f"each payment applied once per status (pending + settlement ≤ 2): {len(twice_applied)} statuses applied "
            f"twice, {len(over_two)} payments over 2; settlement applied exactly once for {settlement_once:,} of "
            f"{len(settled):,}",
        )
    )

    references = [f"payment:{orders[index].order_id}:settled" for index in settled]
    settled_journals = Journal.objects.filter(kind="payment_settled", reference__in=references).count()
    journals_per_booking = Counter(
        Entry.objects.filter(account__booking_id__in=booking_ids).values_list("account__booking_id", flat=True)
    )
    extra_journals = [pk for pk, count in journals_per_booking.items() if count != 1 or pk not in settled_bookings]
    lines.append(
        (
            settled_journals == len(settled) and not extra_journals,
            f"payment_settled journals: {settled_journals:,} for {len(settled):,} paid orders; escrow accounts with "
            f"other than one entry: {len(extra_journals)}",
        )
    )

    escrow = dict(
        Entry.objects.filter(account__booking_id__in=booking_ids)
        .values("account__booking_id")
        .annotate(total=Sum("amount"))
        .values_list("account__booking_id", "total")
    )
    wrong_escrow = [
        order.order_id
        for order in orders
        if -(escrow.get(order.booking_id) or 0) != (order.amount if order.booking_id in settled_bookings else 0)
    ]
    lines.append(
        (
            not wrong_escrow,
            f"escrow balance equals the booking's amount (0 if unpaid): {len(orders) - len(wrong_escrow):,} of "
            f"{len(orders):,}; held in escrow Rp {-sum(escrow.values()):,}"
            + (f"; wrong: {wrong_escrow[:3]}" if wrong_escrow else ""),
        )
    )

    recorded = list(
        PaymentNotification.objects.filter(order_id__in=order_ids).values_list(
            "order_id", "transaction_status", "verdict", "source"
        )
    )
    not_webhook = sum(1 for *_rest, source in recorded if source != "webhook")
    lines.append(
        (
            len(recorded) == len(answered) and not not_webhook,
            f"notifications recorded: {len(recorded):,} for {len(answered):,} answered 200 (one row each, all from "
            f"the webhook: {not_webhook} from elsewhere)",
        )
    )

    expected_by_order = expected_verdicts(answered)
    recorded_by_order: dict[int, Counter] = defaultdict(Counter)
    for order_id, status, verdict, _source in recorded:
        recorded_by_order[order_ids[order_id]][(status, verdict)] += 1
    wrong_orders = [index for index in range(len(orders)) if expected_by_order[index] != recorded_by_order[index]]
    kinds = Counter(delivery.kind for delivery, _ in answered)
    verdicts = Counter(verdict for _o, _s, verdict, _src in recorded)
    lines.append(
        (
            not wrong_orders,
            f"verdicts as expected for {len(orders) - len(wrong_orders):,} of {len(orders):,} orders: duplicates "
            f'{kinds[DUPLICATE]:,} sent / {verdicts["duplicate"]:,} recorded "duplicate"; out of order '
            f'{kinds[LATE]:,} sent / {verdicts["stale"]:,} recorded "stale"',
        )
    )
    for index in wrong_orders[:3]:
        lines.append(
            (
                False,
                f"  {orders[index].order_id}: expected {dict(expected_by_order[index])}, "
                f"recorded {dict(recorded_by_order[index])}",
            )
        )
    answers = Counter(sample.verdict for _delivery, sample in answered)
    lines.append(
        (
            answers == verdicts,
            f"the webhook's answers agree with the database: {dict(sorted(answers.items()))}",
        )
    )
    other = PaymentNotification.objects.filter(order_id__in=order_ids).exclude(
        Q(verdict__in=("applied", "duplicate", "stale"))
    )
    other_counts = dict(other.values_list("verdict").annotate(count=Count("pk")))
    lines.append((not other_counts, f"other verdicts (forged, unknown order, amount mismatch…): {other_counts or 0}"))
    return lines


# --- The scenario -------------------------------------------------------------------------------------


def run(
    *,
    port: int,
    concurrency: int,
    notifications: int = NOTIFICATIONS,
    warmup: int = 40,
    budget_s: float = 600,
    seed: int = 2026,
) -> bool:
    """Prints the figures and the check; returns False only if the benchmark broke: requests failed (no
    answer, 5xx, or a 4xx other than the limiter's 429), or the notifications left wrong data behind."""
    from django.conf import settings

    rng = random.Random(seed)
    payers = _payers()
    forget_warmup()
    started = time.perf_counter()
    try:
        order_count, waves = plan(total=notifications, rng=rng)
        orders = create_orders(payers, order_count)
    except ValueError as error:
        print(f"bench: payments: BROKEN: {error}")
        return False
    setup_s = time.perf_counter() - started
    key = settings.MIDTRANS_SERVER_KEY
    bodies = {
        (index, status): notification_body(order, status, server_key=key)
        for index, order in enumerate(orders)
        for status in ("pending", "settlement")
    }
    sent = [delivery for wave in waves for delivery in wave]
    kinds = Counter(delivery.kind for delivery in sent)
    print(f"\n[payments: signed Midtrans notifications posted to {WEBHOOK} over HTTP, concurrency {concurrency}]")
    print(
        f"setup: {len(orders):,} bookings awaiting payment, one payment attempt each, in {setup_s:.1f} s (not measured)"
    )
    print(
        f"plan: {len(sent):,} notifications = {len(orders):,} orders x (pending + settlement) + {kinds[DUPLICATE]:,} "
        f"duplicates ({kinds[DUPLICATE] / len(sent):.0%}); {kinds[LATE]:,} pendings after their settlement "
        f"({kinds[LATE] / len(sent):.0%} out of order); {len(waves)} waves of {', '.join(f'{len(w):,}' for w in waves)}"
    )

    # Warm-up: signed notifications for orders that do not exist (recorded "unknown_order", then deleted).
    unknown = [Order(0, "", f"{WARMUP_ORDER_PREFIX}{number}", 100_000) for number in range(warmup)]
    warm_requests = [
        (f"warm-up {order.order_id}", notification_body(order, "pending", server_key=key)) for order in unknown
    ]
    warmed = post_load(port=port, requests=warm_requests, concurrency=concurrency, deadline=time.perf_counter() + 30)

    deadline = time.perf_counter() + budget_s
    delivered: list[tuple[Delivery, Posted]] = []
    errors: list[str] = []
    elapsed = 0.0
    for wave in waves:
        if time.perf_counter() >= deadline:
            break
        labels = [f"{orders[d.order].order_id} {d.status} ({d.kind}, #{n})" for n, d in enumerate(wave)]
        requests = [(label, bodies[(d.order, d.status)]) for label, d in zip(labels, wave, strict=True)]
        result = post_load(port=port, requests=requests, concurrency=concurrency, deadline=deadline)
        elapsed += result.elapsed_s
        errors += result.errors
        by_label = {label: delivery for label, delivery in zip(labels, wave, strict=True)}
        delivered += [(by_label[sample.path], sample) for sample in result.samples]
    samples = [sample for _, sample in delivered]

    server = [sample.server_ms for sample in samples if sample.server_ms is not None]
    client = [sample.client_ms for sample in samples]
    queries = [sample.queries for sample in samples if sample.queries is not None]
    codes = Counter(sample.status for sample in samples)
    non_200 = sum(count for code, count in codes.items() if code != 200) + len(errors)
    refused = codes[429]
    deferred = codes[503]  # the webhook's "database busy, retry" (a lock wait over LOCK_TIMEOUT_MS)
    rate = len(samples) / elapsed if elapsed else 0.0
    header = (
        f"{'scenario':<9} {'notifs':>8} {'conc':>4} {'notif/s':>7} {'srv p50':>8} {'srv p95':>8} "
        f"{'cli p50':>8} {'cli p95':>8} {'queries':>9} {'non-200':>7}"
    )
    print()
    print("times in ms; srv = Server-Timing measured inside Django, cli = seen by the client (includes queueing)")
    print(header)
    print("-" * len(header))
    print(
        f"{'payments':<9} {len(samples):>8} {concurrency:>4} {rate:>7.1f} {percentile(server, 0.5):>8.1f} "
        f"{percentile(server, 0.95):>8.1f} {percentile(client, 0.5):>8.1f} {percentile(client, 0.95):>8.1f} "
        f"{(f'{min(queries)}–{max(queries)}' if queries else '-'):>9} {non_200:>7}"
    )
    stopped = f" (time budget of {budget_s:.0f} s reached)" if len(samples) + len(errors) < len(sent) else ""
    print(
        f"{len(samples):,} of {len(sent):,} notifications answered in {elapsed:.1f} s{stopped}, after "
        f"{len(warmed.samples)} warm-up; status codes: "
        + ", ".join(f"{code} x {count:,}" for code, count in sorted(codes.items()))
        + (f"; {len(errors)} connection errors" if errors else "")
    )
    by_status: dict[str, list[float]] = defaultdict(list)
    for delivery, sample in delivered:
        if sample.server_ms is not None:
            by_status[f"{delivery.status} {delivery.kind}"].append(sample.server_ms)
    print(
        "server p50/p95 by notification: "
        + "; ".join(
            f"{name} {percentile(values, 0.5):.1f}/{percentile(values, 0.95):.1f}"
            for name, values in sorted(by_status.items())
        )
    )
    for failure in [sample for sample in warmed.samples + samples if sample.status != 200][:5]:
        print(f"bench:   {failure.status} on {failure.path}")
    for error in (warmed.errors + errors)[:5]:
        print(f"bench:   {error}")

    print("\ncheck:")
    results = check(orders, delivered)
    for passed, line in results:
        print(f"  {'ok    ' if passed else 'FAILED'} {line}")
    correct = all(passed for passed, _ in results)
    # 429 and 503 are the webhook's own answers under load (Midtrans retries both): figures, reported. Anything
    # else that is not 200 means the server or the bench is broken (500; 403/415/400: the bench's requests).
    broken = (
        non_200 - refused - deferred
        or warmed.errors
        or any(sample.status not in (200, 429, 503) for sample in warmed.samples)
        or not samples
    )
    forget_warmup()
    if correct:
        print("check: passed, every notification did exactly what it should")
    else:
        first, last = min(o.booking_id for o in orders), max(o.booking_id for o in orders)
        print("\n" + "!" * 78)
        print("!! PAYMENTS CHECK FAILED: the webhook left wrong data behind (see FAILED above).")
        print(f"!! This run's bookings: ids {first}–{last} (customers @{PAYER_DOMAIN}).")
        print("!" * 78)
    if refused:
        print(
            f'\n!! PAYMENTS: {refused:,} notifications answered 429 "rate limited" although the bench limit '
            f"({settings.ACCOUNT_RATE_LIMITS.get('midtrans_webhook')}) was nowhere near reached: allauth's per-IP "
            f"rate-limit lock (Redis, retried 10–100 ms apart) could not be taken within 1 s. Midtrans retries "
            f"such an answer minutes later; here it is not re-sent, and the check expects it not applied."
        )
    if deferred:
        print(
            f"\nbench: {deferred:,} notifications answered 503 (deferred: a row lock not had within "
            f"{settings.LOCK_TIMEOUT_MS} ms while another thread applied the same payment). Midtrans retries "
            f"such an answer; here it is not re-sent, and the check expects it not applied."
        )
    if broken:
        print(
            f"\n!! PAYMENTS: {non_200 - refused - deferred:,} notifications failed or were answered other than "
            f"200/429/503 "
            f"(status codes {dict(sorted(codes.items()))}, {len(errors) + len(warmed.errors)} connection "
            f"errors): the run is broken."
        )
    return correct and not broken
