"""The analytics benchmark (issue 18): two years of activity, the nightly rollup of one day and a full
recompute of the two years (seconds, peak memory), and the dashboard page against the trivial page.

Seeded once (kept while the counts match; otherwise its own rows are replaced), by bulk SQL over
generate_series on top of the bench companions (tests/bench/seed.py):

- Bookings (reference ANALYTICS_PREFIX + a number), --analytics-bookings of them (1,000,000) over the DAYS
  (730) days that end yesterday (Jakarta), by customers of their own (one per 20 bookings, emails at
  ANALYTICS_DOMAIN, sign-ups spread over the two years). They go to the companions that have no booking at
  all yet (all of them on a fresh database; the tenth that tests/bench/history.py leaves without history when
  it was seeded first), in proportion to log-normal weights; each companion's on a grid of their own, 08:00
  to 22:00, so none of a companion's overlap (hold time included) although only bookings that hold time are
  under the exclusion constraint. The volume grows over the two years (daily volume at the end three times
  the start's). About 74% completed, 4% cancelled by the customer, 2% by the companion, 5% declined in time,
  6% unanswered, 6% accepted and never paid (expired), 3% withdrawn; 12% of the paid carry a discount; the
  money fields are consistent (total = subtotal + service fee - discount, earnings = subtotal - commission).
- Counted views, --analytics-views of them (10,000,000 profile views): products.DailyStat rows, per
  companion per day (a companion seen on a day with a chance growing with the two years), profile views
  summing to at least that (search impressions about 5 times as many); analytics.SearchStat rows, per day x
  hour of the week asked for x city x activity (NULL: any), about one row per 10 views, searches and the
  empty ones.

Measured, each in a fresh Python process (its peak memory its own: the rise of the resident set's high-water
mark, VmHWM reset when the rollup starts, over the RSS after Django's setup; and tracemalloc's peak of Python
allocations in a second one-day run):
1. the nightly rollup of a typical day, analytics.nightly.rollup_range (yesterday minus a week), twice: the
   second run (a rerun, replacing the day's rows) with tracemalloc on;
2. a full recompute of the two years, analytics.nightly.rollup_range over the DAYS days: first a slice of
   --analytics-slice-days (60) days; when the slice says the whole would take longer than
   --analytics-full-budget (600 s), the rest of the days is still recomputed (the dashboard needs them) but
   the printed figure for the two years is the slice's extrapolated, and says so;
3. the dashboard page (/admin/analytics/, signed in as a staff member with two-factor login and
   analytics.view_dashboard) with its default range (30 days) and a two-year range, on a gunicorn of its
   own, with the trivial page first: p50/p95 and their ratios to the trivial page, and queries per request.
   Those two are served from the figures' cache after their warm-up (a past range's figures are kept until
   the rollups change); `dash_cold` is 30-day ranges each ending on another day, so every request computes.

The benchmark breaks (never on timings) when the seed is not what it should be, a rollup process fails or
leaves no rows for a day with bookings, or a dashboard request answers other than 200 or without its figures.

The child: `python -m tests.bench.analytics --first <day> --last <day> [--tracemalloc]` prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import time
from dataclasses import astuple, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from tests.bench import history, seed
from tests.bench.memory import reset_peak_rss, rss_kb

BASE_DIR = Path(__file__).resolve().parent.parent.parent
RESULT_MARK = "ANALYTICS-RESULT "
ANALYTICS_DOMAIN = f"analytics.{seed.EMAIL_DOMAIN}"  # its customers and its staff member
ANALYTICS_PREFIX = "KMPA"  # booking references (history's are KMPH, real ones KMP-XXXXXXXX)
STAFF_EMAIL = f"staff@{ANALYTICS_DOMAIN}"
STAFF_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 - bench only, never used to sign in
DAYS = 730
DEFAULT_BOOKINGS = 1_000_000
DEFAULT_VIEWS = 10_000_000
BOOKINGS_PER_CUSTOMER = 20
AWAKE_START_MINUTES = 8 * 60  # bookings start 08:00-22:00 (Jakarta)
AWAKE_MINUTES = 14 * 60
GROWTH_PEAK = 1.5  # the daily volume's density runs from 0.5 to 1.5 over the two years
LONGEST_EXTRA_HOURS = 3
VIEWS_PER_ROW = 4  # profile views per DailyStat row, on average
VIEWS_PER_SEARCH_ROW = 10
# The status mix (cumulative thresholds on one uniform draw; the rest completed).
MIX = (
    ("companion_cancelled", 0.02),
    ("customer_cancelled", 0.04),
    ("declined", 0.05),
    ("unanswered", 0.06),
    ("expired", 0.06),
    ("withdrawn", 0.03),
)
DISCOUNTED = 0.12


class Broken(Exception):
    pass


@dataclass
class PlanRow:
    companion_id: int
    first_number: int
    bookings: int
    min_hours: int
    hour_choices: int
    buffer_minutes: int
    hourly_rate: int


PLAN_COLUMNS = """
    companion_id bigint, first_number bigint, bookings integer, min_hours integer, hour_choices integer,
    buffer_minutes integer, hourly_rate bigint
