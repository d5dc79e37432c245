"""Benchmark history: a year of bookings and the customers' published reviews on top of the bench companions
(tests/bench/seed.py), for issue 13's figures: search sorted "best rated", a profile with many reviews, and
the daily level job over 1,000,000 bookings.

Seeded by `python -m tests.bench.seed --bookings 1000000 --reviews 300000` (or by tests/bench/run.py when
a scenario needs it), in one transaction of bulk SQL (INSERT ... SELECT over generate_series): the
per-companion plan is drawn in Python (how many bookings, how reliable, how well reviewed) and PostgreSQL
generates the rows from it.

- Customers: one per 20 bookings (50,000 for 1,000,000), emails at HISTORY_DOMAIN.
- Bookings (reference HISTORY_PREFIX + a number): none for a tenth of the companions, the rest skewed
  (log-normal weights times how long the companion has been around: from 90 days before the seed's
  `listed_at`, which spans the last year, so some are older than the level job's 365 days); each companion's
  on a grid of their own, so no two overlap (hold time included). About 85% completed, 3% cancelled by the
  customer, 0–12% cancelled by the companion after accepting, 4% declined in time and 0–20% unanswered
  (declined by the clock); a quarter of a companion's customers come back. No payment or ledger rows.
- Reviews: customers' reviews of the companion (direction of_companion), all published, on completed
  bookings only (one per booking); none for a fifth of the companions; stars around a per-companion mean;
  8% answered by the companion, 0.3% hidden by staff. The profile's rating_count/rating_total/rating_score
  are then set as companions.services.profile_rating_change would have left them.
"""

from __future__ import annotations

import random
import time
from dataclasses import astuple, dataclass
from datetime import datetime, timedelta

from tests.bench import seed

HISTORY_DOMAIN = f"history.{seed.EMAIL_DOMAIN}"  # its customers (not counted as bench companions)
HISTORY_PREFIX = "KMPH"  # booking references (real ones are KMP-XXXXXXXX)
DEFAULT_BOOKINGS = 1_000_000
DEFAULT_REVIEWS = 300_000
BOOKINGS_PER_CUSTOMER = 20
BEFORE_LISTING = timedelta(days=90)  # how long before the seed's listed_at a companion's history starts
LAST_END = timedelta(days=2)  # every booking ended (and completed, 24 h later) before now - 1 day
LONGEST_EXTRA_HOURS = 3  # a booking lasts min_hours to min_hours + 3 (within max_hours)
CUSTOMER_CANCELS = 0.03
DECLINED_IN_TIME = 0.04
REVIEW_OVERSAMPLING = 1.25  # completed bookings drawn for a review, then REVIEWS of them at random
REVIEW_TEXTS = (
    "",
    "Tepat waktu dan ramah, ngobrolnya nyambung. Recommended!",
    "Teman jalan yang asyik, tahu banyak tempat makan enak.",
    "Sopan, komunikatif, sesuai dengan profilnya.",
    "Menyenangkan, tapi agak telat sedikit.",
    "Great company for the concert, very easy to talk to.",
    "Sangat membantu jadi pemandu kota, terima kasih!",
    "Oke, sesuai harapan.",
)


@dataclass
class PlanRow:
    """One companion's share of the history (a row of the temporary table the SQL reads)."""

    companion_id: int
    user_id: int
    first_number: int  # the number of its first booking (references are unique)
    bookings: int
    window_start: datetime
    spacing_minutes: float  # one booking per slot of this length, from window_start on
    min_hours: int
    hour_choices: int  # a booking lasts min_hours + 0..hour_choices-1 hours
    buffer_minutes: int
    hourly_rate: int
    activity_id: int
    companion_cancels: float  # chance that an accepted booking is cancelled by the companion
    unanswered: float  # chance that a request is left unanswered (declined by the clock)
    regulars: float  # chance that the customer is one of the companion's five regulars
    review_share: float  # chance that a completed booking is drawn for a review
    quality: float  # the stars its reviews are drawn around


