"""Every query parameter of the booking pages is parsed: a bad value is dropped (with a note where the
page would otherwise silently show something else) or answered 400, never 500."""

import pytest
from django.urls import reverse

from bookings.models import BookingStatus
from tests.bookings.helpers import make_companion, request
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

HOSTILE = ["", "x", "-1", "0", "999999999999999999999", "2026-13-45", "99999-01-01", "0001-01-01", "%00", "<b>"]


@pytest.fixture(autouse=True)
def _english(client):
    client.cookies["kompanion_language"] = "en"


@pytest.mark.parametrize("value", HOSTILE + ["1900-01-01", "2126-01-01"])
def test_the_calendar_drops_a_bad_week_with_a_note(client, value):
    profile = make_companion()
    client.force_login(profile.user)
    page = client.get(reverse("bookings:calendar"), {"week": value})
    assert page.status_code == 200
    assert page.context["monday"] == page.context["this_week"]
    if value:
        assert page.context["week_note"] and page.context["week_note"] in page.content.decode()


def test_a_good_week_has_no_note(client):
    profile = make_companion()
    client.force_login(profile.user)
    page = client.get(reverse("bookings:calendar"), {"week": "2026-12-09"})
    assert page.status_code == 200
    assert page.context["week_note"] == "" and page.context["monday"].isoformat() == "2026-12-07"


@pytest.mark.parametrize("value", HOSTILE)
def test_lists_and_pages_never_answer_500(client, value):
    profile = make_companion()
    customer = CustomerFactory()
    booking = request(customer, profile)
    client.force_login(customer)
    assert client.get(reverse("bookings:list"), {"tab": value}).status_code == 200
    assert client.get(reverse("bookings:detail", args=[booking.reference]), {"shown": value}).status_code == 200
    new = client.get(reverse("bookings:new", args=[profile.slug]), {"start": value, "hours": value})
    assert new.status_code in (200, 400)
    client.force_login(profile.user)
    assert client.get(reverse("bookings:requests"), {"tab": value}).status_code == 200


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "javascript:alert(1)", "x" * 5000])
def test_an_action_never_returns_to_a_foreign_next(client, target):
    profile = make_companion()
    booking = request(CustomerFactory(), profile)
    client.force_login(profile.user)
    response = client.post(reverse("bookings:decline", args=[booking.reference]), {"next": target})
    assert response.status_code == 302
    assert response["Location"] == reverse("bookings:detail", args=[booking.reference])
    booking.refresh_from_db()
    assert booking.status == BookingStatus.DECLINED