"""
PLAN_TYPES = ["bigint", "bigint", "integer", "integer", "integer", "integer", "bigint"]


def window(today: date) -> tuple[date, date]:
    """The two years measured: DAYS days ending yesterday."""
    last = today - timedelta(days=1)
    return last - timedelta(days=DAYS - 1), last


def _today() -> date:
    from django.utils import timezone

    from analytics.rollups import WIB

    return timezone.localtime(timezone.now(), WIB).date()


# --- Seed -------------------------------------------------------------------------------------------------


def counts() -> dict[str, int]:
    """What the bench database holds of this seed: bookings, profile views, impressions, DailyStat rows,
    SearchStat rows and searches."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bookings_booking WHERE reference LIKE %s", [f"{ANALYTICS_PREFIX}%"])
        bookings = cursor.fetchone()[0]
        cursor.execute("SELECT count(*), coalesce(sum(profile_views), 0), coalesce(sum(impressions), 0) "
                       "FROM products_dailystat")  # fmt: skip
        stat_rows, views, impressions = cursor.fetchone()
        cursor.execute("SELECT count(*), coalesce(sum(searches), 0) FROM analytics_searchstat")
        search_rows, searches = cursor.fetchone()
    return {
        "bookings": bookings,
        "views": int(views),
        "impressions": int(impressions),
        "stat_rows": stat_rows,
        "search_rows": search_rows,
        "searches": int(searches),
    }


def _plan(rng: random.Random, *, bookings: int) -> list[PlanRow]:
    """The companions without any booking yet, each with its share (history._spread: log-normal weights,
    capped by what fits their grid)."""
    from django.db.models import Exists, OuterRef

    from bookings.models import Booking
    from companions.models import CompanionProfile

    profiles = list(
        CompanionProfile.objects.filter(user__email__endswith=f"@{seed.EMAIL_DOMAIN}")
        .exclude(Exists(Booking.objects.filter(companion=OuterRef("pk"))))
        .order_by("pk")
        .values_list("pk", "min_hours", "max_hours", "buffer_minutes", "hourly_rate")
    )
    caps, weights = [], []
    for _pk, min_hours, max_hours, buffer_minutes, _rate in profiles:
        longest = min(max_hours, min_hours + LONGEST_EXTRA_HOURS) * 60 + buffer_minutes + 30
        caps.append(int(DAYS * AWAKE_MINUTES / (GROWTH_PEAK * longest)))
        weights.append(rng.lognormvariate(0, 0.8))
    shares = history._spread(bookings, weights, caps)
    plan, number = [], 1
    for (pk, min_hours, max_hours, buffer_minutes, rate), share in zip(profiles, shares, strict=True):
        if share:
            choices = min(max_hours, min_hours + LONGEST_EXTRA_HOURS) - min_hours + 1
            plan.append(PlanRow(pk, number, share, min_hours, choices, buffer_minutes, rate))
            number += share
    return plan