def history_counts() -> tuple[int, int]:
    """(bookings, reviews) of the seeded history in the bench database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bookings_booking WHERE reference LIKE %s", [f"{HISTORY_PREFIX}%"])
        bookings = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM reviews_review r JOIN bookings_booking b ON b.id = r.booking_id "
            "WHERE b.reference LIKE %s",
            [f"{HISTORY_PREFIX}%"],
        )
        return bookings, cursor.fetchone()[0]


def _spread(total: int, weights: list[float], caps: list[int]) -> list[int]:
    """`total` split in proportion to `weights`, none above its cap (what a capped share leaves goes to the
    others, in proportion again); whole numbers by largest remainder."""
    if total > sum(cap for cap, weight in zip(caps, weights, strict=True) if weight > 0):
        raise ValueError(f"{total:,} bookings do not fit the companions' calendars; seed more companions")
    quotas = [0.0] * len(weights)
    open_ = [index for index, weight in enumerate(weights) if weight > 0 and caps[index] > 0]
    left = float(total)
    while left > 1e-6 and open_:
        weight = sum(weights[index] for index in open_)
        for index in open_:
            quotas[index] += left * weights[index] / weight
        left = 0.0
        for index in open_:
            if quotas[index] > caps[index]:
                left += quotas[index] - caps[index]
                quotas[index] = caps[index]
        open_ = [index for index in open_ if quotas[index] < caps[index]]
    counts = [int(quota) for quota in quotas]
    by_remainder = sorted(
        (index for index in range(len(counts)) if counts[index] < caps[index]),
        key=lambda index: counts[index] - quotas[index],
    )
    for index in by_remainder[: total - sum(counts)]:
        counts[index] += 1
    return counts


def _plan(rng: random.Random, *, bookings: int, reviews: int, now: datetime) -> list[PlanRow]:
    from django.db.models import Min

    from companions.models import CompanionProfile

    profiles = list(
        CompanionProfile.objects.filter(user__email__endswith=f"@{seed.EMAIL_DOMAIN}")
        .annotate(activity_id=Min("activities"))
        .order_by("pk")
        .values_list(
            "pk", "user_id", "listed_at", "min_hours", "max_hours", "buffer_minutes", "hourly_rate", "activity_id"
        )
    )
    last_end = now - LAST_END
    weights, caps, windows = [], [], []
    for _pk, _user, listed_at, min_hours, max_hours, buffer_minutes, _rate, _activity in profiles:
        window_start = listed_at - BEFORE_LISTING
        span = max(0.0, (last_end - window_start).total_seconds() / 60)
        # The longest booking, its buffer and an hour of slack (half before, half after) fit every slot.
        longest = min(max_hours, min_hours + LONGEST_EXTRA_HOURS) * 60 + buffer_minutes + 60
        windows.append((window_start, span))
        caps.append(int(span // longest))
        weights.append(rng.lognormvariate(0, 1.0) * span if rng.random() >= 0.1 else 0.0)
    counts = _spread(bookings, weights, caps)
    plan, number = [], 1
    for (pk, user_id, _listed, min_hours, max_hours, buffer_minutes, rate, activity_id), count, (start, span) in zip(
        profiles, counts, windows, strict=True
    ):
        if not count:
            continue
        good = rng.random() < 0.85
        plan.append(
            PlanRow(
                companion_id=pk,
                user_id=user_id,
                first_number=number,
                bookings=count,
                window_start=start,
                spacing_minutes=span / count,
                min_hours=min_hours,
                hour_choices=min(max_hours, min_hours + LONGEST_EXTRA_HOURS) - min_hours + 1,
                buffer_minutes=buffer_minutes,
                hourly_rate=rate,
                activity_id=activity_id,
                companion_cancels=0.12 * rng.random() ** 3,
                unanswered=0.2 * rng.random() ** 3,
                regulars=rng.uniform(0.1, 0.4),
                review_share=0.0 if rng.random() < 0.2 else rng.uniform(0.3, 1.0),
                quality=4.2 + 1.0 * rng.random() ** 0.8 if good else 2.8 + 1.4 * rng.random(),
            )
        )
        number += count
    # Scale the review shares so that about REVIEW_OVERSAMPLING x `reviews` completed bookings are drawn.
    completed_share = 1 - CUSTOMER_CANCELS - DECLINED_IN_TIME
    expected = sum(row.review_share * row.bookings * (completed_share - row.companion_cancels - row.unanswered)
                   for row in plan)  # fmt: skip
    if reviews:
        factor = REVIEW_OVERSAMPLING * reviews / expected if expected else 0
        for row in plan:
            row.review_share = min(1.0, row.review_share * factor)
    return plan


PLAN_COLUMNS = """
    companion_id bigint, user_id bigint, first_number bigint, bookings integer, window_start timestamptz,
    spacing_minutes double precision, min_hours integer, hour_choices integer, buffer_minutes integer,
    hourly_rate bigint, activity_id bigint, companion_cancels double precision, unanswered double precision,
    regulars double precision, review_share double precision, quality double precision
