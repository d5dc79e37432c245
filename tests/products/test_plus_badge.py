"""Kompanion Plus, the badge companions see on requests (issue 17): in the requests inbox (one query for the
whole list, however many requests and members) and on the booking page, for members only."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.bookings.helpers import make_companion, new_customer
from tests.bookings.test_pages import book, free_starts
from tests.products.plus_helpers import plus_member

pytestmark = pytest.mark.django_db


def request_cards(page: str) -> dict[str, str]:
    """booking reference -> its card's HTML in the inbox."""
    cards = {}
    for chunk in page.split('<article class="request-card"')[1:]:
        reference = chunk.split('id="request-', 1)[1].split('"', 1)[0]
        cards[reference] = chunk.split("</article>", 1)[0]
    return cards


def inbox(client, profile) -> tuple[dict[str, str], int]:
    client.force_login(profile.user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("bookings:requests"))
    assert response.status_code == 200
    return request_cards(response.content.decode()), len(queries)


def member():
    customer = new_customer()
    plus_member(customer)
    return customer


def test_the_inbox_badges_members_requests_only(client):
    profile = make_companion()
    starts = free_starts(profile, hours=1)
    lapsed = new_customer()
    plus_member(lapsed, at=timezone.now() - timedelta(days=31))
    bookings = {
        "member": book(member(), profile, starts[0], hours=1),
        "plain": book(new_customer(), profile, starts[4], hours=1),
        "lapsed": book(lapsed, profile, starts[8], hours=1),
    }
    cards, _queries = inbox(client, profile)
    badged = {name for name, booking in bookings.items() if 'data-testid="plus-badge"' in cards[booking.reference]}
    assert badged == {"member"}


def test_the_inbox_asks_once_for_the_whole_list(client):
    profile = make_companion()
    starts = free_starts(profile, hours=1)
    book(member(), profile, starts[0], hours=1)
    inbox(client, profile)  # the process's first look (reference data kept in memory afterwards)
    _cards, one = inbox(client, profile)
    for start in starts[4:24:4]:
        book(member(), profile, start, hours=1)
    book(new_customer(), profile, starts[28], hours=1)
    cards, many = inbox(client, profile)
    assert sum('data-testid="plus-badge"' in card for card in cards.values()) == 6
    assert many == one


@pytest.mark.parametrize("is_member", [True, False])
def test_the_booking_page_shows_the_companion_the_badge(client, is_member):
    profile = make_companion()
    customer = member() if is_member else new_customer()
    booking = book(customer, profile, free_starts(profile)[0])
    url = reverse("bookings:detail", args=[booking.reference])
    client.force_login(profile.user)
    assert ('data-testid="plus-badge"' in client.get(url).content.decode()) is is_member
    client.force_login(customer)  # the customer's own page has no badge of themselves
    assert 'data-testid="plus-badge"' not in client.get(url).content.decode()