# Booking i of a companion with n: u = (i + 0.5) / n placed at x = F^-1(u) of the density 0.5 + x on [0, 1]
# (a volume growing threefold), x spread over the window's awake minutes (08:00-22:00 each day). Consecutive
# bookings are at least (awake minutes / n) / 1.5 apart, which the plan's caps keep above the longest
# booking, its buffer and half an hour (the start is snapped down to 30 minutes).
BOOKINGS_SQL = """
INSERT INTO bookings_booking (
    reference, customer_id, companion_id, start, "end", hold_until, activity_id, meeting_place, note, status,
    hourly_rate, hours, subtotal, service_fee, discount, total, commission_basis_points, commission,
    companion_earnings, response_deadline, payment_deadline, complete_after, created_at, accepted_at, paid_at,
    closed_at, refund_amount, settled_companion_earnings, cancelled_by, reason, cancelled_for_safety{extra[0]})
WITH drawn AS MATERIALIZED (
    SELECT p.*, i, random() AS u_kind, random() AS u_hours, random() AS u_lead, random() AS u_answer,
           random() AS u_close, random() AS u_customer, random() AS u_activity, random() AS u_discount,
           (-0.5 + sqrt(0.25 + 2 * (i + 0.5) / p.bookings)) * %(awake_total)s AS awake_minute
    FROM bench_analytics_plan p CROSS JOIN LATERAL generate_series(0, p.bookings - 1) AS i
), shaped AS (
    SELECT d.*, d.min_hours + floor(d.u_hours * d.hour_choices)::integer AS hours,
           (%(first_day)s::date + floor(d.awake_minute / %(awake)s)::integer)::timestamp AT TIME ZONE 'Asia/Jakarta'
               + (%(awake_start)s + floor(mod(d.awake_minute::numeric, %(awake)s) / 30) * 30) * interval '1 minute'
               AS start_at,
           CASE WHEN d.u_kind < %(t1)s THEN 'companion_cancelled' WHEN d.u_kind < %(t2)s THEN 'customer_cancelled'
                WHEN d.u_kind < %(t3)s THEN 'declined' WHEN d.u_kind < %(t4)s THEN 'unanswered'
                WHEN d.u_kind < %(t5)s THEN 'expired' WHEN d.u_kind < %(t6)s THEN 'withdrawn'
                ELSE 'completed' END AS kind,
           d.activities[1 + floor(d.u_activity * cardinality(d.activities))::integer] AS activity_id
    FROM (SELECT x.*, coalesce(
              (SELECT array_agg(a.activity_id ORDER BY a.activity_id) FROM companions_companionprofile_activities a
               WHERE a.companionprofile_id = x.companion_id), %(any_activity)s::bigint[]) AS activities
          FROM drawn x) d
), priced AS (
    SELECT s.*, s.start_at + s.hours * interval '1 hour' AS end_at,
           s.start_at - interval '3 hours' - s.u_lead * interval '10 days' AS created,
           s.hourly_rate * s.hours AS subtotal,
           (s.hourly_rate * s.hours * 1000 + 5000) / 10000 AS service_fee,
           (s.hourly_rate * s.hours * %(commission_bp)s + 5000) / 10000 AS commission,
           s.kind IN ('completed', 'companion_cancelled', 'customer_cancelled', 'expired') AS accepted,
           s.kind IN ('completed', 'companion_cancelled', 'customer_cancelled') AS paid
    FROM shaped s
), answered AS (
    SELECT p.*, least(p.created + interval '12 hours', p.start_at - interval '2 hours') AS response_by,
           CASE WHEN p.paid AND p.u_discount < %(discounted)s
                THEN least(50000, p.subtotal / 10000 * 1000) ELSE 0 END AS discount
    FROM priced p
), timed AS (
    SELECT a.*, a.created + (a.response_by - a.created) * (0.02 + 0.9 * a.u_answer) AS answered_at
    FROM answered a
), final AS (
    SELECT t.*, least(t.answered_at + interval '1 hour', t.start_at - interval '1 hour') AS pay_by,
           t.answered_at + (least(t.answered_at + interval '1 hour', t.start_at - interval '1 hour')
                            - t.answered_at) * 0.3 AS paid_time
    FROM timed t
)
SELECT %(prefix)s || lpad((f.first_number + f.i)::text, 8, '0'),
       %(first_customer)s + floor(f.u_customer * %(customers)s)::bigint,
       f.companion_id, f.start_at, f.end_at, f.end_at + f.buffer_minutes * interval '1 minute', f.activity_id,
       'Bench: kafe di pusat kota', '',
       CASE f.kind WHEN 'companion_cancelled' THEN 'cancelled' WHEN 'customer_cancelled' THEN 'cancelled'
                   WHEN 'unanswered' THEN 'declined' ELSE f.kind END,
       f.hourly_rate, f.hours, f.subtotal, f.service_fee, f.discount, f.subtotal + f.service_fee - f.discount,
       %(commission_bp)s, f.commission, f.subtotal - f.commission,
       f.response_by,
       CASE WHEN f.accepted THEN f.pay_by END,
       f.end_at + interval '24 hours',
       f.created,
       CASE WHEN f.accepted THEN f.answered_at END,
       CASE WHEN f.paid THEN f.paid_time END,
       CASE f.kind
            WHEN 'completed' THEN f.end_at + interval '24 hours' + f.u_close * interval '5 minutes'
            WHEN 'declined' THEN f.answered_at
            WHEN 'unanswered' THEN f.response_by
            WHEN 'expired' THEN f.pay_by
            WHEN 'withdrawn' THEN f.created + (f.response_by - f.created) * 0.3 * f.u_close
            ELSE f.paid_time + (f.start_at - f.paid_time) * (0.1 + 0.8 * f.u_close)
       END,
       CASE f.kind WHEN 'companion_cancelled' THEN f.subtotal + f.service_fee - f.discount
                   WHEN 'customer_cancelled' THEN (f.subtotal + f.service_fee - f.discount) / 2 END,
       CASE WHEN f.kind LIKE '%%cancelled' THEN 0 END,
       CASE f.kind WHEN 'companion_cancelled' THEN 'companion' WHEN 'customer_cancelled' THEN 'customer'
                   ELSE '' END,
       CASE f.kind WHEN 'companion_cancelled' THEN 'Bench: mohon maaf, saya sakit.'
                   WHEN 'unanswered' THEN 'no answer before the deadline' ELSE '' END,
       false{extra[1]}
FROM final f
"""

BOOKING_COLUMNS = BOOKINGS_SQL[BOOKINGS_SQL.index("(") + 1 : BOOKINGS_SQL.index("{extra[0]})")]
CUSTOMER_COLUMNS = """
    password, is_superuser, email, full_name, phone, role, preferred_language, time_zone, whatsapp_opt_in, avatar,
    is_staff, is_active, date_joined, email_notifications
"""
CUSTOMERS_SQL = (
    f"INSERT INTO accounts_user ({CUSTOMER_COLUMNS}{{extra[0]}})"
    + """
SELECT %(password)s, false, 'customer' || lpad(n::text, 6, '0') || '@' || %(domain)s,
       (%(names)s::text[])[1 + n %% cardinality(%(names)s::text[])] || ' Pelanggan ' || n, '', 'customer',
       %(language)s, %(time_zone)s, false, '', false, true, %(joined)s + n * %(span)s / %(customers)s, true{extra[1]}
FROM generate_series(0, %(customers)s - 1) AS n
"""
)


def _unnamed_flags(cursor, table: str, named: str) -> tuple[str, str]:
    """The NOT NULL columns without a database default that the insert does not name (added by a migration
    since this seed was written): false for a boolean (a new flag off), else the seed is out of date.
    Returns (", col, ...", ", false, ...") to append to the insert's columns and values."""
    cursor.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s "
        "AND is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO' ORDER BY ordinal_position",
        [table],
    )
    names = {name.strip().strip('"') for name in named.split(",")}
    missing = [(column, kind) for column, kind in cursor.fetchall() if column not in names and column != "id"]
    other = [column for column, kind in missing if kind != "boolean"]
    if other:
        raise Broken(f"{table} has new required columns the analytics seed does not fill: {', '.join(other)}")
    return "".join(f", {column}" for column, _kind in missing), ", false" * len(missing)