"""
PLAN_TYPES = [
    "bigint", "bigint", "bigint", "integer", "timestamptz", "double precision", "integer", "integer", "integer",
    "bigint", "bigint", "double precision", "double precision", "double precision", "double precision",
    "double precision",
]  # fmt: skip

CUSTOMERS_SQL = """
INSERT INTO accounts_user (password, is_superuser, email, full_name, phone, role, preferred_language, time_zone,
                           whatsapp_opt_in, avatar, is_staff, is_active, date_joined, email_notifications,
                           marketing_opt_in, message_emails, has_blocks)
SELECT %(password)s, false, 'customer' || lpad(n::text, 6, '0') || '@' || %(domain)s,
       (%(names)s::text[])[1 + n %% cardinality(%(names)s::text[])] || ' Pelanggan ' || n, '', 'customer',
       %(language)s, %(time_zone)s, false, '', false, true, %(joined)s, true, false, true, false
FROM generate_series(0, %(customers)s - 1) AS n
"""

# Each booking in its companion's slot i: [window_start + i x spacing, + spacing), which holds the longest
# booking, its buffer and an hour of slack, so no two of a companion's bookings (hold time included) overlap.
BOOKINGS_SQL = """
INSERT INTO bookings_booking (
    reference, customer_id, companion_id, start, "end", hold_until, activity_id, meeting_place, note, status,
    hourly_rate, hours, subtotal, service_fee, discount, total, commission_basis_points, commission,
    companion_earnings, response_deadline, payment_deadline, complete_after, created_at, accepted_at, paid_at,
    closed_at, refund_amount, settled_companion_earnings, cancelled_by, reason, cancelled_for_safety)
