"""Sorotan in search (issue 17): among the results that match every filter and are free at the searched time,
up to 2 promoted companions lead the first page, labelled; a promotion that ends stops at that moment, also
while the rendered page is cached."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from companions import selectors
from companions.forms import SearchForm
from tests.bookings.helpers import NOW, make_companion, new_customer
from tests.products.sorotan_helpers import clock, confirmed, promote

__all__ = ["clock"]  # the fixture, imported for the tests below

pytestmark = pytest.mark.django_db

URL = reverse("companions:search")
WIB = ZoneInfo("Asia/Jakarta")
SEARCHED = datetime(2026, 11, 25, 10, 0, tzinfo=WIB)  # Wednesday 10:00, the day after NOW
SEARCH = {"city": "jakarta", "date": "2026-11-25", "time": "10:00", "hours": "2"}


def cards(response) -> list[tuple[str, bool]]:
    """(slug, labelled "Promoted") of each result card, in the page's order."""
    found = []
    for article in response.content.decode().split('<article class="companion-card">')[1:]:
        slug = article.split('class="companion-card__link" href="/c/', 1)[1].split("/", 1)[0]
        found.append((slug, 'data-testid="promoted"' in article))
    return found


@pytest.fixture
def people(clock):
    """Three ordinary Jakarta companions listed first, then three promoted ones who match, one promoted but
    booked at the searched time, one promoted in Bandung."""
    plain = [make_companion(name=name) for name in ("Ayu", "Bima", "Citra")]
    promoted = [make_companion(name=name) for name in ("Dewi", "Eka", "Fajar")]
    busy = make_companion(name="Gita")
    elsewhere = make_companion(name="Hana", city="bandung")
    confirmed(busy, new_customer(), start=SEARCHED, asked=NOW - timedelta(hours=2), paid=NOW - timedelta(hours=1))
    for profile in (*promoted, busy, elsewhere):
        promote(profile, paid_at=NOW - timedelta(days=1))
    return {"plain": plain, "promoted": promoted, "busy": busy, "elsewhere": elsewhere}


def slugs(profiles) -> list[str]:
    return [profile.slug for profile in profiles]


def test_two_promoted_matches_lead_the_first_page_and_no_one_else_is_added(client, people):
    plain, promoted = people["plain"], people["promoted"]
    found = cards(client.get(URL, SEARCH))
    # Dewi and Eka (the first two promoted in the search's order) first and labelled; Fajar, also promoted,
    # keeps his place unlabelled (2 a page); the busy Gita and Hana in Bandung are not shown at all.
    assert found == [
        (promoted[0].slug, True),
        (promoted[1].slug, True),
        *[(slug, False) for slug in slugs(plain)],
        (promoted[2].slug, False),
    ]


def test_without_a_date_the_busy_companion_is_free_to_show_and_may_lead(client, people):
    """Busy only at the searched time: a search without one is free for Gita, who then ranks as promoted."""
    found = cards(client.get(URL, {"city": "jakarta"}))
    assert [slug for slug, labelled in found if labelled] == slugs(people["promoted"][:2])
    assert people["busy"].slug in [slug for slug, _ in found]
    assert people["elsewhere"].slug not in [slug for slug, _ in found]


def test_the_label_says_promoted(client, people):
    client.cookies["kompanion_language"] = "en"
    content = client.get(URL, SEARCH).content.decode()
    assert content.count('data-testid="promoted"') == 2
    assert '<span class="badge badge-primary" data-testid="promoted">Promoted</span>' in content


def test_later_pages_continue_without_repeating_or_adding_anyone(people, clock):
    """Pages of 2: the promoted two first, then the search's own order without them; the same companions
    as without promotion, each once."""
    query = SearchForm(SEARCH).to_query(viewer_time_zone="Asia/Jakarta")
    promoted = frozenset(profile.pk for profile in (*people["promoted"], people["busy"], people["elsewhere"]))
    plain_order = selectors.search_page(query, offset=0, limit=50, now=clock.now)
    pages = [
        selectors.search_page(query, offset=offset, limit=2, now=clock.now, promoted=promoted)
        for offset in range(0, 8, 2)
    ]
    ranked = [row for page in pages for row in page]
    first_two = [(profile.pk, profile.slug) for profile in people["promoted"][:2]]
    assert ranked[:2] == first_two
    assert ranked[2:] == [row for row in plain_order if row not in first_two]
    assert sorted(ranked) == sorted(plain_order) and len(ranked) == len(set(ranked)) == 6
    assert pages[3] == []
    assert selectors.search_count(query, limit=100, now=clock.now) == 6


def test_an_ended_promotion_stops_at_once(client, clock):
    ayu, bima = make_companion(name="Ayu"), make_companion(name="Bima")
    promote(bima, paid_at=NOW + timedelta(minutes=10) - timedelta(days=7))  # ends at NOW + 10 min
    assert cards(client.get(URL, SEARCH)) == [(bima.slug, True), (ayu.slug, False)]
    clock.move(timedelta(minutes=10))
    assert cards(client.get(URL, SEARCH)) == [(ayu.slug, False), (bima.slug, False)]


def test_an_ended_promotion_stops_at_once_on_a_warm_page_cache(client, clock, settings):
    settings.COMPANION_PAGE_CACHE_SECONDS = 600
    settings.COMPANION_FRAGMENT_CACHE_SECONDS = 600
    ayu, bima = make_companion(name="Ayu"), make_companion(name="Bima")
    promote(bima, paid_at=NOW + timedelta(minutes=10) - timedelta(days=7))
    assert cards(client.get(URL, SEARCH)) == [(bima.slug, True), (ayu.slug, False)]
    clock.move(timedelta(minutes=5))
    with CaptureQueriesContext(connection) as warm:
        assert cards(client.get(URL, SEARCH)) == [(bima.slug, True), (ayu.slug, False)]
    assert len(warm) == 0  # served from the cache, promoted set included
    clock.move(timedelta(minutes=5))  # the promotion's end, in the same half hour as the cached page
    assert cards(client.get(URL, SEARCH)) == [(ayu.slug, False), (bima.slug, False)]
    assert cards(client.get(URL, {"city": "jakarta"})) == [(ayu.slug, False), (bima.slug, False)]


def test_queries_stay_the_same_with_promotions_for_3_and_30_results(client, clock):
    for index in range(2):
        promote(make_companion(name=f"p{index}"), paid_at=NOW - timedelta(days=1))
    make_companion(name="a0")

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, SEARCH)
        return len(queries), len(cards(response))

    client.get(URL)  # this process's copy of the cities and activities read once (forms.reference_copy)
    few, few_cards = count()
    for index in range(27):
        make_companion(name=f"b{index}")
    many, many_cards = count()
    assert (few_cards, many_cards) == (3, 24)
    assert few == many <= 10