# A companion is seen on day d (0 = the window's first) with chance share x (0.5 + d / DAYS) (growth), its
# views around its own popularity; impressions about five times the views.
DAILY_STATS_SQL = """
INSERT INTO products_dailystat (profile_id, day, impressions, profile_views)
SELECT s.profile_id, s.day, s.views * (3 + floor(random() * 5)::integer) + floor(random() * 4)::integer, s.views
FROM (
    SELECT p.id AS profile_id, %(first_day)s::date + d AS day,
           1 + floor(-ln(1 - random()) * p.popularity)::integer AS views
    FROM (SELECT id, (%(views_per_row)s - 0.5) * (0.3 + 1.4 * random()) AS popularity
          FROM companions_companionprofile) p
    CROSS JOIN generate_series(0, %(days)s - 1) AS d
    WHERE random() < %(share)s * (0.5 + d::double precision / %(days)s)
) s
"""

# Per day x city x activity (NULL = any), about `share` x the city's weight x growth x 168 x 37/24 cells of
# hours of the week asked for (busy hours 09:00-21:59 about twice as likely), drawn at random and merged where
# one is drawn twice (one row per cell); searches around 10 a cell, up to half of them empty. Drawn per row
# made, not per possible cell (millions), so the cost follows the rows.
SEARCH_STATS_SQL = """
INSERT INTO analytics_searchstat (day, hour_of_week, city_id, activity_id, searches, empty)
SELECT day, hour_of_week, city_id, activity_id, sum(searches), sum(empty)
FROM (
    SELECT g.day, g.city_id, g.activity_id, x.searches, floor(x.searches * random() * 0.5)::integer AS empty,
           floor(random() * 7)::integer * 24
               + CASE WHEN random() < 0.6 THEN 9 + floor(random() * 13) ELSE floor(random() * 24) END::integer
               AS hour_of_week
    FROM (
        SELECT %(first_day)s::date + d AS day, ci.city_id, ac.activity_id,
               floor(%(share)s * ci.weight * (0.5 + d::double precision / %(days)s) * 168 * 37 / 24
                     + random())::integer AS cells
        FROM generate_series(0, %(days)s - 1) AS d
        CROSS JOIN (SELECT id AS city_id, weight FROM unnest(%(city_ids)s::bigint[], %(city_weights)s::float8[])
                        AS t(id, weight)) ci
        CROSS JOIN (SELECT unnest(%(activity_ids)s::bigint[]) AS activity_id) ac
    ) g
    CROSS JOIN LATERAL (
        SELECT 1 + floor(-ln(1 - random()) * %(searches_per_row)s)::integer AS searches
        FROM generate_series(1, g.cells)
    ) x
) drawn
GROUP BY day, hour_of_week, city_id, activity_id
"""


