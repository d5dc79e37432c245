"""Defect 11: the pages promise nothing the product does not do. Every link that opens an email says so
(support and the profile's "report" are email). Chat exists since issue 14 (chat/), so pages may mention it;
what it promises is tested in tests/chat and tests/e2e/test_chat_journey.py.
"""

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from bookings import services as booking_services
from companions import selectors as companion_selectors
from companions.models import Activity
from tests.bookings.helpers import MEETING_PLACE, make_companion, new_customer

pytestmark = pytest.mark.django_db

MAILTO_LINK = re.compile(r"<a\b[^>]*href=\"mailto:[^\"]*\"[^>]*>(.*?)</a>", re.DOTALL)
TAG = re.compile(r"<[^>]+>")


def promises(content: str) -> list[str]:
    """Email links whose text does not say they are email."""
    found = []
    for match in MAILTO_LINK.finditer(content):
        text = " ".join(TAG.sub(" ", match.group(1)).split())
        if "email" not in text.lower() and "@" not in text:
            found.append(f"mailto link without saying email: {text!r}")
    return found


@pytest.fixture
def booking_pages():
    profile = make_companion(activities=("hangout", "culinary", "talk"))
    customer = new_customer()
    now = timezone.now()
    starts = companion_selectors.free_start_times(
        profile, start=now + timedelta(days=2), end=now + timedelta(days=5), hours=2
    )
    start, other_start = starts[0], starts[-1]
    booking = booking_services.booking_request(
        customer=customer,
        profile=profile,
        start=start,
        hours=2,
        activity=Activity.objects.get(slug="hangout"),
        meeting_place=MEETING_PLACE,
    )
    booking_services.booking_accept(booking_id=booking.pk, actor=profile.user)
    booking_services.booking_mark_paid(booking_id=booking.pk)  # confirmed: the safety shield shows
    new_booking = (
        reverse("bookings:new", args=[profile.slug]) + "?" + urlencode({"start": other_start.isoformat(), "hours": 2})
    )
    return customer, [
        reverse("home"),
        reverse("terms"),
        reverse("privacy"),
        reverse("companions:search"),
        reverse("companions:profile", args=[profile.slug]),
        new_booking,
        reverse("bookings:detail", args=[booking.reference]),
        "/no-such-page/",
    ]


@pytest.mark.parametrize("language", ["id", "en"])
def test_no_page_hides_that_a_link_opens_an_email(client, booking_pages, language):
    customer, urls = booking_pages
    client.cookies["kompanion_language"] = language
    client.force_login(customer)

    contents = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == (404 if url == "/no-such-page/" else 200), url
        contents[url] = response.content.decode()

    assert "safety-shield" in contents[urls[6]]  # the booking page shows its safety tips
    assert "mailto:" in contents[urls[4]]  # the profile's report link is there (as an email)
    assert {url: promises(content) for url, content in contents.items() if promises(content)} == {}


@pytest.mark.parametrize("language", ["id", "en"])
def test_the_server_error_page_says_help_is_email(language):
    request = RequestFactory().get("/")
    with translation.override(language):
        content = render_to_string("500.html", request=request)
    assert "mailto:" in content
    assert promises(content) == []
