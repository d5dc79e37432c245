"""Cached search and profile content: served without the database, and never stale after a write."""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from companions import services
from companions.models import City
from tests.companions.helpers import listed_companion

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    settings.COMPANION_PAGE_CACHE_SECONDS = 600


def get(client, url, params=None, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {}, **headers)
    assert response.status_code == 200
    return response, len(queries)


def test_a_repeated_search_needs_no_database(client):
    listed_companion(name="Ayu", city="bandung")
    first, first_queries = get(client, reverse("companions:search"), {"city": "bandung"})
    again, again_queries = get(client, reverse("companions:search"), {"city": "bandung"})
    assert first_queries > 0 and again_queries == 0
    main = first.content.decode().split("<main", 1)[1].split("</main>", 1)[0]
    assert main == again.content.decode().split("<main", 1)[1].split("</main>", 1)[0]
    assert "Ayu" in main


def test_the_page_frame_stays_per_request(client):
    """The CSRF token and the user menu are outside the cached part."""
    listed_companion(name="Ayu", city="bandung")
    get(client, reverse("companions:search"))
    response, _ = get(client, reverse("companions:search"))
    content = response.content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in content
    token = content.split('"X-CSRFToken": "', 1)[1].split('"', 1)[0]
    other, _ = get(client.__class__(), reverse("companions:search"))
    assert token not in other.content.decode()


def test_a_write_shows_at_once(client, django_capture_on_commit_callbacks):
    from companions.models import CompanionPhoto
    from tests.companions.test_services import jpeg

    # Listed days ago: a companion listed now shows to Kompanion Plus members only for 48 hours.
    profile = listed_companion(name="Ayu", city="bandung", rate=150_000, listed_at=timezone.now() - timedelta(days=3))
    CompanionPhoto.objects.create(profile=profile, image=jpeg(), thumbnail=jpeg(), is_cover=True)  # complete
    url = reverse("companions:profile", args=[profile.slug])
    get(client, url)
    get(client, reverse("companions:search"), {"city": "bandung"})
    with django_capture_on_commit_callbacks(execute=True):
        services.profile_update(
            profile=profile,
            display_name="Ayu",
            bio=profile.bio,
            city=City.objects.get(slug="bandung"),
            languages=profile.languages.all(),
            activities=profile.activities.all(),
            hourly_rate=275_000,
            min_hours=1,
            max_hours=12,
            gender="female",
        )
    response, queries = get(client, url)
    assert queries > 0 and "275.000" in response.content.decode()
    response, _ = get(client, reverse("companions:search"), {"city": "bandung"})
    assert "275.000" in response.content.decode()


def test_pausing_removes_the_profile_at_once(client, django_capture_on_commit_callbacks):
    profile = listed_companion(name="Ayu", city="bandung")
    url = reverse("companions:profile", args=[profile.slug])
    get(client, url)
    with django_capture_on_commit_callbacks(execute=True):
        services.profile_set_paused(profile=profile, paused=True)
    assert client.get(url).status_code == 404
    response, _ = get(client, reverse("companions:search"), {"city": "bandung"})
    assert b"Ayu" not in response.content


def test_time_off_changes_the_free_times_at_once(client, django_capture_on_commit_callbacks):
    from django.utils import timezone

    profile = listed_companion(name="Ayu", ranges=[(day, 600, 480) for day in range(7)])
    url = reverse("companions:profile", args=[profile.slug])
    before, _ = get(client, url)
    day = timezone.localdate() + __import__("datetime").timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        services.time_off_add(profile=profile, start_date=day, end_date=day)
    after, _ = get(client, url)
    busy_day = next(slots for slots in after.context["days"] if slots.day == day)
    assert busy_day.starts == [] and before.content != after.content


def test_languages_are_cached_apart(client):
    profile = listed_companion(name="Ayu")
    url = reverse("companions:profile", args=[profile.slug])
    indonesian, _ = get(client, url)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    english, _ = get(client, url)
    assert "Tentang Ayu" in indonesian.content.decode()
    assert "About Ayu" in english.content.decode()


def test_an_owners_preview_is_never_cached(client):
    profile = listed_companion(name="Draft", is_listed=False)
    url = reverse("companions:profile", args=[profile.slug])
    client.force_login(profile.user)
    response, _ = get(client, url)
    assert response.context["is_preview"] is True
    client.logout()
    assert client.get(url).status_code == 404


def test_admin_edits_of_names_and_profiles_show_at_once(client, staff, django_capture_on_commit_callbacks):
    """The admin bypasses the services: its saves refresh every cached page too."""
    from django.test import Client

    from companions.models import Activity

    profile = listed_companion(name="Ayu", city="bandung", activities=("hangout",))
    search, profile_url = reverse("companions:search"), reverse("companions:profile", args=[profile.slug])
    get(client, search, {"city": "bandung"})
    get(client, profile_url)
    hangout = Activity.objects.get(slug="hangout")
    admin_client = Client()
    admin_client.force_login(staff)
    form = {
        "name_id": "Nongkrong santai",
        "name_en": "Easy hangout",
        "slug": hangout.slug,
        "position": hangout.position,
        "is_active": "on",
    }
    with django_capture_on_commit_callbacks(execute=True):
        saved = admin_client.post(reverse("admin:companions_activity_change", args=[hangout.pk]), form)
    assert saved.status_code == 302
    fresh, queries = get(client, profile_url)
    assert queries > 0 and "Nongkrong santai" in fresh.content.decode()
    fresh_search, queries = get(client, search, {"city": "bandung"})
    assert queries > 0


def test_a_page_read_from_a_replica_right_after_a_change_is_not_stored(settings, monkeypatch):
    """A replica may not have replayed a change yet: what it rendered within REPLICA_MAX_LAG_SECONDS of the
    change is served but not stored under the new version (it would stay stale until it expires)."""
    from companions import page_cache
    from core import replica

    settings.REPLICA_MAX_LAG_SECONDS = 30
    renders = []

    def render():
        renders.append(1)
        return f"page {len(renders)}"

    def fetch():
        with replica.replica_reads() as scope:
            scope.used_replica = True  # what the router marks when a read of this scope went to the replica
            return page_cache.cached("test-replica", ("a",), slug="ayu", render=render)

    page_cache.profile_changed("ayu")
    assert (fetch(), fetch()) == ("page 1", "page 2")  # rendered each time, nothing stored
    later = time.time() + 31
    monkeypatch.setattr(page_cache.time, "time", lambda: later)
    assert (fetch(), fetch()) == ("page 3", "page 3")  # the window passed: stored again
    # Read from the primary, a page is stored at once.
    page_cache.profile_changed("ayu")
    with replica.replica_reads():
        assert page_cache.cached("test-replica", ("b",), slug="ayu", render=render) == "page 4"
        assert page_cache.cached("test-replica", ("b",), slug="ayu", render=render) == "page 4"
