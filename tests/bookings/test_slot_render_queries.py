"""The slot picker (booking step 1) asks the database the same number of questions however many bookings
and free times the companion has (issue 12: at most 8, the session and the user included)."""

import pytest
from django.urls import reverse

from tests.bookings.helpers import make_companion, new_customer
from tests.companions.test_profile_render import fixed_clock
from tests.companions.test_profile_render_queries import busy_companion, queries

__all__ = ["fixed_clock"]  # the fixture, imported for the tests below


@pytest.mark.django_db
def test_slot_picker_queries_do_not_grow_with_bookings_or_free_times(client, fixed_clock):
    quiet = make_companion(name="quiet", ranges=((5, 600, 120),))
    busy = busy_companion("busy")
    client.force_login(new_customer())
    client.get(reverse("terms"))  # the first request after a login refreshes the session's idle expiry
    quiet_count = queries(client, reverse("bookings:new", args=[quiet.slug]))
    busy_count = queries(client, reverse("bookings:new", args=[busy.slug]) + "?hours=3")
    assert quiet_count == busy_count <= 8