def seed_bookings(*, bookings: int, today: date, rng_seed: int = 2026) -> dict[str, float]:
    """Replaces this seed's bookings and customers by `bookings` new ones (one transaction). Seconds per step."""
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import User
    from companions.models import Activity

    first_day, last_day = window(today)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("DELETE FROM bookings_booking WHERE reference LIKE %s", [f"{ANALYTICS_PREFIX}%"])
        cursor.execute(
            "DELETE FROM accounts_user WHERE email LIKE %s AND email <> %s", [f"%@{ANALYTICS_DOMAIN}", STAFF_EMAIL]
        )
        timings["cleared"] = time.perf_counter() - started
        if not bookings:
            return timings
        step = time.perf_counter()
        plan = _plan(random.Random(rng_seed), bookings=bookings)
        timings["plan"] = time.perf_counter() - step
        step = time.perf_counter()
        cursor.execute("SELECT setseed(%s)", [(rng_seed % 1000) / 1000])
        customers = max(1, bookings // BOOKINGS_PER_CUSTOMER)
        cursor.execute(
            CUSTOMERS_SQL.format(extra=_unnamed_flags(cursor, "accounts_user", CUSTOMER_COLUMNS)),
            {
                "password": make_password("bench-password-not-secret"),
                "domain": ANALYTICS_DOMAIN,
                "names": list(seed.FIRST_NAMES),
                "language": str(User._meta.get_field("preferred_language").get_default()),
                "time_zone": str(User._meta.get_field("time_zone").get_default()),
                # Sign-ups spread over the two years (the people's section counts them per day).
                "joined": datetime.combine(first_day, datetime.min.time(), tzinfo=timezone.get_current_timezone()),
                "span": timedelta(days=DAYS),
                "customers": customers,
            },
        )
        cursor.execute(
            "SELECT min(id), max(id), count(*) FROM accounts_user WHERE email LIKE %s AND email <> %s",
            [f"customer%@{ANALYTICS_DOMAIN}", STAFF_EMAIL],
        )
        first_customer, last_customer, count = cursor.fetchone()
        if count != customers or last_customer - first_customer + 1 != customers:
            raise Broken(f"the {customers:,} analytics customers' ids are not consecutive")
        timings["customers"] = time.perf_counter() - step

        step = time.perf_counter()
        cursor.execute(f"CREATE TEMPORARY TABLE bench_analytics_plan ({PLAN_COLUMNS}) ON COMMIT DROP")
        columns = list(zip(*(astuple(row) for row in plan), strict=True))
        unnest = ", ".join(f"%s::{kind}[]" for kind in PLAN_TYPES)
        cursor.execute(f"INSERT INTO bench_analytics_plan SELECT * FROM unnest({unnest})",  # noqa: S608
                       [list(column) for column in columns])  # fmt: skip
        thresholds, total = {}, 0.0
        for index, (_kind, share) in enumerate(MIX, start=1):
            total += share
            thresholds[f"t{index}"] = total
        cursor.execute(
            BOOKINGS_SQL.format(extra=_unnamed_flags(cursor, "bookings_booking", BOOKING_COLUMNS)),
            {
                **thresholds,
                "awake_total": DAYS * AWAKE_MINUTES,
                "awake": AWAKE_MINUTES,
                "awake_start": AWAKE_START_MINUTES,
                "first_day": first_day,
                "any_activity": [Activity.objects.order_by("pk").values_list("pk", flat=True).first()],
                "commission_bp": settings.BOOKING_COMMISSION_BASIS_POINTS,
                "discounted": DISCOUNTED,
                "prefix": ANALYTICS_PREFIX,
                "first_customer": first_customer,
                "customers": customers,
            },
        )
        if cursor.rowcount != bookings:
            raise Broken(f"inserted {cursor.rowcount:,} bookings, not {bookings:,}")
        timings["bookings"] = time.perf_counter() - step
    return timings


def seed_views(*, views: int, today: date) -> dict[str, float]:
    """Replaces every DailyStat and SearchStat row by the two years' (one transaction): profile views summing
    to at least `views`, topped up by a second pass if the draw fell short."""
    from django.db import connection, transaction

    from companions.models import Activity, City, CompanionProfile

    first_day, _last = window(today)
    timings: dict[str, float] = {}
    profiles = CompanionProfile.objects.count()
    if not profiles:
        raise Broken("no companions to count views of")
    # Expected rows: profiles x DAYS x share (the growth factor averages 1; share at most 2/3, so that
    # share x 1.5 stays a chance), VIEWS_PER_ROW views each, or more when the rows cannot be that many; the
    # views of a row are 1 + floor(an exponential draw x popularity), on average popularity + 1/2.
    share = min(2 / 3, views / VIEWS_PER_ROW / (profiles * DAYS))
    per_row = 1.05 * views / (share * profiles * DAYS)
    cities = list(City.objects.order_by("position").values_list("pk", "slug"))
    city_ids = [None, *(pk for pk, _slug in cities)]
    raw = [2.0] + [float(seed.CITY_WEIGHTS.get(slug, 1)) for _pk, slug in cities]
    city_weights = [weight / max(raw) for weight in raw]
    activity_ids = [None, *Activity.objects.order_by("position").values_list("pk", flat=True)]
    # Expected cells: DAYS x 168 x sum(weights) x activities x share x (busy hours 13/24 twice: 37/24).
    cells = DAYS * 168 * sum(city_weights) * len(activity_ids) * 37 / 24
    search_share = min(1.0, views / VIEWS_PER_SEARCH_ROW / cells)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("TRUNCATE products_dailystat, analytics_searchstat")
        timings["cleared"] = time.perf_counter() - started
        step = time.perf_counter()
        parameters = {"first_day": first_day, "views_per_row": per_row, "days": DAYS, "share": share}
        cursor.execute(DAILY_STATS_SQL, parameters)
        cursor.execute("SELECT coalesce(sum(profile_views), 0) FROM products_dailystat")
        short = views - int(cursor.fetchone()[0])
        if short > 0:  # the draw fell short: add the missing views to the busiest rows, one each
            cursor.execute(
                "UPDATE products_dailystat SET profile_views = profile_views + 1, impressions = impressions + 5 "
                "WHERE id IN (SELECT id FROM products_dailystat ORDER BY profile_views DESC, id LIMIT %s)",
                [short],
            )
            if cursor.rowcount < short:
                raise Broken(f"{short:,} views short and only {cursor.rowcount:,} rows to add them to")
        timings["daily stats"] = time.perf_counter() - step
        step = time.perf_counter()
        cursor.execute(
            SEARCH_STATS_SQL,
            {
                "first_day": first_day,
                "days": DAYS,
                "share": search_share,
                "searches_per_row": VIEWS_PER_SEARCH_ROW - 1,
                "city_ids": city_ids,
                "city_weights": city_weights,
                "activity_ids": activity_ids,
            },
        )
        timings["search stats"] = time.perf_counter() - step
    return timings


def ensure_seeded(*, bookings: int = DEFAULT_BOOKINGS, views: int = DEFAULT_VIEWS) -> dict[str, int]:
    """This seed as asked, seeding only what is missing or different; prints what it did. Returns counts()."""
    from django.db import connection

    held = counts()
    today = _today()
    changed = False
    if held["bookings"] != bookings:
        started = time.perf_counter()
        steps = seed_bookings(bookings=bookings, today=today)
        changed = True
        print(
            f"bench: [analytics] seeded {bookings:,} bookings over {DAYS} days "
            f"in {time.perf_counter() - started:.1f} s "
            f"({', '.join(f'{name} {seconds:.1f} s' for name, seconds in steps.items())})"
        )
    # Views are drawn (about 5% over the target); twice the target or more: seeded for a larger run.
    if held["views"] < views or held["views"] >= views * 2 or not held["search_rows"]:
        started = time.perf_counter()
        steps = seed_views(views=views, today=today)
        changed = True
        print(
            f"bench: [analytics] seeded the counted views in {time.perf_counter() - started:.1f} s "
            f"({', '.join(f'{name} {seconds:.1f} s' for name, seconds in steps.items())})"
        )
    if changed and not connection.in_atomic_block:  # VACUUM cannot run in a transaction (a test's)
        seed.vacuum_analyze()
    held = counts()
    if held["bookings"] != bookings or held["views"] < views or not held["search_rows"]:
        raise Broken(f"the seed holds {held}, not {bookings:,} bookings and {views:,} views")
    return held


def describe_seed(held: dict[str, int]) -> str:
    from django.db import connection

    first_day, last_day = window(_today())
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*), count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE paid_at IS NOT NULL),
                   coalesce(sum(total) FILTER (WHERE paid_at IS NOT NULL), 0), count(DISTINCT companion_id),
                   min(created_at), max(created_at)
            FROM bookings_booking WHERE reference LIKE %s
            """,
            [f"{ANALYTICS_PREFIX}%"],
        )
        total, completed, paid, gmv, companions, first, last = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM bookings_booking")
        everything = cursor.fetchone()[0]
    return (
        f"{total:,} analytics bookings ({completed:,} completed, {paid:,} paid, GMV Rp {gmv:,}) of {companions:,} "
        f"companions, requested {first:%Y-%m-%d} to {last:%Y-%m-%d} ({everything:,} bookings in the table in all); "
        f"{held['views']:,} profile views and {held['impressions']:,} impressions in {held['stat_rows']:,} "
        f"DailyStat rows; {held['searches']:,} searches in {held['search_rows']:,} SearchStat rows; "
        f"window {first_day} to {last_day}"
    )


# --- Measure: the rollups, in a child process --------------------------------------------------------------


def _child(first: date, last: date, *, trace: bool) -> dict:
    command = [sys.executable, "-m", "tests.bench.analytics", "--first", first.isoformat(), "--last", last.isoformat()]
    command += ["--tracemalloc"] * trace
    completed = subprocess.run(  # noqa: S603 - our own module, with our own arguments
        command,
        cwd=BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.bench", "PYTHONUNBUFFERED": "1"},
        capture_output=True,
        text=True,
        timeout=7200,
    )
    result = None
    for line in completed.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            result = json.loads(line[len(RESULT_MARK) :])
        else:
            print(f"bench: [analytics]   {line}")
    if completed.returncode or result is None:
        tail = "\n".join(completed.stderr.splitlines()[-15:])
        raise Broken(f"the rollup process ({first} to {last}) exited with {completed.returncode}:\n{tail}")
    return result


def _describe_rollup(result: dict) -> str:
    memory = (
        f"peak memory +{result['rss_delta_mb']:.1f} MB RSS (VmHWM since {result['rss_peak_since']}) over "
        f"{result['rss_baseline_mb']:.0f} MB after setup"
    )
    if result.get("tracemalloc_peak_mb") is not None:
        memory += f", tracemalloc peak {result['tracemalloc_peak_mb']:.1f} MB"
    days = result["days"]
    per_day = f" ({result['seconds'] / days:.3f} s a day)" if days > 1 else ""
    return (
        f"{result['seconds']:.2f} s for {days} day(s){per_day}; {result['cells']:,} cells; "
        f"{result['queries']:,} queries; {memory}"
    )


def _rollup_cells() -> tuple[int, int]:
    """(rollup rows, days with rows) in the window."""
    from django.db import connection

    first_day, last_day = window(_today())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(DISTINCT day) FROM analytics_dailyrollup WHERE day BETWEEN %s AND %s",
            [first_day, last_day],
        )
        return cursor.fetchone()


def measure_rollups(*, slice_days: int, full_budget_s: float) -> dict:
    """Prints and returns the rollup figures; raises Broken if a run fails or leaves days without rows."""
    first_day, last_day = window(_today())
    typical = last_day - timedelta(days=7)
    figures: dict = {}
    for label, trace in (("one day", False), ("one day again, with tracemalloc", True)):
        result = _child(typical, typical, trace=trace)
        figures[label] = result
        print(f"bench: [analytics] nightly rollup of {typical} ({label}): {_describe_rollup(result)}")
        if not result["cells"]:
            raise Broken(f"the rollup of {typical} wrote no cells although the day has bookings")
    slice_days = max(1, min(slice_days, DAYS))
    slice_first = last_day - timedelta(days=slice_days - 1)  # the busiest end of the two years
    sliced = _child(slice_first, last_day, trace=False)
    figures["slice"] = sliced
    print(f"bench: [analytics] recompute of the last {slice_days} days: {_describe_rollup(sliced)}")
    estimate = sliced["seconds"] * DAYS / slice_days
    if slice_days == DAYS:
        figures["full"] = {**sliced, "measured": True}
    elif estimate <= full_budget_s:
        full = _child(first_day, last_day, trace=False)
        figures["full"] = {**full, "measured": True}
        print(f"bench: [analytics] full recompute, {DAYS} days (measured): {_describe_rollup(full)}")
    else:
        rest = _child(first_day, slice_first - timedelta(days=1), trace=False)
        print(
            f"bench: [analytics] the other {DAYS - slice_days} days recomputed for the dashboard: "
            f"{_describe_rollup(rest)}"
        )
        figures["full"] = {
            "measured": False,
            "seconds": estimate,
            "rss_delta_mb": max(sliced["rss_delta_mb"], rest["rss_delta_mb"]),
        }
        print(
            f"bench: [analytics] full recompute, {DAYS} days: EXTRAPOLATED from the {slice_days}-day slice "
            f"(busiest days) to {estimate:.0f} s (over --analytics-full-budget {full_budget_s:.0f} s); measured in "
            f"two parts: {sliced['seconds'] + rest['seconds']:.0f} s; peak memory the larger part's, "
            f"+{figures['full']['rss_delta_mb']:.1f} MB RSS"
        )
    cells, days = _rollup_cells()
    if days < DAYS - 3:  # the first days' requests may precede the window's first bookings
        raise Broken(f"after the recompute only {days} of {DAYS} days have rollup rows")
    print(f"bench: [analytics] rollup rows in the window: {cells:,} over {days} days")
    return figures


def child(first: date, last: date, *, trace: bool) -> dict:
    import django

    django.setup()
    import tracemalloc

    from django.db import connection
    from django.utils import timezone

    from analytics import nightly

    connection.ensure_connection()
    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    baseline = rss_kb("VmRSS") / 1024
    # The peak since here, not since the process began (Django's setup and imports may have peaked higher).
    resettable = reset_peak_rss()
    if trace:
        tracemalloc.start()
    now = timezone.now()
    with connection.execute_wrapper(count):
        started = time.perf_counter()
        cells = nightly.rollup_range(first, last, now=now)  # every section, then the cohorts, as the nightly task
        seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
    return {
        "seconds": seconds,
        "days": (last - first).days + 1,
        "cells": cells,
        "queries": queries,
        "rss_baseline_mb": baseline,
        "rss_delta_mb": rss_kb("VmHWM") / 1024 - baseline,
        "rss_peak_since": "the rollup's start" if resettable else "the process's start",
        "tracemalloc_peak_mb": peak,
    }


# --- Measure: the dashboard page -------------------------------------------------------------------------

NUMBER = rb"([0-9][0-9.,]*)"
REQUESTS_SHOWN = re.compile(rb'data-testid="step-requests">.*?data-testid="count">' + NUMBER + rb"<", re.DOTALL)
DAILY_TABLE = re.compile(rb'<table data-testid="daily-table">(.*?)</table>', re.DOTALL)
DAY_ROW = re.compile(rb'<th scope="row">\d\d-\d\d-\d{4}</th>')


def inspect_dashboard(body: bytes) -> dict[str, int]:
    """The requests the funnel shows (0 when missing or suppressed) and the days of the money table by day
    (data-testid="daily-table"; other sections have rows by day too)."""
    found = REQUESTS_SHOWN.search(body)
    requests = int(re.sub(rb"[^0-9]", b"", found.group(1))) if found else 0
    table = DAILY_TABLE.search(body)
    return {"requests": requests, "days": len(DAY_ROW.findall(table.group(1))) if table else 0}


def ensure_staff():
    """The bench's staff member: two-factor login on (the admin lets no one in without it) and
    analytics.view_dashboard."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Permission

    from accounts.models import User

    user, _ = User.objects.get_or_create(
        email=STAFF_EMAIL,
        defaults={"full_name": "Bench Analyst", "is_staff": True, "password": make_password("bench-not-secret")},
    )
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, STAFF_TOTP_SECRET)
    user.user_permissions.add(Permission.objects.get(codename="view_dashboard", content_type__app_label="analytics"))
    return user


