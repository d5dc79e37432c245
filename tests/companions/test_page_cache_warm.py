"""A warm rendered-page cache serves the profile page without the database (issue 12: the fragment
cache and the per-request date strip must not turn a cached page back into seven queries)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.bookings.helpers import new_customer
from tests.companions.test_profile_render import fixed_clock
from tests.companions.test_profile_render_queries import busy_companion

__all__ = ["fixed_clock"]  # the fixture, imported for the tests below

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["fragments on", "fragments off"])
def _page_cache_on(request, settings):
    settings.COMPANION_PAGE_CACHE_SECONDS = 600
    settings.COMPANION_FRAGMENT_CACHE_SECONDS = 600 if request.param == "fragments on" else 0


def get(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), len(captured)


@pytest.mark.usefixtures("_page_cache_on")
def test_a_warm_profile_page_asks_nothing_of_a_visitor(client, fixed_clock):
    profile = busy_companion("busy")
    url = reverse("companions:profile", args=[profile.slug])
    first, first_queries = get(client, url)
    again, again_queries = get(client, url)
    assert first_queries > 0
    assert again_queries == 0
    main = first.split("<main", 1)[1].split("</main>", 1)[0]
    assert main == again.split("<main", 1)[1].split("</main>", 1)[0]
    assert profile.display_name in main


@pytest.mark.usefixtures("_page_cache_on")
def test_a_warm_profile_page_asks_only_for_the_signed_in_frame(client, fixed_clock):
    profile = busy_companion("busy")
    url = reverse("companions:profile", args=[profile.slug])
    client.force_login(new_customer())
    client.get(reverse("terms"))  # the first request after a login refreshes the session's idle expiry
    get(client, url)  # warmed in the customer's own zone and language (they are part of the key)
    _, signed_in = get(client, url)
    assert signed_in <= 3  # the session, the user and the bell's count: nothing of the profile
