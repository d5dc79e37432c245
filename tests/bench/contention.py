"""Lock contention (issue 11, failure 3): one companion's row is held by a long transaction while ten
customers book that companion and anonymous visitors read unrelated pages.

Against gunicorn under config.settings.bench (started as run.py starts it, rendered-page cache off so
every page reads PostgreSQL). Needs no 20,000-companion seed: it creates one companion who works every
day and ten customers (their own e-mail domain, left in place between runs; their bookings are deleted).

1. baseline: /terms/ and the companion's profile fetched by two client threads, nothing locked;
2. locked: a separate connection holds the companion's profile row FOR UPDATE for `hold_s` seconds;
   meanwhile the ten customers POST the booking form at once (each a different start) and the two
   client threads keep fetching /terms/ and the profile;
3. retry: once the row is released, the ten customers POST again at once.

Prints each booking answer (status, time, whether the form kept what was typed) and the unrelated
pages' p50/p95/max for the baseline and during the lock. Measures, never asserts; returns False only
when the benchmark broke (the server did not start, a booking answer was a 500 or neither booked
nor "busy, try again", an unrelated page was not 200).

Figures (issue 11), 2 workers x 4 threads, row held 10 s, on a 2-core machine shared with other jobs
(load average 6-9, so even the baseline's p95 was 0.3-0.7 s); client times, two runs each:

* LOCK_TIMEOUT_MS=3000 (before): the answers came in waves at 3.2-3.3 s, 6.2-6.5 s and 9.2-9.9 s;
  one or two waited past the 10 s hold and booked at 10.5-11.2 s. Unrelated pages while bookings
  waited: p50 0.17-0.43 s, p95 9.11 s, max 9.16 s.
* LOCK_TIMEOUT_MS=300 (after): all ten "busy, try again" (503, form as typed) in 0.58-1.64 s.
  Unrelated pages while bookings waited: p50 0.24-0.29 s, p95 and max 1.06-1.40 s; over the whole
  hold p95 0.48-0.59 s (baseline 0.47-0.52 s). A burst of ten retries at once after the release:
  4-6 booked at once, the rest were told to try again (each booking holds the row 25-60 ms alone,
  longer when ten share two cores), and booked on their next try.
* 2 x 8 threads, 300 ms: no page faster (unrelated p95 0.97 s), 7 of 10 burst retries told to try
  again, 16 instead of 8 database connections: 2 x 4 stays.
"""

import http.client
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from tests.bench.forms import post_booking_request
from tests.bench.load import Sample, fetch, percentile

EMAIL_DOMAIN = "contention-bench.kompanion.test"
CUSTOMERS = 10
FETCH_THREADS = 4
MEETING_PLACE = "Contention bench café, ground floor"


@dataclass
class Answer:
    customer: int
    status: int
    ms: float
    outcome: str  # booked / busy / taken / other
    kept_typing: bool


def _world():
    """The companion (08:00-22:00 every day) and the customers; created once, reused afterwards."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import Role, User
    from companions.models import Activity, City, CompanionProfile, VerificationStatus, WeeklyHours

    password = make_password(None)
    user, _ = User.objects.get_or_create(
        email=f"companion@{EMAIL_DOMAIN}",
        defaults={"full_name": "Contention Companion", "role": Role.COMPANION, "password": password},
    )
    city = City.objects.get(slug="jakarta")
    profile, created = CompanionProfile.objects.get_or_create(
        user=user,
        defaults={
            "slug": "contention-bench-companion",
            "display_name": "Contention",
            "bio": "Benchmark companion for the lock contention scenario. Works every day, all day long.",
            "city": city,
            "hourly_rate": 150_000,
            "gender": "female",
            "min_hours": 1,
            "max_hours": 6,
            "verification_status": VerificationStatus.APPROVED,
            "is_listed": True,
        },
    )
    if created:
        profile.activities.set(Activity.objects.filter(slug="hangout"))
        WeeklyHours.objects.bulk_create(
            WeeklyHours(profile=profile, weekday=weekday, start_minute=8 * 60, length_minutes=14 * 60)
            for weekday in range(7)
        )
    customers = []
    for index in range(CUSTOMERS):
        customer, _ = User.objects.get_or_create(
            email=f"customer{index:02d}@{EMAIL_DOMAIN}",
            defaults={"full_name": f"Contention Customer {index}", "role": Role.CUSTOMER, "password": password},
        )
        customers.append(customer)
    return profile, customers


def _clear_bookings(profile) -> None:
    from bookings.models import Booking

    Booking.objects.filter(companion=profile).delete()


def _starts(profile) -> list[str]:
    """One free 10:00 start per customer, on consecutive days from the day after tomorrow (never
    overlapping, so every customer can book once the row is free)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    zone = ZoneInfo(profile.city.time_zone)
    today = timezone.now().astimezone(zone).date()
    return [
        datetime.combine(today + timedelta(days=2 + index), datetime.min.time(), zone).replace(hour=10).isoformat()
        for index in range(CUSTOMERS)
    ]


