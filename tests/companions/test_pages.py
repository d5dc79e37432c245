from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from companions.models import CompanionProfile, TimeOff
from tests.companions.helpers import listed_companion
from tests.factories import CompanionFactory

pytestmark = pytest.mark.django_db

SEARCH = "companions:search"


def result_slugs(response) -> list[str]:
    return [card.profile.slug for card in response.context["cards"]]


def search(client, **params):
    response = client.get(reverse(SEARCH), params)
    assert response.status_code == 200
    return response


@pytest.fixture
def people():
    return {
        "ayu": listed_companion(
            name="Ayu",
            city="bandung",
            rate=150_000,
            gender="female",
            born=date(1998, 1, 1),
            activities=("hangout", "culinary"),
            languages=("id", "en"),
        ),
        "bima": listed_companion(
            name="Bima",
            city="bandung",
            rate=300_000,
            gender="male",
            born=date(1990, 1, 1),
            activities=("sports",),
            languages=("id", "jv"),
            bio="Pelari pagi dan pemain badminton. Teman olahraga yang sabar dan tepat waktu.",
        ),
        "citra": listed_companion(
            name="Citra",
            city="denpasar",
            rate=500_000,
            gender="female",
            born=date(2001, 6, 1),
            activities=("guide",),
            languages=("id", "ban", "en"),
        ),
    }


def test_every_listed_companion_without_filters(client, people):
    assert sorted(result_slugs(search(client))) == sorted(profile.slug for profile in people.values())


def test_unverified_incomplete_or_paused_never_appear_nor_open_for_others(client, people):
    paused = listed_companion(name="Paused", is_paused=True)
    CompanionProfile.objects.filter(pk=paused.pk).update(is_listed=False)
    draft = CompanionProfile.objects.create(user=CompanionFactory(), slug="draft", display_name="Draft")
    slugs = result_slugs(search(client))
    assert "draft" not in slugs and paused.slug not in slugs
    assert client.get(reverse("companions:profile", args=["draft"])).status_code == 404
    assert client.get(reverse("companions:profile", args=[paused.slug])).status_code == 404
    # The owner previews their own unlisted page.
    client.force_login(draft.user)
    response = client.get(reverse("companions:profile", args=["draft"]))
    assert response.status_code == 200 and response.context["is_preview"] is True
    # Another companion still gets 404.
    client.force_login(paused.user)
    assert client.get(reverse("companions:profile", args=["draft"])).status_code == 404


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"city": "bandung"}, {"ayu", "bima"}),
        ({"activity": "sports"}, {"bima"}),
        ({"language": "en"}, {"ayu", "citra"}),
        ({"gender": "female"}, {"ayu", "citra"}),
        ({"price_min": "200000"}, {"bima", "citra"}),
        ({"price_max": "300000"}, {"ayu", "bima"}),
        ({"price_min": "200000", "price_max": "400000"}, {"bima"}),
        ({"q": "badminton"}, {"bima"}),
        ({"q": "CITRA"}, {"citra"}),
        ({"city": "bandung", "gender": "male", "activity": "sports"}, {"bima"}),
    ],
)
def test_each_filter(client, people, params, expected):
    found = {slug.split("-")[0] for slug in result_slugs(search(client, **params))}
    assert found == expected


def test_age_filter(client, people):
    today = timezone.localdate()
    ages = {name: profile.user.age_on(today) for name, profile in people.items()}
    found = {s.split("-")[0] for s in result_slugs(search(client, age_min=ages["ayu"], age_max=ages["ayu"]))}
    assert found == {"ayu"}
    found = {s.split("-")[0] for s in result_slugs(search(client, age_min=ages["bima"]))}
    assert found == {"bima"}


def test_free_at_a_date_and_time(client, people):
    saturday = next(
        timezone.localdate() + timedelta(days=offset)
        for offset in range(3, 10)
        if (timezone.localdate() + timedelta(days=offset)).weekday() == 5
    )
    # Everyone works Saturday 10.00–14.00 local time (helpers default). Citra is in Bali (WITA).
    found = {s.split("-")[0] for s in result_slugs(search(client, date=saturday.isoformat(), time="10:00", hours=2))}
    assert found == {"ayu", "bima", "citra"}  # 10.00 WIB is 11.00 WITA: Citra fits 11.00–13.00 WITA
    found = {s.split("-")[0] for s in result_slugs(search(client, date=saturday.isoformat(), time="12:00", hours=2))}
    assert found == {"ayu", "bima"}  # 12.00 WIB = 13.00 WITA: Citra stops at 14.00 WITA, 2 h do not fit
    found = {s.split("-")[0] for s in result_slugs(search(client, date=saturday.isoformat(), time="09:00", hours=2))}
    assert found == {"citra"}  # 09.00 WIB = 10.00 WITA; Ayu and Bima start at 10.00 WIB
    TimeOff.objects.create(profile=people["ayu"], start_date=saturday, end_date=saturday)
    found = {s.split("-")[0] for s in result_slugs(search(client, date=saturday.isoformat(), hours=2))}
    assert found == {"bima", "citra"}


