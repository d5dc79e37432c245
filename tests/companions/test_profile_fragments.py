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

from companions import page_cache, selectors, services, views
from companions.models import CompanionProfile
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
    assert first_queries == 8  # + the newest reviews (rendered with the parts everyone sees alike)
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
    assert queries == 8  # the companion's version moved: everything asked again
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


NEW_BIO = "Pemandu kota yang baru pindah ke Bandung, senang menemani wisata kuliner dan museum."


def parts_entry(profile, language="id"):
    age = profile.user.age_on(date(2026, 11, 24))
    return cache.get(page_cache._key("profile-parts", (profile.slug, language, age, views.PROFILE_PARTS_FORMAT)))


def test_the_parts_everyone_sees_alike_are_kept_and_a_write_renders_them_again(
    client, django_capture_on_commit_callbacks
):
    """Photos, header, about, activities, languages and the meeting rules are rendered once per
    companion version and language; the free times around them per request."""
    profile = busy_companion("busy")
    url = reverse("companions:profile", args=[profile.slug])
    first, _ = get(client, url)
    entry = parts_entry(profile)
    assert entry is not None
    about, rules = entry[1]
    assert profile.bio in about and "Aktivitas" in about and "Aturan bertemu" in rules
    assert about in first and rules in first
    assert 'datetime="2026-12-01T08:00:00+00:00"' not in about + rules  # free times are not kept
    again, _ = get(client, url)
    assert main(again) == main(first)

    with django_capture_on_commit_callbacks(execute=True):
        # What every write in companions.services does (profile_update would also re-check the listing,
        # which this test companion, listed by hand without photos, would not pass).
        CompanionProfile.objects.filter(pk=profile.pk).update(bio=NEW_BIO)
        page_cache.profile_changed(profile.slug)
    after, _ = get(client, url)
    assert NEW_BIO in after and profile.bio not in after


def test_a_preview_of_an_unlisted_profile_is_never_kept(client):
    profile = busy_companion("busy")
    profile.is_listed = False
    profile.save(update_fields=["is_listed"])
    client.force_login(profile.user)
    client.get(reverse("terms"))
    html, _ = get(client, reverse("companions:profile", args=[profile.slug]))
    assert profile.bio in html
    assert parts_entry(profile) is None