WITH drawn AS MATERIALIZED (
    SELECT p.*, i, random() AS u_kind, random() AS u_jitter, random() AS u_hours, random() AS u_lead,
           random() AS u_answer, random() AS u_close, random() AS u_customer, random() AS u_regular
    FROM bench_history_plan p CROSS JOIN LATERAL generate_series(0, p.bookings - 1) AS i
), shaped AS (
    SELECT d.*, d.min_hours + floor(d.u_hours * d.hour_choices)::integer AS hours,
           d.window_start + d.i * d.spacing_minutes * interval '1 minute' AS slot_start,
           CASE WHEN d.u_kind < d.companion_cancels THEN 'companion_cancelled'
                WHEN d.u_kind < d.companion_cancels + %(customer_cancels)s THEN 'customer_cancelled'
                WHEN d.u_kind < d.companion_cancels + %(customer_cancels)s + d.unanswered THEN 'unanswered'
                WHEN d.u_kind < d.companion_cancels + %(customer_cancels)s + d.unanswered + %(declined)s
                     THEN 'declined'
                ELSE 'completed' END AS kind
    FROM drawn d
), timed AS (
    SELECT s.*,
           date_bin(interval '30 minutes',
                    s.slot_start + interval '30 minutes' + s.u_jitter * interval '1 minute'
                        * (s.spacing_minutes - s.hours * 60 - s.buffer_minutes - 60),
                    timestamptz '2000-01-01') AS start_at,
           s.hourly_rate * s.hours AS subtotal
    FROM shaped s
), requested AS (
    SELECT t.*, t.start_at + t.hours * interval '1 hour' AS end_at,
           t.start_at - interval '3 hours' - t.u_lead * interval '10 days' AS created,
           (t.subtotal * 1000 + 5000) / 10000 AS service_fee,
           (t.subtotal * %(commission_bp)s + 5000) / 10000 AS commission
    FROM timed t
), answered AS (
    SELECT r.*, least(r.created + interval '12 hours', r.start_at - interval '2 hours') AS response_by
    FROM requested r
), paid AS (
    SELECT a.*, a.created + (a.response_by - a.created) * (0.02 + 0.9 * a.u_answer) AS answered_at,
           a.kind IN ('completed', 'companion_cancelled', 'customer_cancelled') AS accepted
    FROM answered a
), final AS (
    SELECT p.*, least(p.answered_at + interval '1 hour', p.start_at - interval '1 hour') AS pay_by
    FROM paid p
)
SELECT %(prefix)s || lpad((f.first_number + f.i)::text, 8, '0'),
       %(first_customer)s + CASE WHEN f.u_regular < f.regulars
                                 THEN (f.companion_id * 7919 + floor(f.u_customer * 5)::bigint) %% %(customers)s
                                 ELSE floor(f.u_customer * %(customers)s)::bigint END,
       f.companion_id, f.start_at, f.end_at, f.end_at + f.buffer_minutes * interval '1 minute', f.activity_id,
       'Bench: kafe di pusat kota', '',
       CASE f.kind WHEN 'completed' THEN 'completed' WHEN 'companion_cancelled' THEN 'cancelled'
                   WHEN 'customer_cancelled' THEN 'cancelled' ELSE 'declined' END,
       f.hourly_rate, f.hours, f.subtotal, f.service_fee, 0, f.subtotal + f.service_fee, %(commission_bp)s,
       f.commission, f.subtotal - f.commission,
       f.response_by,
       CASE WHEN f.accepted THEN f.pay_by END,
       f.end_at + interval '24 hours',
       f.created,
       CASE WHEN f.accepted THEN f.answered_at END,
       CASE WHEN f.accepted THEN f.answered_at + (f.pay_by - f.answered_at) * 0.3 END,
       CASE f.kind
            WHEN 'completed' THEN f.end_at + interval '24 hours' + f.u_close * interval '5 minutes'
            WHEN 'declined' THEN f.answered_at
            WHEN 'unanswered' THEN f.response_by
            ELSE f.answered_at + (f.pay_by - f.answered_at) * 0.3
                 + (f.start_at - f.answered_at - (f.pay_by - f.answered_at) * 0.3) * (0.1 + 0.8 * f.u_close)
       END,
       CASE WHEN f.kind LIKE '%%cancelled' THEN f.subtotal + f.service_fee END,
       CASE WHEN f.kind LIKE '%%cancelled' THEN 0 END,
       CASE f.kind WHEN 'companion_cancelled' THEN 'companion' WHEN 'customer_cancelled' THEN 'customer'
                   ELSE '' END,
       CASE f.kind WHEN 'companion_cancelled' THEN 'Bench: mohon maaf, saya sakit.'
                   WHEN 'unanswered' THEN 'no answer before the deadline' ELSE '' END,
       false
FROM final f
"""

REVIEWS_SQL = """
INSERT INTO reviews_review (
    direction, overall, punctuality, communication, as_described, respected_boundaries, text, created_at,
    window_closes_at, published_at, reply, replied_at, hidden_at, hidden_reason, author_id, booking_id,
    companion_id, hidden_by_id, subject_id)