@pytest.mark.parametrize(
    ("sort", "order"),
    [("price_asc", ["ayu", "bima", "citra"]), ("price_desc", ["citra", "bima", "ayu"])],
)
def test_sorts(client, people, sort, order):
    assert [slug.split("-")[0] for slug in result_slugs(search(client, sort=sort))] == order


def test_newest_sort(client, people):
    now = timezone.now()
    for offset, name in enumerate(["citra", "ayu", "bima"]):
        # Days back, past the 48 hours in which a new companion shows to Kompanion Plus members only.
        CompanionProfile.objects.filter(pk=people[name].pk).update(listed_at=now - timedelta(days=3 + offset))
    assert [slug.split("-")[0] for slug in result_slugs(search(client, sort="newest"))] == ["citra", "ayu", "bima"]


@pytest.mark.parametrize(
    "params",
    [
        {"price_min": "abc"},
        {"date": "2026-13-45"},
        {"time": "25:99"},
        {"hours": "many"},
        {"city": "atlantis"},
        {"sort": "; DROP TABLE"},
        {"age_min": "-5"},
        {"page": "9999"},
        {"page": "x"},
        {"language": "klingon", "activity": "<script>"},
    ],
)
def test_bad_parameters_are_ignored_never_a_500(client, people, params):
    response = search(client, **params)
    assert len(result_slugs(response)) == 3 or params.get("page")


def test_pagination(client):
    for index in range(30):
        listed_companion(name=f"p{index:02d}")
    first = search(client, sort="price_asc")
    second = search(client, sort="price_asc", page=2)
    assert len(result_slugs(first)) == 24 and len(result_slugs(second)) == 6
    assert not set(result_slugs(first)) & set(result_slugs(second))
    assert first.context["page_obj"].has_next and not second.context["page_obj"].has_next
    # A page past the last shows the last page, saying so (never "30 companions" beside "none found").
    beyond = search(client, sort="price_asc", page=99)
    assert result_slugs(beyond) == result_slugs(second)
    assert (beyond.context["page_obj"].number, beyond.context["page_obj"].requested) == (2, 99)


def test_counts_show_what_is_loaded_and_whether_there_is_more(client):
    for index in range(30):
        listed_companion(name=f"c{index:03d}")
    first, second = search(client), search(client, page=2)
    assert (first.context["result_count"], first.context["result_count_more"]) == (24, True)
    assert (second.context["result_count"], second.context["result_count_more"]) == (30, False)


def test_htmx_gets_only_the_results(client, people):
    response = client.get(reverse(SEARCH), {"city": "bandung"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert sorted(result_slugs(response)) == sorted([people["ayu"].slug, people["bima"].slug])


def count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params or {}).status_code == 200
    return len(queries)


def test_search_query_count_does_not_grow_with_results(client):
    for index in range(3):
        listed_companion(name=f"a{index}")
    few = count_queries(client, reverse(SEARCH), {"city": "jakarta", "date": "2026-12-05", "hours": 2})
    for index in range(20):
        listed_companion(name=f"b{index}", activities=("hangout", "sports", "culinary"), languages=("id", "en"))
    many = count_queries(client, reverse(SEARCH), {"city": "jakarta", "date": "2026-12-05", "hours": 2})
    assert few == many
    # city lookup, count, page, cover photos, activities; the filter form's three choice lists
    assert many <= 8


def test_profile_query_count_is_constant(client, django_assert_max_num_queries):
    small = listed_companion(name="small")
    big = listed_companion(
        name="big",
        activities=("hangout", "sports", "culinary", "guide"),
        languages=("id", "en", "jv"),
        ranges=[(day, 8 * 60, 600) for day in range(7)],
    )
    for offset in range(5):
        TimeOff.objects.create(
            profile=big,
            start_date=date(2027, 1, 1) + timedelta(days=offset * 3),
            end_date=date(2027, 1, 2) + timedelta(days=offset * 3),
        )
    small_count = count_queries(client, reverse("companions:profile", args=[small.slug]))
    big_count = count_queries(client, reverse("companions:profile", args=[big.slug]))
    assert small_count == big_count
    with django_assert_max_num_queries(8):
        client.get(reverse("companions:profile", args=[big.slug]))


def test_profile_shows_fourteen_days_of_free_times_in_the_companions_zone(client):
    bali = listed_companion(name="Made", city="denpasar", ranges=[(day, 10 * 60, 240) for day in range(7)])
    response = client.get(reverse("companions:profile", args=[bali.slug]))
    days = response.context["days"]
    assert len(days) == 14
    zone = ZoneInfo("Asia/Makassar")
    later_days = [day for day in days[1:] if day.starts]
    assert later_days and all(
        start.astimezone(zone).strftime("%H:%M") in {"10:00", "10:30", "11:00", "11:30", "12:00", "12:30", "13:00"}
        for day in later_days
        for start in day.starts
    )
    assert response.context["zone_abbr"] == "WITA"
    assert isinstance(days[0].starts, list) and datetime  # aware datetimes, rendered by the template
