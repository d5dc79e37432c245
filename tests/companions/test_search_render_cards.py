"""Search result cards (issue 12): a constant number of queries however many results, and a card cache
keyed by each companion's own version, so one change re-renders one card, not the page's others."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from companions import forms, page_cache
from companions.models import CompanionPhoto, CompanionProfile
from tests.companions.helpers import listed_companion
from tests.companions.test_search_render import next_saturday
from tests.resilience.outage import redis_down

pytestmark = pytest.mark.django_db

URL = reverse("companions:search")


def full_companion(name: str) -> CompanionProfile:
    profile = listed_companion(
        name=name, activities=("hangout", "sports", "culinary", "guide"), languages=("id", "en"), rate=175_000
    )
    CompanionPhoto.objects.create(
        profile=profile,
        image=f"photos/{name}.jpg",
        thumbnail=f"photos/{name}-t.jpg",
        width=800,
        height=600,
        is_cover=True,
    )
    return profile


def queries_for(client, params: dict) -> tuple[int, int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, params)
    assert response.status_code == 200
    return len(queries), len(response.context["cards"]), [query["sql"][:300] for query in queries.captured_queries]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"city": "jakarta", "activity": "hangout", "date": "{day}", "time": "10:00", "hours": 2},
        {"city": "jakarta", "date": "{day}", "hours": 2, "language": "en", "sort": "price_asc"},
    ],
    ids=["everything", "city-activity-day-time", "city-day-language"],
)
def test_queries_stay_the_same_for_3_and_30_results(client, params):
    params = {key: str(value).replace("{day}", next_saturday().isoformat()) for key, value in params.items()}
    for index in range(3):
        full_companion(f"a{index}")
    few, few_cards, few_sql = queries_for(client, params)
    for index in range(27):
        full_companion(f"b{index}")
    many, many_cards, many_sql = queries_for(client, params)
    assert (few_cards, many_cards) == (3, 24)
    # The statements go into the message: a count that differs only in some test orders says which ones.
    assert few == many <= 8, "\n".join(["3 results:", *few_sql, "30 results:", *many_sql])


def card_names(response) -> dict[str, str]:
    """slug -> the name its card shows."""
    found = {}
    for part in response.content.decode().split('class="companion-card__link" href="/c/')[1:]:
        slug, rest = part.split("/", 1)
        found[slug] = rest.split('">', 1)[1].split("<", 1)[0]
    return found


def rename_behind_the_cache(profile: CompanionProfile, name: str) -> None:
    """A change no service announced: only a cache that was not used shows it."""
    CompanionProfile.objects.filter(pk=profile.pk).update(display_name=name)


@pytest.fixture
def cache_on(settings):
    settings.COMPANION_PAGE_CACHE_SECONDS = 600
    settings.COMPANION_FRAGMENT_CACHE_SECONDS = 600


def test_one_change_rerenders_only_that_companions_card(client, cache_on, django_capture_on_commit_callbacks):
    ayu, bima = full_companion("Ayu"), full_companion("Bima")
    assert card_names(client.get(URL)) == {ayu.slug: "Ayu", bima.slug: "Bima"}
    rename_behind_the_cache(ayu, "Ayu Baru")
    rename_behind_the_cache(bima, "Bima Baru")
    with django_capture_on_commit_callbacks(execute=True):
        page_cache.profile_changed(ayu.slug)  # what every service writing Ayu's profile or bookings calls
    # Another search (not the cached page): Ayu's card is rendered again, Bima's comes from the card cache.
    assert card_names(client.get(URL, {"sort": "price_asc"})) == {ayu.slug: "Ayu Baru", bima.slug: "Bima"}


def test_cards_are_kept_per_language(client, cache_on):
    full_companion("Ayu")
    indonesian = client.get(URL).content.decode()
    client.cookies["kompanion_language"] = "en"
    english = client.get(URL, {"sort": "newest"}).content.decode()
    assert "KTP terverifikasi" in indonesian and "/jam" in indonesian and "Rp\u00a0175.000" in indonesian
    assert "KTP verified" in english and "/hour" in english and "Rp\u00a0175,000" in english
    assert "KTP terverifikasi" not in english


def test_without_the_fragment_cache_no_card_is_cached(client, settings):
    settings.COMPANION_PAGE_CACHE_SECONDS = 600  # the page cache alone does not keep cards
    ayu = full_companion("Ayu")
    client.get(URL)
    rename_behind_the_cache(ayu, "Ayu Baru")
    assert card_names(client.get(URL, {"sort": "newest"})) == {ayu.slug: "Ayu Baru"}


def test_with_the_page_cache_off_cards_are_still_kept_and_a_change_renews_one(
    client, settings, django_capture_on_commit_callbacks
):
    """Production after a booking: pages render again, but unchanged companions' cards come from the cache."""
    settings.COMPANION_FRAGMENT_CACHE_SECONDS = 600
    ayu, bima = full_companion("Ayu"), full_companion("Bima")
    client.get(URL)
    rename_behind_the_cache(ayu, "Ayu Baru")
    rename_behind_the_cache(bima, "Bima Baru")
    assert card_names(client.get(URL)) == {ayu.slug: "Ayu", bima.slug: "Bima"}  # the page itself is rendered
    with django_capture_on_commit_callbacks(execute=True):
        page_cache.profile_changed(ayu.slug)
    assert card_names(client.get(URL)) == {ayu.slug: "Ayu Baru", bima.slug: "Bima"}


def test_cards_render_while_redis_is_down(client, cache_on, monkeypatch):
    ayu = full_companion("Ayu")
    with redis_down(monkeypatch):
        first = client.get(URL, {"city": "jakarta"})
        rename_behind_the_cache(ayu, "Ayu Baru")
        again = client.get(URL, {"city": "jakarta", "sort": "newest"})
    assert first.status_code == again.status_code == 200
    assert card_names(first) == {ayu.slug: "Ayu"} and card_names(again) == {ayu.slug: "Ayu Baru"}


def test_a_copy_of_the_reference_lists_left_from_when_versions_were_tracked_is_not_used(client, settings):
    """A process keeps the cities, activities and languages at the cache's global version while versions are
    tracked; with them off (page and fragment caches off) that copy can never be confirmed, and used it made
    the search build its page twice (12 queries instead of 8)."""
    params = {"city": "jakarta", "activity": "hangout", "date": next_saturday().isoformat(), "time": "10:00"}
    for index in range(3):
        full_companion(f"a{index}")
    settings.COMPANION_FRAGMENT_CACHE_SECONDS = 60
    forms.reference_lists(dict(forms.SearchForm.base_fields))  # a copy kept at the version of that moment
    assert forms._reference_lists is not None
    settings.COMPANION_FRAGMENT_CACHE_SECONDS = 0

    queries, cards, statements = queries_for(client, params)

    assert cards == 3
    assert queries <= 8, "\n".join(statements)