WITH completed AS MATERIALIZED (
    -- random() drawn here, per booking: in a WHERE beside p's columns it would be pushed down to the plan's
    -- scan and drawn once per companion
    SELECT b.id, b.customer_id, b.companion_id, b.closed_at, p.user_id, p.quality, p.review_share,
           random() AS u_pick
    FROM bookings_booking b JOIN bench_history_plan p ON p.companion_id = b.companion_id
    WHERE b.reference LIKE %(bookings)s AND b.status = 'completed'
), chosen AS MATERIALIZED (
    SELECT c.*, random() AS u_stars, random() AS u_sub, random() AS u_text, random() AS u_written,
           random() AS u_published, random() AS u_reply, random() AS u_hidden
    FROM completed c WHERE c.u_pick < c.review_share ORDER BY random() LIMIT %(reviews)s
), starred AS (
    SELECT c.*, greatest(1, least(5, round(c.quality + (c.u_stars - 0.5) * 2.0)))::integer AS stars,
           c.closed_at + interval '14 days' AS window_closes,
           c.closed_at + least(interval '5 days', %(now)s - c.closed_at) * c.u_written AS written
    FROM chosen c
), published AS (
    SELECT s.*, s.written + least(s.window_closes - s.written, %(now)s - s.written) * s.u_published AS published
    FROM starred s
)
SELECT 'of_companion', p.stars,
       greatest(1, p.stars - (p.u_sub < 0.25)::integer), greatest(1, p.stars - (p.u_sub < 0.10)::integer),
       greatest(1, p.stars - (p.u_sub > 0.85)::integer), greatest(1, p.stars - (p.u_sub > 0.97)::integer),
       (%(texts)s::text[])[1 + floor(p.u_text * cardinality(%(texts)s::text[]))::integer],
       p.written, p.window_closes, p.published,
       CASE WHEN p.u_reply < 0.08 THEN 'Terima kasih banyak, sampai jumpa lagi!' ELSE '' END,
       CASE WHEN p.u_reply < 0.08 THEN p.published + (%(now)s - p.published) * 0.05 END,
       CASE WHEN p.u_hidden < 0.003 THEN p.published + (%(now)s - p.published) * 0.5 END,
       CASE WHEN p.u_hidden < 0.003 THEN 'Bench: melanggar pedoman komunitas.' ELSE '' END,
       p.customer_id, p.id, p.companion_id, NULL, p.user_id
FROM published p
"""

# What companions.services.profile_rating_change leaves after each publication: the count and sum of the
# published, not hidden, customer reviews, and (sum + prior) x 1000 / (count + prior) in integers, as
# PostgreSQL divides them there.
RATINGS_SQL = """
UPDATE companions_companionprofile p
SET rating_count = coalesce(s.n, 0), rating_total = coalesce(s.total, 0),
    rating_score = (coalesce(s.total, 0) + %(prior_stars)s) * 1000 / (coalesce(s.n, 0) + %(prior_reviews)s)
