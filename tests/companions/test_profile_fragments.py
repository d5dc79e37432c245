"""The profile page and the slot picker with the fragment cache on and the rendered-page cache off
(production right after a write): the companion's data comes from the cache, keyed by its own version,
so only the bookings are asked for; every write shows at once; nothing private is copied into the cache."""

import pickle
from datetime import date, datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from companions import page_cache, selectors, services
from tests.bookings.helpers import new_customer, request
from tests.companions.test_profile_render import fixed_clock
from tests.companions.test_profile_render_queries import WIB, busy_companion

__all__ = ["fixed_clock"]  # the fixture, imported for the tests below

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fixed_clock", "_fragments_on")]


@pytest.fixture
def _fragments_on(settings):
    settings.COMPANION_PAGE_CACHE_SECONDS = 0
    settings.COMPANION_FRAGMENT_CACHE_SECONDS = 600


def get(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), len(captured)


def main(html: str) -> str:
    return html.split("<main", 1)[1].split("</main>", 1)[0]


def test_a_warm_profile_asks_only_for_the_bookings(client):
    profile = busy_companion("busy")
    url = reverse("companions:profile", args=[profile.slug])
    first, first_queries = get(client, url)
    again, again_queries = get(client, url)
    assert first_queries == 7
    assert again_queries == 1  # the bookings: what they hold depends on the clock
    assert main(again) == main(first)
    client.force_login(new_customer())
    client.get(reverse("terms"))  # the first request after a login refreshes the session's idle expiry
    _, signed_in = get(client, url)
    assert signed_in == 3  # + the session and the user (the bell's count is cached too)


def test_a_warm_slot_picker_asks_only_for_the_bookings(client):
    profile = busy_companion("busy")
    client.force_login(new_customer())
    client.get(reverse("terms"))
    url = reverse("bookings:new", args=[profile.slug]) + "?hours=2"
    first, first_queries = get(client, url)
    again, again_queries = get(client, url)
    assert first_queries == 7  # the bell's count was cached by the page before
    assert again_queries == 3  # the session, the user and the bookings
    assert main(again) == main(first)


def test_writes_show_at_once(client, django_capture_on_commit_callbacks):
    profile = busy_companion("busy")
    url = reverse("companions:profile", args=[profile.slug])
    before, _ = get(client, url)
    assert 'datetime="2026-12-01T08:00:00+00:00"' in before
    with django_capture_on_commit_callbacks(execute=True):
        services.time_off_add(profile=profile, start_date=date(2026, 12, 1), end_date=date(2026, 12, 1))
    after, queries = get(client, url)
    assert queries == 7  # the companion's version moved: everything asked again
    assert 'datetime="2026-12-01T08:00:00+00:00"' not in after
    with django_capture_on_commit_callbacks(execute=True):
        request(new_customer(), profile, start=datetime(2026, 12, 2, 16, 0, tzinfo=WIB), hours=2)
    booked, _ = get(client, url)
    assert 'datetime="2026-12-02T09:00:00+00:00"' in after
    assert 'datetime="2026-12-02T09:00:00+00:00"' not in booked


def test_pausing_closes_the_slot_picker_at_once(client, django_capture_on_commit_callbacks):
    profile = busy_companion("busy")
    client.force_login(new_customer())
    url = reverse("bookings:new", args=[profile.slug])
    get(client, url)
    with django_capture_on_commit_callbacks(execute=True):
        services.profile_set_paused(profile=profile, paused=True)
    assert client.get(url).status_code == 404


def test_the_cached_profile_carries_no_sign_in_or_contact_details():
    profile = busy_companion("busy")
    user = profile.user
    user.phone = "+6281234567890"
    user.save(update_fields=["phone"])
    assert selectors.public_profile(profile.slug, viewer=user) is not None
    key = page_cache._key("profile-data", (profile.slug, selectors.PROFILE_DATA_FORMAT))
    entry = cache.get(key)
    assert entry is not None  # what the page caches: (versions, the profile)
    stored = pickle.dumps(entry[1])
    assert entry[1].user.full_name == user.full_name
    for secret in (user.email, user.password, user.phone):
        assert secret.encode() not in stored
