"""The analytics dashboard (issue 18): figures from hand-built DailyRollup rows, the permission, bad
filter input, small-cell suppression, and a query count that does not grow with the range."""

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from analytics import nightly
from analytics.models import DailyRollup, ProfileViewRollup, SearchStat
from analytics.selectors import Period, cached_figures, dashboard_figures, rollups_changed
from companions.models import Activity, City
from tests.conftest import STAFF_TOTP_SECRET
from tests.factories import UserFactory
from tests.resilience.outage import redis_down

pytestmark = pytest.mark.django_db

URL = "/admin/analytics/"


def staff_user(**extra):
    """Staff with two-factor login on (the admin site lets no one in without it)."""
    from allauth.mfa.totp.internal.auth import TOTP

    user = UserFactory(is_staff=True, **extra)
    TOTP.activate(user, STAFF_TOTP_SECRET)
    return user


def cell(day: date, city=None, activity=None, **figures) -> DailyRollup:
    return DailyRollup.objects.create(day=day, city=city, activity=activity, computed_at=timezone.now(), **figures)


@pytest.fixture
def places(reference_data):
    jakarta, bandung = City.objects.get(slug="jakarta"), City.objects.get(slug="bandung")
    activity = Activity.objects.order_by("position").first()
    return jakarta, bandung, activity


@pytest.fixture
def viewer(db):
    user = staff_user()
    user.user_permissions.add(Permission.objects.get(codename="view_dashboard", content_type__app_label="analytics"))
    return user


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


def yesterday() -> date:
    return timezone.localdate() - timedelta(days=1)