def staff_session_cookie() -> str:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(ensure_staff())
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def dashboard_paths() -> dict[str, str]:
    from urllib.parse import urlencode

    from django.urls import reverse

    first_day, last_day = window(_today())
    url = reverse("analytics:dashboard")
    # Cold: a 30-day range ending on a different day for each request, so no request finds its figures in the
    # cache (the dashboard keeps a past range's figures until the rollups change).
    cold = [
        f"{url}?{urlencode({'start': last_day - timedelta(days=back + 29), 'end': last_day - timedelta(days=back)})}"
        for back in range(1, DAYS - 30)
    ]
    return {
        "dashboard": url,
        "dashboard_2y": f"{url}?{urlencode({'start': first_day, 'end': last_day})}",
        "dashboard_cold": cold,
    }


def measure_pages(*, arguments: argparse.Namespace, log_path: Path) -> list[dict]:
    """The trivial page, then the dashboard (default range and two years), on a gunicorn of its own."""
    from tests.bench.load import HEADERS, run_load
    from tests.bench.run import (
        free_port,
        print_ratios,
        print_table,
        requests_for,
        start_server,
        stop_server,
        summarise,
        wait_until_healthy,
    )

    cookie = staff_session_cookie()
    paths = dashboard_paths()
    port = free_port()
    print(
        f"\nbench: [analytics] dashboard: gunicorn on 127.0.0.1:{port}, {arguments.workers} workers x "
        f"{arguments.threads} threads; {arguments.requests} requests per page at concurrency {arguments.concurrency} "
        f"({paths['dashboard']} and {paths['dashboard_2y']}; server log: {log_path})"
    )
    server = start_server(
        port=port, workers=arguments.workers, threads=arguments.threads, log_path=log_path, page_cache_seconds=0
    )
    rows = []
    try:
        wait_until_healthy(server, port=port)
        pages = [
            ("trivial", "/terms/", None, None),
            ("dashboard", paths["dashboard"], {**HEADERS, "Cookie": cookie}, inspect_dashboard),
            ("dash_2y", paths["dashboard_2y"], {**HEADERS, "Cookie": cookie}, inspect_dashboard),
            ("dash_cold", paths["dashboard_cold"], {**HEADERS, "Cookie": cookie}, inspect_dashboard),
        ]
        for name, path, headers, inspect in pages:
            wanted = requests_for(name, arguments)
            if isinstance(path, list):  # cold: no warm-up (it would only warm other ranges), each path once
                measured = path[:wanted]
                warmup = run_load(port=port, paths=[], concurrency=1, budget_s=1, headers=headers)
            else:
                measured = [path] * wanted
                warmup = run_load(port=port, paths=[path] * arguments.warmup, concurrency=arguments.concurrency,
                                  budget_s=60, headers=headers)  # fmt: skip
            result = run_load(
                port=port,
                paths=measured,
                concurrency=arguments.concurrency,
                budget_s=arguments.budget,
                headers=headers,
                inspect=inspect,
            )
            row = summarise(name, result, arguments.concurrency)
            row["non_200"] += len(warmup.failures) + len(warmup.errors)
            rows.append(row)
            print(f"bench: [analytics] {name}: {row['requests']} requests in {result.elapsed_s:.1f} s")
            for failure in (warmup.failures + result.failures)[:5]:
                print(f"bench:   {failure.status} on {failure.path}")
            for error in (warmup.errors + result.errors)[:5]:
                print(f"bench:   {error}")
    finally:
        stop_server(server)
    print_table(rows, [])
    print_ratios(rows, "off")
    for row in rows:
        if row["non_200"] or not row["requests"]:
            raise Broken(f"{row['scenario']}: {row['non_200']} requests failed of {row['requests']}")
        content = row["content"]
        if row["scenario"] != "trivial":
            days = DAYS if row["scenario"] == "dash_2y" else 30
            if not content or content["requests"][0] == 0 or content["days"][0] != days:
                raise Broken(f"{row['scenario']}: pages without their figures ({content}; want {days} days)")
    return rows


