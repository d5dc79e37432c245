"""The search form's reference lists (cities, activities, languages) are kept per process while the
global version stands, so a search asks the database for none of them; an edit in the admin (which
calls page_cache.everything_changed) renews them. And a page past the end counts no further than it needs."""

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from companions.models import City
from companions.views import PAGE_SIZE, Pager
from tests.companions.helpers import listed_companion

URL = reverse("companions:search")


def city_options(client) -> str:
    html = client.get(URL, {"city": "jakarta"}).content.decode()
    return html.split('name="city"', 1)[1].split("</select>", 1)[0]


@pytest.mark.django_db
def test_cached_choice_lists_are_renewed_when_the_admin_renames_a_city(
    client, settings, admin_user, rf, django_capture_on_commit_callbacks
):
    settings.COMPANION_FRAGMENT_CACHE_SECONDS = 600  # versions tracked
    assert ">Jakarta</option>" in city_options(client)
    with CaptureQueriesContext(connection) as queries:
        city_options(client)
    assert not [query for query in queries if "companions_city" in query["sql"]]  # list and lookup kept
    city = City.objects.get(slug="jakarta")
    City.objects.filter(pk=city.pk).update(name="Jakarta Lama")  # behind the cache: not shown
    assert ">Jakarta</option>" in city_options(client)
    city.name = "Jakarta Raya"
    request = rf.post("/")
    request.user = admin_user
    with django_capture_on_commit_callbacks(execute=True):
        admin.site._registry[City].save_model(request, city, form=None, change=True)
    options = city_options(client)
    assert ">Jakarta Raya</option>" in options and ">Jakarta</option>" not in options


@pytest.mark.django_db
def test_with_results_the_kept_lists_are_checked_with_the_cards_and_renewed(
    client, settings, admin_user, rf, django_capture_on_commit_callbacks
):
    """With results, the kept lists' version is checked in the cards' round trip (after the form was
    validated against them): a stale copy means the page is made again, from the renewed lists."""
    settings.COMPANION_FRAGMENT_CACHE_SECONDS = 600
    listed_companion(city="jakarta", name="Ayu")
    page = client.get(URL, {"city": "jakarta"}).content.decode()
    assert "data-dropped-filters" not in page and ">Jakarta</option>" in page
    city = City.objects.get(slug="jakarta")
    city.name = "Jakarta Raya"
    request = rf.post("/")
    request.user = admin_user
    with django_capture_on_commit_callbacks(execute=True):
        admin.site._registry[City].save_model(request, city, form=None, change=True)
    page = client.get(URL, {"city": "jakarta"}).content.decode()
    options = page.split('name="city"', 1)[1].split("</select>", 1)[0]
    assert ">Jakarta Raya</option>" in options and ">Jakarta</option>" not in options
    chips = page.split('class="filter-chip"', 1)[1].split("</a>", 1)[0]  # the valid city, named as now
    assert "<span>Jakarta Raya</span>" in chips
    assert "Ayu" in page


@pytest.mark.django_db
def test_without_tracked_versions_the_lists_are_read_each_time(client):
    city_options(client)
    City.objects.filter(slug="jakarta").update(name="Jakarta Raya")
    assert ">Jakarta Raya</option>" in city_options(client)


def test_a_page_past_the_end_counts_only_up_to_the_page_before_it():
    rows = list(range(30))
    asked = []

    def count_upto(limit: int) -> int:
        asked.append(limit)
        return min(len(rows), limit)

    pager = Pager.of(lambda offset, limit: rows[offset : offset + limit], count_upto, "99")
    assert asked == [98 * PAGE_SIZE + 1]
    assert (pager.number, pager.requested, pager.object_list, pager.has_next) == (2, 99, rows[24:], False)