FROM companions_companionprofile q LEFT JOIN (
    SELECT companion_id, count(*) AS n, sum(overall) AS total FROM reviews_review
    WHERE direction = 'of_companion' AND published_at IS NOT NULL AND hidden_at IS NULL GROUP BY companion_id
) s ON s.companion_id = q.id
WHERE p.id = q.id
"""


def seed_history(*, bookings: int, reviews: int, rng_seed: int = 2026) -> dict[str, float]:
    """Adds the customers, `bookings` bookings and `reviews` published reviews, and the profiles' ratings,
    in one transaction (an interrupted seed leaves nothing). Call on a bench database without history.
    Returns seconds per step."""
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import User
    from companions.models import RATING_PRIOR_REVIEWS, RATING_PRIOR_STARS

    now = timezone.now()
    rng = random.Random(rng_seed)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    plan = _plan(rng, bookings=bookings, reviews=reviews, now=now)
    timings["plan"] = time.perf_counter() - started
    customers = max(1, bookings // BOOKINGS_PER_CUSTOMER)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")
        # JIT compiling these long expressions took 15-20 s of a 100,000-booking seed; executing them, 7 s.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SELECT setseed(%s)", [(rng_seed % 1000) / 1000])

        step = time.perf_counter()
        cursor.execute(
            CUSTOMERS_SQL,
            {
                "password": make_password("bench-password-not-secret"),
                "domain": HISTORY_DOMAIN,
                "names": seed.FIRST_NAMES,
                "language": str(User._meta.get_field("preferred_language").get_default()),
                "time_zone": str(User._meta.get_field("time_zone").get_default()),
                "joined": now - timedelta(days=600),
                "customers": customers,
            },
        )
        # Their ids are consecutive (one INSERT, nothing else writes to the bench database meanwhile), so a
        # booking's customer is the first id plus a number: indexing an array of 50,000 ids copied it per row.
        cursor.execute(
            "SELECT min(id), max(id), count(*) FROM accounts_user WHERE email LIKE %s", [f"%@{HISTORY_DOMAIN}"]
        )
        first_customer, last_customer, count = cursor.fetchone()
        if count != customers or last_customer - first_customer + 1 != customers:
            raise RuntimeError(f"the {customers:,} history customers' ids are not consecutive")
        timings["customers"] = time.perf_counter() - step

        step = time.perf_counter()
        cursor.execute(f"CREATE TEMPORARY TABLE bench_history_plan ({PLAN_COLUMNS}) ON COMMIT DROP")
        columns = list(zip(*(astuple(row) for row in plan), strict=True))
        unnest = ", ".join(f"%s::{kind}[]" for kind in PLAN_TYPES)
        insert = f"INSERT INTO bench_history_plan SELECT * FROM unnest({unnest})"  # noqa: S608 - our constants
        cursor.execute(insert, [list(column) for column in columns])
        cursor.execute(
            BOOKINGS_SQL,
            {
                "first_customer": first_customer,
                "customers": customers,
                "prefix": HISTORY_PREFIX,
                "customer_cancels": CUSTOMER_CANCELS,
                "declined": DECLINED_IN_TIME,
                "commission_bp": settings.BOOKING_COMMISSION_BASIS_POINTS,
            },
        )
        if cursor.rowcount != bookings:
            raise RuntimeError(f"inserted {cursor.rowcount:,} bookings, not {bookings:,}")
        timings["bookings"] = time.perf_counter() - step

        step = time.perf_counter()
        if reviews:
            cursor.execute(
                REVIEWS_SQL,
                {"bookings": f"{HISTORY_PREFIX}%", "reviews": reviews, "now": now, "texts": list(REVIEW_TEXTS)},
            )
            if cursor.rowcount != reviews:
                raise RuntimeError(
                    f"only {cursor.rowcount:,} completed bookings were drawn for {reviews:,} reviews: "
                    "seed more bookings or fewer reviews"
                )
        cursor.execute(
            RATINGS_SQL,
            {"prior_stars": RATING_PRIOR_STARS * RATING_PRIOR_REVIEWS, "prior_reviews": RATING_PRIOR_REVIEWS},
        )
        timings["reviews"] = time.perf_counter() - step
    step = time.perf_counter()
    seed.vacuum_analyze()
    timings["vacuum"] = time.perf_counter() - step
    return timings


def describe_history() -> str:
    """What the seeded history holds, for the seed's and the benchmark's headers."""
    from django.db import connection
    from django.utils import timezone

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*), count(*) FILTER (WHERE status = 'completed'),
                   count(*) FILTER (WHERE status = 'completed' AND closed_at >= %(year)s),
                   count(*) FILTER (WHERE status = 'cancelled' AND cancelled_by = 'companion'),
                   count(DISTINCT companion_id), count(DISTINCT customer_id)
            FROM bookings_booking WHERE reference LIKE %(prefix)s
            """,
            {"prefix": f"{HISTORY_PREFIX}%", "year": timezone.now() - timedelta(days=365)},
        )
        total, completed, in_year, companion_cancelled, companions, customers = cursor.fetchone()
        cursor.execute(
            """
            SELECT count(*) FILTER (WHERE rating_count > 0), count(*) FILTER (WHERE rating_count >= 3),
                   coalesce(max(rating_count), 0), sum(rating_count)
            FROM companions_companionprofile
            """
        )
        reviewed, rated, most, published = cursor.fetchone()
    return (
        f"{total:,} history bookings ({completed:,} completed, {in_year:,} of them in the last 365 days; "
        f"{companion_cancelled:,} cancelled by the companion) of {companions:,} companions and {customers:,} "
        f"customers; {published or 0:,} published reviews shown (not hidden) on {reviewed:,} profiles "
        f"({rated:,} with a rating shown, at most {most:,} on one)"
    )