def _session_cookie(customer) -> str:
    """A signed-in session made directly in the session store (as a login would), so the scenario
    measures the booking, not the login form."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(customer.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = customer.get_session_auth_hash()
    store["_last_touch"] = int(time.time())  # core.middleware.IdleTimeoutMiddleware: no write per request
    store.save()
    return store.session_key


def _post_booking(port: int, *, slug: str, session_key: str, start: str, customer: int) -> Answer:
    posted = post_booking_request(
        port,
        slug=slug,
        session_key=session_key,
        start=start,
        meeting_place=MEETING_PLACE,
        note=f"contention bench {customer}",
    )
    response = posted.response
    if response.status in (302, 303, 307):
        outcome = "booked"
    elif response.status == 503:
        outcome = "busy"
    elif response.status == 409:
        outcome = "taken"
    else:
        outcome = "other"
    return Answer(customer, response.status, posted.ms, outcome, MEETING_PLACE in posted.page)


def _post_all(
    port: int, *, slug: str, sessions: list[str], starts: list[str], customers: list[int] | None = None
) -> list[Answer]:
    customers = customers if customers is not None else list(range(len(sessions)))
    answers: list[Answer | None] = [None] * len(sessions)
    line = threading.Barrier(len(sessions))

    def post(index: int) -> None:
        line.wait(timeout=30)
        try:
            answers[index] = _post_booking(
                port, slug=slug, session_key=sessions[index], start=starts[index], customer=customers[index]
            )
        except (OSError, http.client.HTTPException) as error:
            answers[index] = Answer(customers[index], 0, 0.0, f"error: {type(error).__name__}: {error}", False)

    threads = [threading.Thread(target=post, args=(index,)) for index in range(len(sessions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    return [answer for answer in answers if answer is not None]


def _fetch_until(
    port: int, paths: list[str], stop: threading.Event, *, count: int | None = None
) -> list[tuple[float, Sample]]:
    """FETCH_THREADS client threads cycle through `paths` until `stop` is set (or `count` each); each
    sample with the perf_counter() at which its request was sent. A new connection per request, as
    from many visitors: gunicorn hands each to whichever worker accepts it (a kept-alive connection
    would stay with one worker and measure only that worker's threads)."""
    samples: list[tuple[float, Sample]] = []
    lock = threading.Lock()

    def loop() -> None:
        done = 0
        while not stop.is_set() and (count is None or done < count):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                sent = time.perf_counter()
                sample = fetch(connection, paths[done % len(paths)])
            finally:
                connection.close()
            done += 1
            with lock:
                samples.append((sent, sample))

    threads = [threading.Thread(target=loop) for _ in range(FETCH_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return samples


def _hold_row(profile, *, hold_s: float, holding: threading.Event, released: threading.Event, peak: list[int]) -> None:
    """The long transaction: its own psycopg connection, the profile row FOR UPDATE for hold_s seconds.
    Meanwhile it counts the bench database's connections (pg_stat_activity) and keeps the peak in `peak`."""
    import psycopg
    from django.conf import settings

    database = settings.DATABASES["default"]
    with psycopg.connect(
        dbname=database["NAME"],
        user=database.get("USER") or None,
        password=database.get("PASSWORD") or None,
        host=database.get("HOST") or None,
        port=database.get("PORT") or None,
        connect_timeout=5,
    ) as connection:
        table = profile._meta.db_table
        connection.execute(f'SELECT 1 FROM "{table}" WHERE id = %s FOR UPDATE', [profile.pk])  # noqa: S608
        holding.set()
        until = time.perf_counter() + hold_s
        while time.perf_counter() < until:
            (count,) = connection.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [database["NAME"]]
            ).fetchone()
            peak[0] = max(peak[0], count)
            time.sleep(min(0.1, max(0.0, until - time.perf_counter())))
        connection.rollback()
    released.set()


def _page_line(label: str, samples: list[Sample]) -> str:
    times = [sample.client_ms for sample in samples]
    not_ok = sum(1 for sample in samples if sample.status != 200)
    return (
        f"{label:<22} {len(times):>5} {percentile(times, 0.5):>8.1f} {percentile(times, 0.95):>8.1f} "
        f"{max(times, default=float('nan')):>8.1f} {not_ok:>7}"
    )


def _print_answers(label: str, answers: list[Answer]) -> None:
    print(f"\nbench: [contention] {label}")
    for answer in sorted(answers, key=lambda answer: answer.ms):
        kept = "form kept what was typed" if answer.kept_typing else ""
        print(
            f"bench:   customer {answer.customer:>2}: {answer.status} {answer.outcome:<7} {answer.ms:>8.1f} ms  {kept}"
        )


def run(*, workers: int, threads: int, log_path: Path, hold_s: float = 10, lock_timeout_ms: int | None = None) -> bool:
    """Prints the figures; returns False only if the benchmark itself broke."""
    from django.conf import settings

    from tests.bench import run as bench

    profile, customers = _world()
    _clear_bookings(profile)
    sessions = [_session_cookie(customer) for customer in customers]
    starts = _starts(profile)
    pages = ["/terms/", f"/c/{profile.slug}/"]

    port = bench.free_port()
    environment = {"LOCK_TIMEOUT_MS": str(lock_timeout_ms)} if lock_timeout_ms is not None else {}
    timeout_label = lock_timeout_ms if lock_timeout_ms is not None else settings.LOCK_TIMEOUT_MS
    print(
        f"\nbench: [contention] gunicorn on 127.0.0.1:{port}, {workers} workers x {threads} threads, "
        f"lock timeout {timeout_label} ms; {CUSTOMERS} booking POSTs while one companion's row is held "
        f"for {hold_s:g} s, {FETCH_THREADS} clients reading {', '.join(pages)} (server log: {log_path})"
    )
    server = bench.start_server(
        port=port,
        workers=workers,
        threads=threads,
        log_path=log_path,
        page_cache_seconds=0,
        extra_environment=environment,
    )
    try:
        bench.wait_until_healthy(server, port=port)
        never = threading.Event()
        _fetch_until(port, pages, never, count=10)  # warm-up: templates loaded, connections open
        baseline = [sample for _, sample in _fetch_until(port, pages, never, count=50)]

        holding, released, stop = threading.Event(), threading.Event(), threading.Event()
        peak = [0]
        holder = threading.Thread(
            target=_hold_row,
            args=(profile,),
            kwargs={"hold_s": hold_s, "holding": holding, "released": released, "peak": peak},
        )
        holder.start()
        if not holding.wait(timeout=10):
            raise bench.BenchBroken("could not lock the companion's row")
        during: list[tuple[float, Sample]] = []
        reader = threading.Thread(target=lambda: during.extend(_fetch_until(port, pages, stop)))
        reader.start()
        time.sleep(0.5)  # the readers run before, during and after the POSTs
        posted_at = time.perf_counter()
        locked_answers = _post_all(port, slug=profile.slug, sessions=sessions, starts=starts)
        last_answer_at = time.perf_counter()
        answered_after = last_answer_at - posted_at
        answered_before_release = not released.is_set()
        holder.join(timeout=hold_s + 30)
        stop.set()
        reader.join(timeout=60)
        # Those who did not book try again (a wait that outlasted the hold may have booked already).
        again = [index for index in range(CUSTOMERS) if locked_answers[index].outcome != "booked"]
        retry_answers = _post_all(
            port,
            slug=profile.slug,
            sessions=[sessions[index] for index in again],
            starts=[starts[index] for index in again],
            customers=again,
        )
    except bench.BenchBroken as error:
        print(f"bench: BROKEN: {error}")
        bench.print_log_tail(log_path)
        return False
    finally:
        bench.stop_server(server)
        _clear_bookings(profile)

    _print_answers(f"while the row is held ({answered_after * 1000:.0f} ms until the last answer)", locked_answers)
    _print_answers("retry after release", retry_answers)
    print("\ntimes in ms, seen by the client")
    header = f"{'unrelated pages':<22} {'reqs':>5} {'p50':>8} {'p95':>8} {'max':>8} {'non-200':>7}"
    print(header)
    print("-" * len(header))
    print(_page_line("baseline (no lock)", baseline))
    # Sent while booking POSTs were waiting (from the POSTs to the last answer), and over the whole hold.
    waiting = [sample for sent, sample in during if posted_at <= sent <= last_answer_at]
    print(_page_line("while bookings wait", waiting))
    for path in pages:
        print(_page_line(f"  {path[:20]}", [sample for sample in waiting if sample.path == path]))
    print(_page_line(f"whole {hold_s:g} s hold", [sample for _, sample in during]))
    print(
        f"\nbench: [contention] PostgreSQL connections to the bench database during the hold, at most {peak[0]} "
        f"(gunicorn {workers} x {threads} threads, CONN_MAX_AGE {settings.DATABASES['default']['CONN_MAX_AGE']}; "
        "includes this script's own and the holder's)"
    )

    broken = []
    if any(
        answer.status in (0, 500) or answer.outcome.startswith("error") for answer in locked_answers + retry_answers
    ):
        broken.append("a booking POST failed or answered 500")
    booked_while_held = sum(1 for answer in locked_answers if answer.outcome == "booked")
    if booked_while_held:  # only possible when an answer waited past the release
        print(f"bench: [contention] {booked_while_held} booked: their wait outlasted the {hold_s:g} s hold")
    if any(answer.outcome not in ("booked", "busy") for answer in retry_answers):
        broken.append("a retry after the release was neither booked nor 'busy, try again'")
    retry_busy = sum(1 for answer in retry_answers if answer.outcome == "busy")
    if retry_busy:  # a measured outcome, not a broken bench: the burst's own waits outlasted the timeout
        print(f"bench: [contention] {retry_busy} of {len(retry_answers)} retries were told to try again")
    if any(sample.status != 200 for sample in baseline + [sample for _, sample in during]):
        broken.append("an unrelated page did not answer 200")
    if not answered_before_release:
        print("bench: [contention] note: the last booking answer came only after the row was released")
    for problem in broken:
        print(f"bench: BROKEN: [contention] {problem}")
    return not broken
