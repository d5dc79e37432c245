"""Kompanion Plus, early access (issue 17): a companion first listed within the last 48 hours shows only to Plus
members, in search and on the profile page; anyone else gets what an unlisted profile gives (no result, 404).
With the page cache on, no viewer is served a page rendered for the other kind; query counts stay constant."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from companions.models import CompanionProfile
from tests.bookings.helpers import new_customer
from tests.companions.helpers import listed_companion
from tests.products.plus_helpers import plus_member

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


def listed(name: str, ago: timedelta | None):
    """A listed companion in Bandung, first listed `ago` before now (None: never stamped)."""
    profile = listed_companion(name=name, city="bandung")
    if ago is not None:
        CompanionProfile.objects.filter(pk=profile.pk).update(listed_at=timezone.now() - ago)
        profile.refresh_from_db()
    return profile


def profile_link(profile) -> str:
    return f'href="{reverse("companions:profile", args=[profile.slug])}"'


def shown(client, *profiles) -> set[str]:
    response = client.get(reverse("companions:search"), {"city": "bandung"})
    assert response.status_code == 200
    page = response.content.decode()
    return {profile.display_name for profile in profiles if profile_link(profile) in page}


def member():
    customer = new_customer()
    plus_member(customer)
    return customer


@pytest.fixture
def companions():
    return (
        listed("Baru", 47 * HOUR),  # new: members only
        listed("Hampir", 48 * HOUR - MINUTE),  # a minute short of the 48 hours: still new
        listed("Lewat", 48 * HOUR + MINUTE),  # just past: everyone
        listed("Lama", 30 * 24 * HOUR),
        listed("Tanpa", None),  # listed before listed_at was stamped: everyone
    )


EVERYONE = {"Lewat", "Lama", "Tanpa"}
MEMBERS = EVERYONE | {"Baru", "Hampir"}


def test_search_shows_new_companions_to_members_only(client, companions):
    assert shown(client, *companions) == EVERYONE  # anonymous
    client.force_login(new_customer())
    assert shown(client, *companions) == EVERYONE
    lapsed = new_customer()
    plus_member(lapsed, at=timezone.now() - timedelta(days=31))
    client.force_login(lapsed)
    assert shown(client, *companions) == EVERYONE
    client.force_login(companions[3].user)  # a companion is never a member
    assert shown(client, *companions) == EVERYONE
    client.force_login(member())
    assert shown(client, *companions) == MEMBERS


@pytest.mark.parametrize("member_first", [True, False])
def test_the_search_page_cache_keeps_members_and_others_apart(client, settings, companions, member_first):
    settings.COMPANION_PAGE_CACHE_SECONDS = 600
    settings.COMPANION_FRAGMENT_CACHE_SECONDS = 600
    plus, plain = member(), new_customer()
    order = [(plus, MEMBERS), (plain, EVERYONE), (None, EVERYONE)]
    if not member_first:
        order.reverse()
    for _round in range(2):  # the second round is served from the cache
        for viewer, expected in order:
            if viewer is None:
                client.logout()
            else:
                client.force_login(viewer)
            assert shown(client, *companions) == expected, viewer


def test_the_profile_of_a_new_companion_is_a_404_except_for_members_and_its_owner(client, settings):
    settings.COMPANION_PAGE_CACHE_SECONDS = 600
    settings.COMPANION_FRAGMENT_CACHE_SECONDS = 600
    new = listed("Baru", 47 * HOUR)
    url = reverse("companions:profile", args=[new.slug])
    client.force_login(member())
    assert client.get(url).status_code == 200  # first: a member's view must not be kept for others
    client.logout()
    assert client.get(url).status_code == 404
    client.force_login(new_customer())
    assert client.get(url).status_code == 404
    client.force_login(new.user)
    assert client.get(url).status_code == 200
    client.force_login(member())
    assert client.get(url).status_code == 200
    # Past its 48 hours, a profile is everyone's.
    client.logout()
    assert client.get(reverse("companions:profile", args=[listed("Lewat", 48 * HOUR + MINUTE).slug])).status_code == 200


def count(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params or {}).status_code == 200
    return len(queries)


def test_query_counts_are_the_same_for_members_and_others(client, companions):
    search = reverse("companions:search")
    profile = reverse("companions:profile", args=[companions[3].slug])
    counts, seen = {}, {}
    for name, viewer in (("plain", new_customer()), ("member", member())):
        client.force_login(viewer)
        count(client, search, {"city": "bandung"})  # the process's first look at the reference data
        counts[name] = (count(client, search, {"city": "bandung"}), count(client, profile))
        seen[name] = shown(client, *companions)
    assert counts["member"] == counts["plain"]
    assert (seen["plain"], seen["member"]) == (EVERYONE, MEMBERS)  # the same queries, different results


def test_booking_a_new_companion_is_for_members_too(client, companions):
    new, _almost, past, _old, _unstamped = companions
    client.force_login(new_customer())
    assert client.get(reverse("bookings:new", args=[new.slug])).status_code == 404
    assert client.post(reverse("bookings:new", args=[new.slug]), {}).status_code == 404
    assert client.get(reverse("bookings:new", args=[past.slug])).status_code == 200
    client.force_login(member())
    assert client.get(reverse("bookings:new", args=[new.slug])).status_code == 200
