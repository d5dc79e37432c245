"""Promo codes under load (issue 16): booking requests with a code against requests without one, and the
hammer, through gunicorn under config.settings.bench (started as run.py starts it, rendered-page cache on
as in production; LOCK_TIMEOUT_MS the settings' own unless --lock-timeout-ms says otherwise).

Needs no 20,000-companion seed: it makes a world of its own (once, left in place between runs; its e-mail
domain is EMAIL_DOMAIN): HAMMER_CUSTOMERS companions who work 08:00-22:00 every day at Rp 150.000 an hour,
and the customers, each signed in through a session made directly in the session store. Every customer
has one completed booking in the past, so no request here is a first booking: the welcome discount
(WELCOME_DISCOUNT_BASIS_POINTS, 15% in the bench settings as in production) is never granted, and
"without a code" is the plain path of a returning customer (which still asks whether the customer is new:
one EXISTS query), "with a code" the code's path: the code check's rate limit (Redis), the page's preview
of the code, the rules, the conditional UPDATE of the code's row (held until the booking commits) and the
Redemption row.

1. without a code: CUSTOMERS_AT_ONCE client threads start at once; each sends `requests` 1-hour booking
   requests one after another, each as another customer of its own (a customer may hold only
   MAX_OPEN_REQUESTS open requests, and a code once), all to the thread's own companion at starts of
   their own: no two requests share a customer, a companion's lock or a time, so only the code's row is
   shared in phase 2. A new connection per request, as from many browsers.
2. with a code: the same with one shared percentage code (15% up to Rp 50.000) with uses to spare.
   Bookings per second, p50/p95 at the client and inside Django, queries per request, and the ratio
   with/without. One warm-up request per thread and path first (not measured).
3. the hammer: HAMMER_CUSTOMERS customers send a request with the same code at the same instant, each to
   a companion of their own at the same start: a code with HAMMER_USES_LEFT uses left, then another whose
   budget covers HAMMER_BUDGET_FOR discounts. How many reserved, how many were told the code is used up,
   how many "busy, try again" (the lock timeout, waiting for the code's row).

After each part the database is checked: every booked answer (a redirect) made exactly one booking and
every refused one none; a booking with a code has exactly one Redemption of that code with the booking's
discount, one without a code none; the code's counters equal the sum of its redemptions; the hammer
reserved no more than its limit, and told no one "used up" while a use or the budget was left. Every
booking made here is deleted afterwards. Measures, never asserts a speed: returns False only when the
benchmark broke (the server did not start, a request failed or answered something other than booked,
"used up" or "busy, try again", or the data is wrong).

Figures (issue 16), 2 workers x 4 threads, lock timeout 300 ms, 20 x 5 requests per phase, on a 2-core
machine shared with other jobs (load average 0.3-5), three runs: without a code 22-44 bookings/s, server
p95 210-770 ms, 46 queries a request; with the code 19-33 bookings/s (0.73-0.86x), server p95 350-620 ms,
57 queries (the page's preview of the code and the booking both check its rules). No request was "busy" at
this concurrency (at most 8 requests in the server at once, so at most 7 wait for the code's row). The
hammer: exactly 10 reserved and 40 "used up"; exactly 7 reserved and 43 "budget used up"; 1.5-2.2 s until
the last of the 50 answers (queued behind the server's 8 threads).
"""

import re
import statistics
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from tests.bench.forms import post_booking_request
from tests.bench.load import SERVER_TIMING, percentile