def row(page, testid: str):
    """The text of each cell of a table row, by data-testid."""
    import re

    match = re.search(rf'data-testid="{testid}">(.*?)</tr>', page, re.S)
    assert match, testid
    return [re.sub(r"<[^>]+>", "", value).strip() for value in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", match[1], re.S)]


def test_the_url_is_under_the_admin_path():
    assert reverse("analytics:dashboard") == URL


def test_figures_against_hand_built_rows(viewer_client, places):
    jakarta, bandung, activity = places
    day = yesterday()
    cell(
        day,
        jakarta,
        activity,
        requests=40,
        accepted=30,
        paid=24,
        completed=20,
        declined=6,
        unanswered=4,
        unpaid=6,
        cancelled_by_customer=2,
        cancelled_by_companion=1,
        withdrawn=1,
        gmv=6_000_000,
        service_fees=600_000,
        commission=900_000,
        discounts=100_000,
        accept_minutes=30 * 45,
    )
    cell(
        day - timedelta(days=3),
        bandung,
        activity,
        requests=10,
        accepted=10,
        paid=6,
        completed=5,
        gmv=1_000_000,
        service_fees=100_000,
        commission=150_000,
        discounts=50_000,
        accept_minutes=10 * 15,
    )
    # The period before (31..60 days ago) and a day outside both periods.
    cell(
        day - timedelta(days=35),
        jakarta,
        activity,
        requests=20,
        accepted=15,
        gmv=2_000_000,
        service_fees=200_000,
        commission=300_000,
        accept_minutes=15 * 20,
    )
    cell(day - timedelta(days=90), jakarta, activity, requests=999, gmv=99_000_000)
    # The funnel's first steps: searches (any hour) and profile views, in the period and the one before.
    SearchStat.objects.create(day=day, hour_of_week=20, city=jakarta, activity=activity, searches=300, empty=30)
    SearchStat.objects.create(day=day - timedelta(days=3), hour_of_week=44, city=None, searches=100, empty=10)
    SearchStat.objects.create(day=day - timedelta(days=35), hour_of_week=44, city=jakarta, searches=70, empty=7)
    ProfileViewRollup.objects.create(day=day, city=jakarta, views=150, computed_at=timezone.now())
    ProfileViewRollup.objects.create(day=day - timedelta(days=1), city=bandung, views=50, computed_at=timezone.now())

    response = viewer_client.get(URL)
    assert response.status_code == 200
    figures = response.context["figures"]
    now, before = figures["now"], figures["before"]
    assert (now["gmv"], now["net"]) == (7_000_000, 600_000 + 900_000 - 100_000 + 100_000 + 150_000 - 50_000)
    assert (before["gmv"], before["net"]) == (2_000_000, 500_000)
    assert [step["count"] for step in figures["steps"]] == [400, 200, 50, 40, 30, 25]
    assert [step["conversion"] for step in figures["steps"]] == [None, 50.0, 25.0, 80.0, 75.0, 83.3]
    assert figures["steps"][0]["before"] == 70
    assert {loss["name"]: loss["count"] for loss in figures["losses"]} == {
        "declined": 6,
        "unanswered": 4,
        "unpaid": 6,
        "cancelled_by_customer": 2,
        "cancelled_by_companion": 1,
        "withdrawn": 1,
    }
    assert figures["losses"][0]["share"] == 12.0  # 6 of 50 requests
    assert (now["accept_average"], before["accept_average"]) == (round((1350 + 150) / 40), 20)
    page = response.content.decode()
    assert row(page, "step-accepted")[1:3] == ["40", "80,0%"]  # Indonesian number format
    # Counts under 5 people are never shown, in the table or the chart data.
    assert row(page, "loss-unanswered")[1:] == ["&lt; 5", "—"]
    assert row(page, "loss-withdrawn")[1:] == ["&lt; 5", "—"]
    assert response.context["charts"]["losses"]["series"][0]["data"] == [6, None, 6, None, None, None]
    assert 'id="chart-money-data"' in page and "<canvas" in page
    assert len(response.context["charts"]["money"]["labels"]) == 30


def test_the_city_and_activity_filters(viewer_client, places):
    jakarta, bandung, activity = places
    cell(yesterday(), jakarta, activity, requests=40, gmv=5_000_000)
    cell(yesterday(), bandung, activity, requests=12, gmv=1_000_000)
    figures = viewer_client.get(URL, {"city": "bandung"}).context["figures"]
    assert (figures["now"]["requests"], figures["now"]["gmv"]) == (12, 1_000_000)
    other = Activity.objects.exclude(pk=activity.pk).first()
    figures = viewer_client.get(URL, {"activity": other.slug}).context["figures"]
    assert figures["now"]["requests"] == 0


def test_a_chosen_range_and_its_comparison(viewer_client, places):
    jakarta, _, activity = places
    cell(date(2026, 3, 10), jakarta, activity, gmv=100)
    cell(date(2026, 3, 5), jakarta, activity, gmv=7)
    response = viewer_client.get(URL, {"start": "2026-03-06", "end": "2026-03-15"})
    figures = response.context["figures"]
    assert (figures["previous"].start, figures["previous"].end) == (date(2026, 2, 24), date(2026, 3, 5))
    assert (figures["now"]["gmv"], figures["before"]["gmv"]) == (100, 7)


@pytest.mark.parametrize(
    "query",
    [
        {"start": "2026-05-10", "end": "2026-05-01"},  # reversed
        {"start": "not a date"},
        {"city": "atlantis"},
        {"activity": "skydiving-on-mars"},
        {"end": "9999-12-31"},
        {"start": "0001-01-01", "end": "2026-01-01"},
    ],
)
def test_bad_filter_input_is_a_message_not_an_error(viewer_client, places, query):
    response = viewer_client.get(URL, query)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert 'data-testid="filter-errors"' in response.content.decode()
    period = response.context["figures"]["period"]
    assert (period.end, period.days) == (yesterday(), 30)  # the default range instead


def test_a_huge_range_is_capped_at_two_years_with_a_note(viewer_client, places):
    response = viewer_client.get(URL, {"start": "2020-01-01", "end": "2026-01-01"})
    assert response.status_code == 200
    assert not response.context["form"].errors
    assert response.context["figures"]["period"].days == 731
    assert response.context["figures"]["period"].end == date(2026, 1, 1)
    assert 'data-testid="filter-note"' in response.content.decode()


def test_queries_do_not_grow_with_the_range(viewer_client, places):
    jakarta, bandung, activity = places
    for offset in range(60):
        cell(yesterday() - timedelta(days=offset), jakarta, activity, requests=offset, gmv=offset * 1000)
        cell(yesterday() - timedelta(days=offset), bandung, activity, requests=1, gmv=10)

    def count(query):
        with CaptureQueriesContext(connection) as queries:
            assert viewer_client.get(URL, query).status_code == 200
        return len(queries)

    count({})  # the first request of a session reads a little more (the session, the user's permissions)
    short = count({"start": str(yesterday()), "end": str(yesterday())})
    long = count({"start": str(yesterday() - timedelta(days=700)), "end": str(yesterday())})
    assert short == long
    rollups_changed()  # as after a nightly run: the figures are read again
    with CaptureQueriesContext(connection) as queries:
        viewer_client.get(URL, {"start": str(yesterday() - timedelta(days=700)), "end": str(yesterday())})
    rollup_reads = [q["sql"] for q in queries if "analytics_dailyrollup" in q["sql"]]
    assert len(rollup_reads) == 3
    # Until the rollups change again, the same figures come from the cache: no rollup read at all.
    with CaptureQueriesContext(connection) as queries:
        viewer_client.get(URL, {"start": str(yesterday() - timedelta(days=700)), "end": str(yesterday())})
    assert not [q["sql"] for q in queries if "analytics_" in q["sql"]]
    # Only rollups and the filters' own choices: never the bookings or payments tables.
    assert not [q["sql"] for q in queries if "bookings_booking" in q["sql"] or "payments_" in q["sql"]]


def test_staff_without_the_permission_get_403(client, db):
    client.force_login(staff_user())
    assert client.get(URL).status_code == 403


def test_superuser_and_permitted_staff_get_200(client, viewer, places):
    client.force_login(staff_user(is_superuser=True))
    assert client.get(URL).status_code == 200
    client.force_login(viewer)
    assert client.get(URL).status_code == 200


def test_visitors_and_non_staff_are_sent_to_the_admin_login(client, db):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    client.force_login(UserFactory())
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


def test_the_form_shows_the_default_range(viewer_client, places):
    page = viewer_client.get(URL).content.decode()
    first = yesterday() - timedelta(days=29)
    assert f'value="{first:%Y-%m-%d}"' in page and f'value="{yesterday():%Y-%m-%d}"' in page


def test_the_admin_index_links_the_dashboard_for_those_who_may_see_it(client, viewer):
    client.force_login(viewer)
    assert 'id="analytics-link"' in client.get(reverse("admin:index")).content.decode()
    client.force_login(staff_user())
    assert 'id="analytics-link"' not in client.get(reverse("admin:index")).content.decode()


def test_a_rollup_run_shows_new_figures_at_once(viewer_client, places):
    jakarta, _bandung, activity = places
    cell(yesterday(), jakarta, activity, requests=10, gmv=1_000_000)
    assert viewer_client.get(URL).context["figures"]["now"]["gmv"] == 1_000_000
    cell(yesterday() - timedelta(days=1), jakarta, activity, requests=10, gmv=500_000)
    assert viewer_client.get(URL).context["figures"]["now"]["gmv"] == 1_000_000  # cached until a rollup runs
    nightly.rollup_range(yesterday() - timedelta(days=400), yesterday() - timedelta(days=400))
    assert viewer_client.get(URL).context["figures"]["now"]["gmv"] == 1_500_000


def test_the_figures_are_computed_with_the_cache_down(monkeypatch, places):
    jakarta, _bandung, activity = places
    cell(yesterday(), jakarta, activity, requests=10, gmv=1_000_000)
    period = Period(yesterday() - timedelta(days=29), yesterday())

    def compute():
        return dashboard_figures(period=period, today=yesterday() + timedelta(days=1))

    with redis_down(monkeypatch):
        rollups_changed()  # swallowed by the cache
        figures = cached_figures(
            compute, period=period, city=None, activity=None, today=yesterday() + timedelta(days=1)
        )
    assert figures["now"]["gmv"] == 1_000_000
