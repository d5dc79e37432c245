"""The analytics benchmark's own parts at a tiny size (tests/bench/analytics.py): its seed makes what it
promises (bookings inside the two years, consistent money, none of a companion's overlapping, the status
mix; views summing to at least the target; search cells), a second ensure_seeded keeps it, the rollup child
reports the cells it wrote, and the dashboard pages it measures carry the figures its check reads."""

import pytest
from django.db import connection
from django.db.models import F

from analytics.models import DailyRollup, SearchStat
from products.models import DailyStat
from tests.bench import analytics as bench
from tests.bench import seed as bench_seed
from tests.bookings.helpers import make_companion
from tests.conftest import requires_postgresql

pytestmark = [pytest.mark.django_db, requires_postgresql]

BOOKINGS = 300
VIEWS = 20_000


@pytest.fixture
def bench_companions(db):
    profiles = [make_companion() for _ in range(3)]
    for number, profile in enumerate(profiles):
        profile.user.email = f"companion{number}@{bench_seed.EMAIL_DOMAIN}"
        profile.user.save(update_fields=["email"])
    return profiles


def fetch(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_the_seed_makes_two_years_of_consistent_bookings_and_views(bench_companions):
    today = bench._today()
    first_day, last_day = bench.window(today)

    bench.ensure_seeded(bookings=BOOKINGS, views=VIEWS)

    prefix = f"{bench.ANALYTICS_PREFIX}%"
    [(count, first_start, last_start, bad_money)] = fetch(
        "SELECT count(*), min(start AT TIME ZONE 'Asia/Jakarta')::date, max(start AT TIME ZONE 'Asia/Jakarta')::date, "
        "count(*) FILTER (WHERE total <> subtotal + service_fee - discount "
        "OR companion_earnings <> subtotal - commission "
        'OR hold_until < "end" OR closed_at IS NULL) FROM bookings_booking WHERE reference LIKE %s',
        [prefix],
    )
    assert count == BOOKINGS
    assert first_day <= first_start and last_start <= last_day
    assert (last_start - first_start).days > 600  # spread over the two years, not bunched
    assert bad_money == 0
    overlapping = fetch(
        "SELECT count(*) FROM bookings_booking a JOIN bookings_booking b ON a.companion_id = b.companion_id "
        "AND a.id < b.id AND tstzrange(a.start, a.hold_until) && tstzrange(b.start, b.hold_until) "
        "WHERE a.reference LIKE %s AND b.reference LIKE %s",
        [prefix, prefix],
    )[0][0]
    assert overlapping == 0
    statuses = dict(fetch("SELECT status, count(*) FROM bookings_booking WHERE reference LIKE %s GROUP BY 1", [prefix]))
    assert {"completed", "cancelled", "declined", "expired", "withdrawn"} <= set(statuses)
    assert statuses["completed"] > BOOKINGS / 2
    assert fetch("SELECT count(*) FROM bookings_booking WHERE reference LIKE %s AND discount > 0", [prefix])[0][0] > 0

    views = sum(DailyStat.objects.values_list("profile_views", flat=True))
    assert views >= VIEWS
    assert (
        DailyStat.objects.filter(day__lt=first_day).count() == DailyStat.objects.filter(day__gt=last_day).count() == 0
    )
    assert SearchStat.objects.filter(day__gte=first_day, day__lte=last_day).count() == SearchStat.objects.count() > 0
    assert not SearchStat.objects.filter(empty__gt=F("searches")).exists()

    kept = list(fetch("SELECT min(id), max(id) FROM bookings_booking WHERE reference LIKE %s", [prefix]))
    stat_ids = set(DailyStat.objects.values_list("pk", flat=True))
    bench.ensure_seeded(bookings=BOOKINGS, views=VIEWS)  # already there: nothing replaced
    assert fetch("SELECT min(id), max(id) FROM bookings_booking WHERE reference LIKE %s", [prefix]) == kept
    assert set(DailyStat.objects.values_list("pk", flat=True)) == stat_ids


def test_the_rollup_child_reports_what_it_wrote_and_the_dashboard_carries_the_figures(bench_companions, client):
    bench.ensure_seeded(bookings=BOOKINGS, views=VIEWS)
    first_day, last_day = bench.window(bench._today())
    busiest = fetch(
        "SELECT (created_at AT TIME ZONE 'Asia/Jakarta')::date AS day FROM bookings_booking "
        "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
    )[0][0]

    one = bench.child(busiest, busiest, trace=True)
    assert one["cells"] == DailyRollup.objects.filter(day=busiest).count() > 0
    assert one["queries"] > 0 and one["tracemalloc_peak_mb"] > 0

    full = bench.child(first_day, last_day, trace=False)
    assert full["days"] == bench.DAYS
    assert full["cells"] == DailyRollup.objects.filter(day__gte=first_day, day__lte=last_day).count()

    client.force_login(bench.ensure_staff())
    paths = bench.dashboard_paths()
    page = client.get(paths["dashboard_2y"])
    assert page.status_code == 200
    shown = bench.inspect_dashboard(page.content)
    assert shown["days"] == bench.DAYS
    assert shown["requests"] == sum(DailyRollup.objects.values_list("requests", flat=True))
    assert bench.inspect_dashboard(client.get(paths["dashboard"]).content)["days"] == 30
    assert bench.inspect_dashboard(b"<p>no dashboard</p>") == {"requests": 0, "days": 0}