EMAIL_DOMAIN = "promo-bench.kompanion.test"
CODE_PREFIX = "BENCHPROMO"
CUSTOMERS_AT_ONCE = 20
HAMMER_CUSTOMERS = 50
HAMMER_USES_LEFT = 10
HAMMER_USES_TAKEN = 2  # as in tests/promotions/test_concurrency.py: 12 uses, 2 already taken
HAMMER_BUDGET_FOR = 7
HOURLY_RATE = 150_000
MEETING_PLACE = "Promo bench café, ground floor"
SLOT_HOURS = (9, 11, 13, 15, 17, 19)  # 1-hour bookings, 30 minutes of buffer: never touching
FIRST_DAY = 2  # days from today: far past the 3-hour lead time
LAST_DAY = 50  # the availability engine looks 60 days ahead
MAX_REQUESTS = (LAST_DAY - FIRST_DAY + 1) * len(SLOT_HOURS) // 2 - 2  # per thread and phase (2 warm-up slots)
FIELD_ERROR = re.compile(r'class="field-error".*?<li>(.*?)</li>', re.DOTALL)
REFUSALS = {"used_up": "this code has been used up", "budget_gone": "this code's budget is used up"}
SUMMARY_ERROR = re.compile(r'data-error-summary.*?<p class="text-ink">(.*?)</p>', re.DOTALL)


@dataclass
class Answer:
    status: int
    client_ms: float
    server_ms: float | None
    queries: int | None
    outcome: str  # booked / used_up / budget_gone / busy / other / error
    location: str = ""
    detail: str = ""


@dataclass
class World:
    companions: list  # CompanionProfile
    customers: list  # User
    sessions: list[str] = field(default_factory=list)


# --- The world ---------------------------------------------------------------------------------------------