def run(*, arguments: argparse.Namespace, log_path: Path) -> bool:
    """Seed (if needed), the rollups, the dashboard. Prints the figures; False if the benchmark broke."""
    try:
        held = ensure_seeded(bookings=arguments.analytics_bookings, views=arguments.analytics_views)
        print(f"\nbench: [analytics] {describe_seed(held)}")
        figures = measure_rollups(
            slice_days=arguments.analytics_slice_days, full_budget_s=arguments.analytics_full_budget
        )
        rows = measure_pages(arguments=arguments, log_path=log_path)
    except Broken as error:
        print(f"bench: BROKEN: [analytics] {error}", file=sys.stderr)
        return False
    print_summary(held, figures, rows)
    return True


def print_summary(held: dict, figures: dict, rows: list[dict]) -> None:
    one, traced, full = figures["one day"], figures["one day again, with tracemalloc"], figures["full"]
    trivial = next(row for row in rows if row["scenario"] == "trivial")
    print()
    print("=" * 100)
    print(
        f"ANALYTICS SUMMARY: {held['bookings']:,} bookings over {DAYS} days, {held['views']:,} profile views "
        f"(+{held['impressions']:,} impressions) in {held['stat_rows']:,} DailyStat rows, {held['searches']:,} "
        f"searches in {held['search_rows']:,} SearchStat rows"
    )
    print(
        f"nightly rollup of one day: {one['seconds']:.2f} s, +{one['rss_delta_mb']:.1f} MB RSS, tracemalloc peak "
        f"{traced['tracemalloc_peak_mb']:.1f} MB, {one['queries']} queries, {one['cells']} cells"
    )
    how = "measured" if full["measured"] else f"EXTRAPOLATED from {figures['slice']['days']} days"
    print(f"full recompute of {DAYS} days: {full['seconds']:.0f} s ({how}), +{full['rss_delta_mb']:.1f} MB RSS")
    for row in rows:
        if row["scenario"] == "trivial":
            continue
        print(
            f"{row['scenario']:<10} p50 {row['server_p50']:.1f} ms ({row['server_p50'] / trivial['server_p50']:.2f}x "
            f"trivial), p95 {row['server_p95']:.1f} ms ({row['server_p95'] / trivial['server_p95']:.2f}x), "
            f"{row['queries_max']} queries per request, rps {row['rps']:.1f} ({row['rps'] / trivial['rps']:.3f}x)"
        )
    print("=" * 100)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--analytics-bookings", type=int, default=DEFAULT_BOOKINGS, help="analytics: bookings over the two years"
    )
    parser.add_argument(
        "--analytics-views", type=int, default=DEFAULT_VIEWS, help="analytics: profile views counted (DailyStat)"
    )
    parser.add_argument(
        "--analytics-slice-days", type=int, default=60, help="analytics: days of the first (slice) recompute"
    )
    parser.add_argument(
        "--analytics-full-budget",
        type=float,
        default=600,
        help="analytics: seconds the slice may predict for the full recompute before it is extrapolated instead",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="one rollup run (tests/bench/analytics.py)")
    parser.add_argument("--first", required=True, type=date.fromisoformat)
    parser.add_argument("--last", required=True, type=date.fromisoformat)
    parser.add_argument("--tracemalloc", action="store_true")
    arguments = parser.parse_args()
    if "bench" not in os.environ.get("DJANGO_SETTINGS_MODULE", ""):
        parser.error("run by tests/bench/run.py, with the bench settings")
    result = child(arguments.first, arguments.last, trace=arguments.tracemalloc)
    print(RESULT_MARK + json.dumps(result))


if __name__ == "__main__":
    main()
