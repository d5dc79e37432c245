"""The profile page asks the database the same number of questions however many bookings and free
times the companion has (issue 12: at most 8 for a visitor)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from companions.models import CompanionProfile
from tests.bookings.helpers import make_companion, new_customer, request
from tests.companions.test_profile_render import fixed_clock

__all__ = ["fixed_clock"]  # the fixture, imported for the tests below

WIB = ZoneInfo("Asia/Jakarta")


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def busy_companion(name: str) -> CompanionProfile:
    """08.00-22.00 every day, with ten bookings over the next fortnight (from customers with at most
    three open requests each)."""
    profile = make_companion(name=name)
    customers = [new_customer() for _ in range(4)]
    for day in range(2, 12):
        start = datetime(2026, 11, 24, 10, 0, tzinfo=WIB) + timedelta(days=day)
        request(customers[day % 4], profile, start=start, hours=2)
    return profile


@pytest.mark.django_db
def test_profile_queries_do_not_grow_with_bookings_or_free_times(client, fixed_clock):
    quiet = make_companion(name="quiet", ranges=((5, 600, 120),))  # one short evening a week
    busy = busy_companion("busy")
    quiet_count = queries(client, reverse("companions:profile", args=[quiet.slug]))
    busy_count = queries(client, reverse("companions:profile", args=[busy.slug]))
    assert quiet_count == busy_count <= 8
    # Signed in: the session, the user and the bell's count on top (the count once, not once per template).
    client.force_login(new_customer())
    client.get(reverse("terms"))  # the first request after a login refreshes the session's idle expiry
    signed_quiet = queries(client, reverse("companions:profile", args=[quiet.slug]))
    assert queries(client, reverse("companions:profile", args=[busy.slug])) == signed_quiet == busy_count + 3