def _world(customer_count: int) -> World:
    """The companions and customers, created once and reused; every customer with one completed booking in
    the past (so that none of them is new: no welcome discount)."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts.models import Role, User
    from bookings.models import Booking, BookingStatus
    from companions.models import Activity, City, CompanionProfile, VerificationStatus, WeeklyHours
    from tests.bench.rows import completed_booking

    password = make_password(None)
    city = City.objects.get(slug="jakarta")
    hangout = Activity.objects.get(slug="hangout")
    companions = []
    for index in range(HAMMER_CUSTOMERS):
        user, _ = User.objects.get_or_create(
            email=f"companion{index:02d}@{EMAIL_DOMAIN}",
            defaults={"full_name": f"Promo Companion {index}", "role": Role.COMPANION, "password": password},
        )
        profile, created = CompanionProfile.objects.select_related("city").get_or_create(
            user=user,
            defaults={
                "slug": f"promo-bench-companion-{index:02d}",
                "display_name": f"Promo {index}",
                "bio": "Benchmark companion for the promo code scenario. Works every day, all day long.",
                "city": city,
                "hourly_rate": HOURLY_RATE,
                "gender": "female",
                "min_hours": 1,
                "max_hours": 6,
                "verification_status": VerificationStatus.APPROVED,
                "is_listed": True,
            },
        )
        if created:
            profile.activities.set([hangout])
            WeeklyHours.objects.bulk_create(
                WeeklyHours(profile=profile, weekday=weekday, start_minute=8 * 60, length_minutes=14 * 60)
                for weekday in range(7)
            )
        companions.append(profile)
    customers = []
    for index in range(customer_count):
        customer, _ = User.objects.get_or_create(
            email=f"customer{index:03d}@{EMAIL_DOMAIN}",
            defaults={"full_name": f"Promo Customer {index}", "role": Role.CUSTOMER, "password": password},
        )
        customers.append(customer)
    returning = set(
        Booking.objects.filter(customer__in=customers, status=BookingStatus.COMPLETED).values_list(
            "customer_id", flat=True
        )
    )
    past = timezone.now().replace(hour=3, minute=0, second=0, microsecond=0) - timedelta(days=30)
    Booking.objects.bulk_create(
        completed_booking(
            customer=customer,
            companion=companions[index % len(companions)],
            start=past - timedelta(days=index),  # a day of its own: nothing overlaps
            activity=hangout,
            note="promo bench: a returning customer",
        )
        for index, customer in enumerate(customers)
        if customer.pk not in returning
    )
    return World(companions=companions, customers=customers)


def _clear() -> None:
    """This scenario's open bookings (their redemptions go with them) and its codes; the completed past
    bookings stay."""
    from bookings.models import Booking, BookingStatus
    from promotions.models import Promotion

    Booking.objects.filter(customer__email__endswith=f"@{EMAIL_DOMAIN}").exclude(
        status=BookingStatus.COMPLETED
    ).delete()
    Promotion.objects.filter(code__startswith=CODE_PREFIX).delete()


def _code(suffix: str, **fields):
    """A percentage code (15% up to Rp 50.000, one use per customer), valid from yesterday for 30 days."""
    from django.utils import timezone

    from promotions.models import Promotion

    now = timezone.now()
    defaults = {
        "kind": Promotion.Kind.PERCENT,
        "basis_points": 1500,
        "amount": 50_000,
        "valid_from": now - timedelta(days=1),
        "valid_until": now + timedelta(days=30),
        "name": "make bench (tests/bench/promo.py)",
    }
    return Promotion.objects.create(code=f"{CODE_PREFIX}{suffix}", **{**defaults, **fields})


def _start(profile, slot: int) -> str:
    """The slot-th 1-hour start from FIRST_DAY on, SLOT_HOURS a day, in the companion's zone."""
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    zone = ZoneInfo(profile.city.time_zone)
    day = timezone.now().astimezone(zone).date() + timedelta(days=FIRST_DAY + slot // len(SLOT_HOURS))
    return datetime.combine(day, datetime.min.time(), zone).replace(hour=SLOT_HOURS[slot % len(SLOT_HOURS)]).isoformat()


# --- Requests ----------------------------------------------------------------------------------------------


def _messages() -> dict[str, set[str]]:
    """The "used up" answers as the server may say them (the customer's language or the site's)."""
    from django.conf import settings
    from django.utils import translation

    texts: dict[str, set[str]] = {"used_up": set(), "budget_gone": set()}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            texts["used_up"].add(translation.gettext("This code has been used up."))
            texts["budget_gone"].add(translation.gettext("This code's budget is used up."))
    return texts


def _post(port: int, *, slug: str, session_key: str, start: str, code: str, note: str, messages: dict) -> Answer:
    posted = post_booking_request(
        port,
        slug=slug,
        session_key=session_key,
        start=start,
        meeting_place=MEETING_PLACE,
        note=note,
        promo_code=code,
        unescape=True,
        catch_errors=True,
    )
    if posted.response is None:
        return Answer(0, posted.ms, None, None, "error", detail=f"{posted.error!r}")
    response, page = posted.response, posted.page
    timing = SERVER_TIMING.search(response.getheader("Server-Timing", ""))
    queries = response.getheader("X-Query-Count")
    answer = Answer(
        response.status,
        posted.ms,
        float(timing.group(1)) if timing else None,
        int(queries) if queries is not None else None,
        "other",
    )
    if response.status in (302, 303, 307):
        answer.outcome, answer.location = "booked", urlsplit(response.getheader("Location", "")).path
    elif response.status == 503:
        answer.outcome = "busy"
    else:
        shown = [text.strip() for text in FIELD_ERROR.findall(page) + SUMMARY_ERROR.findall(page)]
        answer.detail = "; ".join(shown)[:200]
        for outcome, texts in messages.items():
            if response.status == 422 and any(text in shown for text in texts):
                answer.outcome = outcome
    return answer


def _at_once(count: int, work) -> float:
    """`count` threads released together by a barrier, each running work(index); seconds until the last
    one finished."""
    line = threading.Barrier(count + 1)

    def runner(index: int) -> None:
        line.wait(timeout=30)
        work(index)

    threads = [threading.Thread(target=runner, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    line.wait(timeout=30)
    started = time.perf_counter()
    for thread in threads:
        thread.join(timeout=300)
    return time.perf_counter() - started


def _phase(port: int, world: World, *, requests: int, first_slot: int, code: str, note: str, messages) -> tuple:
    """CUSTOMERS_AT_ONCE threads, each `requests` requests in a row (customer t*requests+k, the thread's own
    companion, start slot first_slot+k). Returns the answers and the seconds taken."""
    answers: list[Answer] = []
    lock = threading.Lock()

    def work(thread: int) -> None:
        profile = world.companions[thread]
        for k in range(requests):
            answer = _post(
                port,
                slug=profile.slug,
                session_key=world.sessions[thread * requests + k],
                start=_start(profile, first_slot + k),
                code=code,
                note=note,
                messages=messages,
            )
            with lock:
                answers.append(answer)

    elapsed = _at_once(CUSTOMERS_AT_ONCE, work)
    return answers, elapsed


def _hammer(port: int, world: World, *, code: str, slot: int, note: str, messages) -> tuple:
    """HAMMER_CUSTOMERS customers at the same instant, each to a companion of their own at the same start."""
    answers: list[Answer | None] = [None] * HAMMER_CUSTOMERS

    def work(index: int) -> None:
        profile = world.companions[index]
        answers[index] = _post(
            port,
            slug=profile.slug,
            session_key=world.sessions[index],
            start=_start(profile, slot),
            code=code,
            note=note,
            messages=messages,
        )

    elapsed = _at_once(HAMMER_CUSTOMERS, work)
    return [answer for answer in answers if answer is not None], elapsed


# --- Checks ------------------------------------------------------------------------------------------------


def _check(answers: list[Answer], *, note: str, promotion=None, uses_before: int = 0) -> list[str]:
    """What is wrong in the database after a part (empty: nothing). Every booked answer made exactly one
    booking (its redirect names it) and nothing else was made; with a code, one Redemption of that code per
    booking with the booking's discount, and the code's counters equal to the sum of its redemptions;
    without one, no redemption."""
    from django.db.models import Count, Sum
    from django.urls import reverse

    from bookings.models import Booking
    from promotions.models import Redemption

    problems = []
    booked = [answer for answer in answers if answer.outcome == "booked"]
    bookings = list(Booking.objects.filter(note=note).annotate(redemptions=Count("redemption")))
    if len(bookings) != len(booked):
        problems.append(f"{len(booked)} booked answers but {len(bookings)} bookings in the database")
    locations = [answer.location for answer in booked]
    made = {reverse("bookings:detail", args=[booking.reference]) for booking in bookings}
    if len(set(locations)) != len(locations) or set(locations) != made:
        problems.append("the booked answers' redirects do not name the bookings made, one each")
    redemptions = Redemption.objects.filter(booking__note=note)
    if promotion is None:
        if redemptions.exists() or any(booking.discount for booking in bookings):
            problems.append(f"{redemptions.count()} redemptions (or discounts) on bookings made without a code")
        return problems
    wrong = [
        booking.reference
        for booking in bookings
        if booking.redemptions != 1
        or not Redemption.objects.filter(
            booking=booking,
            promotion=promotion,
            source=Redemption.Source.CODE,
            status=Redemption.Status.RESERVED,
            discount=booking.discount,
        ).exists()
    ]
    if wrong:
        problems.append(f"{len(wrong)} bookings without exactly one reserved redemption of the code at their discount")
    if redemptions.exclude(promotion=promotion).exists():
        problems.append("redemptions of another promotion on these bookings")
    promotion.refresh_from_db()
    taken = Redemption.objects.filter(
        promotion=promotion, status__in=(Redemption.Status.RESERVED, Redemption.Status.CONSUMED)
    ).aggregate(uses=Count("pk"), budget=Sum("discount"))
    uses, budget = uses_before + taken["uses"], taken["budget"] or 0
    if (promotion.uses_reserved, promotion.budget_reserved) != (uses, budget):
        problems.append(
            f"counters uses_reserved {promotion.uses_reserved}, budget_reserved {promotion.budget_reserved:,} "
            f"but the redemptions sum to {uses} uses (with {uses_before} taken before), {budget:,}"
        )
    return problems


def _unexpected(answers: list[Answer], allowed: set[str]) -> list[str]:
    return [
        f"{answer.status} {answer.outcome}{': ' + answer.detail if answer.detail else ''}"
        for answer in answers
        if answer.outcome not in allowed
    ]


# --- Figures -----------------------------------------------------------------------------------------------


def _figures(answers: list[Answer], elapsed: float) -> dict:
    booked = [answer for answer in answers if answer.outcome == "booked"]
    client = [answer.client_ms for answer in booked]
    server = [answer.server_ms for answer in booked if answer.server_ms is not None]
    queries = [answer.queries for answer in booked if answer.queries is not None]
    return {
        "requests": len(answers),
        "booked": len(booked),
        "busy": sum(1 for answer in answers if answer.outcome == "busy"),
        "other": sum(1 for answer in answers if answer.outcome not in ("booked", "busy")),
        "seconds": elapsed,
        "per_second": len(booked) / elapsed if elapsed else 0.0,
        "client_p50": percentile(client, 0.50),
        "client_p95": percentile(client, 0.95),
        "server_p50": percentile(server, 0.50),
        "server_p95": percentile(server, 0.95),
        "queries": statistics.median(queries) if queries else float("nan"),
    }


def _print_phases(rows: list[tuple[str, dict]]) -> None:
    print(
        "\ntimes in ms of the booked requests; cli = seen by the client (includes queueing), srv = inside Django "
        "(Server-Timing); queries: median per booked request"
    )
    header = (
        f"{'phase':<13} {'requests':>8} {'booked':>6} {'busy':>4} {'other':>5} {'seconds':>7} {'booked/s':>8} "
        f"{'cli p50':>8} {'cli p95':>8} {'srv p50':>8} {'srv p95':>8} {'queries':>7}"
    )
    print(header)
    print("-" * len(header))
    for label, row in rows:
        print(
            f"{label:<13} {row['requests']:>8} {row['booked']:>6} {row['busy']:>4} {row['other']:>5} "
            f"{row['seconds']:>7.2f} {row['per_second']:>8.1f} {row['client_p50']:>8.1f} {row['client_p95']:>8.1f} "
            f"{row['server_p50']:>8.1f} {row['server_p95']:>8.1f} {row['queries']:>7g}"
        )
    (_, plain), (_, coded) = rows

    def ratio(key: str) -> str:
        return f"{coded[key] / plain[key]:.2f}x" if plain[key] else "-"

    print(
        f"with/without the code: bookings/s {ratio('per_second')}, client p50 {ratio('client_p50')}, "
        f"client p95 {ratio('client_p95')}, server p50 {ratio('server_p50')}, server p95 {ratio('server_p95')}"
    )


def _hammer_line(label: str, answers: list[Answer], elapsed: float, promotion, *, limit: int, refusal: str) -> str:
    counts = {outcome: sum(1 for answer in answers if answer.outcome == outcome) for outcome in ("booked", refusal)}
    busy = sum(1 for answer in answers if answer.outcome == "busy")
    times = [answer.client_ms for answer in answers]
    budget = f" of {promotion.budget:,}" if promotion.budget is not None else ""
    uses = f" of {promotion.total_uses}" if promotion.total_uses is not None else ""
    return (
        f"{label}: {len(answers)} requests at once, answered in {elapsed:.2f} s (slowest {max(times, default=0):.0f} "
        f"ms) -> {counts['booked']} reserved (limit {limit}), {counts[refusal]} told '{REFUSALS[refusal]}', "
        f"{busy} 'busy, try again'; the code's row: uses_reserved {promotion.uses_reserved}{uses}, "
        f"budget_reserved {promotion.budget_reserved:,}{budget}"
    )


# --- The scenario ------------------------------------------------------------------------------------------


def run(*, workers: int, threads: int, log_path: Path, requests: int = 5, lock_timeout_ms: int | None = None) -> bool:
    """Prints the figures; returns False only if the benchmark itself broke (never on a slow figure)."""
    from django.conf import settings

    from bookings.pricing import booking_quote
    from promotions.models import Promotion
    from promotions.services import promotion_discount
    from tests.bench import run as bench
    from tests.bench.contention import _session_cookie

    if not 1 <= requests <= MAX_REQUESTS:
        print(f"bench: BROKEN: [promo] --promo-requests must be 1 to {MAX_REQUESTS}")
        return False
    world = _world(max(CUSTOMERS_AT_ONCE * requests, HAMMER_CUSTOMERS))
    _clear()
    world.sessions = [_session_cookie(customer) for customer in world.customers]
    messages = _messages()
    port = bench.free_port()
    environment = {"LOCK_TIMEOUT_MS": str(lock_timeout_ms)} if lock_timeout_ms is not None else {}
    timeout_label = lock_timeout_ms if lock_timeout_ms is not None else settings.LOCK_TIMEOUT_MS
    print(
        f"\nbench: [promo] gunicorn on 127.0.0.1:{port}, {workers} workers x {threads} threads, lock timeout "
        f"{timeout_label} ms; {CUSTOMERS_AT_ONCE} customers at once x {requests} booking requests without a code, "
        f"then with one shared code; then {HAMMER_CUSTOMERS} at once against {HAMMER_USES_LEFT} uses left and a "
        f"budget for {HAMMER_BUDGET_FOR} (server log: {log_path})"
    )
    server = bench.start_server(
        port=port,
        workers=workers,
        threads=threads,
        log_path=log_path,
        page_cache_seconds=settings.BENCH_WARM_PAGE_CACHE_SECONDS,  # on, as in production
        extra_environment=environment,
    )
    broken: list[str] = []
    measured: list[Answer] = []  # every measured answer, for the count of "busy, try again"
    try:
        bench.wait_until_healthy(server, port=port)
        # Warm-up: each thread once without and once with a code of its own (templates, connections).
        _code("WARMUP")
        warm_plain, _ = _phase(
            port, world, requests=1, first_slot=2 * requests, code="", note="promo bench warm-up", messages=messages
        )
        warm_coded, _ = _phase(
            port,
            world,
            requests=1,
            first_slot=2 * requests + 1,
            code=f"{CODE_PREFIX}WARMUP",
            note="promo bench warm-up with a code",
            messages=messages,
        )
        broken += [f"warm-up: {line}" for line in _unexpected(warm_plain + warm_coded, {"booked", "busy"})]
        _clear()

        shared = _code("SHARED", total_uses=2 * CUSTOMERS_AT_ONCE * requests)  # uses to spare
        plain_note, coded_note = "promo bench: without a code", "promo bench: with a code"
        plain, plain_s = _phase(
            port, world, requests=requests, first_slot=0, code="", note=plain_note, messages=messages
        )
        measured += plain
        broken += [f"without a code: {line}" for line in _unexpected(plain, {"booked", "busy"})]
        broken += [f"without a code: {line}" for line in _check(plain, note=plain_note)]
        coded, coded_s = _phase(
            port, world, requests=requests, first_slot=requests, code=shared.code.lower(), note=coded_note,
            messages=messages,
        )  # fmt: skip
        measured += coded
        broken += [f"with a code: {line}" for line in _unexpected(coded, {"booked", "busy"})]
        broken += [f"with a code: {line}" for line in _check(coded, note=coded_note, promotion=shared)]
        _print_phases([("without code", _figures(plain, plain_s)), ("with code", _figures(coded, coded_s))])

        # The hammer, as tests/promotions/test_concurrency.py, through the server.
        _clear()
        quotes = {promotion_discount(shared, booking_quote(profile=profile, hours=1)) for profile in world.companions}
        if len(quotes) != 1:
            raise bench.BenchBroken(f"the hammer's companions do not share one discount: {sorted(quotes)}")
        discount = quotes.pop()
        uses_code = _code("USES", total_uses=HAMMER_USES_TAKEN + HAMMER_USES_LEFT)
        Promotion.objects.filter(pk=uses_code.pk).update(uses_reserved=HAMMER_USES_TAKEN)
        hammer_slot = 2 * requests + 2
        uses_note = "promo bench: hammer, uses"
        uses_answers, uses_s = _hammer(
            port, world, code=uses_code.code, slot=hammer_slot, note=uses_note, messages=messages
        )
        measured += uses_answers
        broken += [f"hammer (uses): {line}" for line in _unexpected(uses_answers, {"booked", "used_up", "busy"})]
        broken += [
            f"hammer (uses): {line}"
            for line in _check(uses_answers, note=uses_note, promotion=uses_code, uses_before=HAMMER_USES_TAKEN)
        ]
        broken += [
            f"hammer (uses): {line}"
            for line in _limit_problems(uses_answers, limit=HAMMER_USES_LEFT, refusal="used_up")
        ]

        _clear()
        budget_code = _code("BUDGET", budget=HAMMER_BUDGET_FOR * discount + discount - 1)
        budget_note = "promo bench: hammer, budget"
        budget_answers, budget_s = _hammer(
            port, world, code=budget_code.code, slot=hammer_slot, note=budget_note, messages=messages
        )
        measured += budget_answers
        broken += [
            f"hammer (budget): {line}" for line in _unexpected(budget_answers, {"booked", "budget_gone", "busy"})
        ]
        broken += [
            f"hammer (budget): {line}" for line in _check(budget_answers, note=budget_note, promotion=budget_code)
        ]
        broken += [
            f"hammer (budget): {line}"
            for line in _limit_problems(budget_answers, limit=HAMMER_BUDGET_FOR, refusal="budget_gone")
        ]
        print(
            f"\nbench: [promo] the hammer ({HAMMER_CUSTOMERS} customers, each to a companion of their own at the same "
            f"start, the discount Rp {discount:,} each):"
        )
        print(
            "bench:   "
            + _hammer_line(
                f"{HAMMER_USES_LEFT} uses left", uses_answers, uses_s, uses_code, limit=HAMMER_USES_LEFT,
                refusal="used_up",
            )
        )  # fmt: skip
        print(
            "bench:   "
            + _hammer_line(
                f"budget for {HAMMER_BUDGET_FOR}", budget_answers, budget_s, budget_code, limit=HAMMER_BUDGET_FOR,
                refusal="budget_gone",
            )
        )  # fmt: skip
    except bench.BenchBroken as error:
        broken.append(str(error))
    finally:
        bench.stop_server(server)
        _clear()

    busy = sum(1 for answer in measured if answer.outcome == "busy")
    if busy:  # a measured outcome (the lock timeout while waiting for a row), not a broken bench
        print(f"bench: [promo] {busy} answers were 'busy, try again' (waited past the lock timeout {timeout_label} ms)")
    if not broken:
        print("bench: [promo] checked: one booking per booked answer, none per refusal; redemptions and counters exact")
    for problem in broken[:20]:
        print(f"bench: BROKEN: [promo] {problem}")
    if broken:
        bench.print_log_tail(log_path)
    return not broken


def _limit_problems(answers: list[Answer], *, limit: int, refusal: str) -> list[str]:
    """The hammer reserved at most its limit, and refused no one for it while a use (or budget) was left:
    the counters only rise during a hammer, so a refusal means the limit was reached."""
    booked = sum(1 for answer in answers if answer.outcome == "booked")
    refused = sum(1 for answer in answers if answer.outcome == refusal)
    problems = []
    if booked > limit:
        problems.append(f"{booked} reservations, over the limit of {limit}")
    if booked < limit and refused:
        problems.append(f"{refused} told '{refusal}' though only {booked} of {limit} were reserved")
    return problems
