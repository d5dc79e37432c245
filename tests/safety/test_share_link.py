"""Trusted contacts and share links (safety/contacts.py): the link shows only the time window, the public place
and the other party's first name and photo; it is bound to its booking, stored only as a keyed hash, revoked by
a new share and dead after the meeting's end + 12 hours; expired, revoked and unknown tokens are one 404."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import Delivery, OutboxMessage
from safety import contacts
from safety.models import SafetyEvent, SafetyEventKind, ShareLink, TrustedContact
from tests.factories import CustomerFactory
from tests.safety.meeting_helpers import confirmed_booking, with_contact

pytestmark = pytest.mark.django_db
HOSTILE = '<script>alert("x")</script>'


def share(client, booking, user):
    client.force_login(user)
    return client.post(reverse("safety:share", args=[booking.reference]))


def token_of(response) -> str:
    match = re.search(r"/shared/([A-Za-z0-9_\-]+)/", response.content.decode())
    assert match, "the link is shown once to the person who shared it"
    return match.group(1)


def shared_url(token: str) -> str:
    return reverse("safety:shared", args=[token])


def test_sharing_sends_the_link_to_the_contact_and_stores_only_its_hash(client, django_capture_on_commit_callbacks):
    booking = confirmed_booking()
    with_contact(booking.customer, name="Rina", phone="+6281298765432")
    with django_capture_on_commit_callbacks(execute=True):
        response = share(client, booking, booking.customer)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store" and response["Referrer-Policy"] == "no-referrer"
    token = token_of(response)
    assert "https://wa.me/6281298765432?text=" in response.content.decode()
    delivery = Delivery.objects.get(on_behalf=True)
    assert (delivery.to, delivery.template_key, delivery.sensitive) == ("+6281298765432", "contact_shared", True)
    assert delivery.status == Delivery.Status.SENT and delivery.body == ""  # blanked once sent
    assert token in OutboxMessage.objects.get(to="+6281298765432").body
    link = ShareLink.objects.get()
    assert link.token_hash != token and token not in link.token_hash
    assert link.expires_at == booking.end + timedelta(hours=12)
    assert not [row for row in Delivery.objects.values_list("body", "variables") if token in str(row)]
    assert SafetyEvent.objects.filter(booking=booking, kind=SafetyEventKind.SHARED).count() == 1


def test_the_contact_sees_only_time_place_first_name_and_photo(client):
    booking = confirmed_booking(place="Kopi Tuku, Grand Indonesia lantai 3")
    profile = booking.companion
    profile.display_name = "Ayu"
    profile.save(update_fields=["display_name"])
    profile.user.full_name, profile.user.phone = "Ayu Lestari Wibowo", "+6281277778888"
    profile.user.save()
    customer = booking.customer
    customer.full_name, customer.phone = "Budi Santoso", "+6281299990000"
    customer.save()
    with_contact(customer)
    token = token_of(share(client, booking, customer))
    client.logout()
    response = client.get(shared_url(token))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Kopi Tuku, Grand Indonesia lantai 3" in page and "Ayu" in page and "Budi" in page
    for secret in (
        "Lestari",
        "Wibowo",
        "Santoso",
        profile.user.email,
        customer.email,
        "7777",
        "9999",
        booking.reference,
    ):
        assert secret not in page, secret
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "no-referrer" and response["X-Robots-Tag"] == "noindex"
    assert '<meta name="robots" content="noindex, nofollow">' in page


def test_the_companion_shares_the_customers_first_name(client):
    booking = confirmed_booking()
    customer = booking.customer
    customer.full_name = "Budi Santoso"
    customer.save()
    with_contact(booking.companion.user)
    token = token_of(share(client, booking, booking.companion.user))
    client.logout()
    page = client.get(shared_url(token)).content.decode()
    assert "Budi" in page and "Santoso" not in page


def test_a_new_share_revokes_the_old_link(client):
    booking = confirmed_booking()
    with_contact(booking.customer)
    first = token_of(share(client, booking, booking.customer))
    second = token_of(share(client, booking, booking.customer))
    client.logout()
    assert client.get(shared_url(first)).status_code == 404
    assert client.get(shared_url(second)).status_code == 200


def test_expired_wrong_and_garbage_tokens_are_the_same_404(client):
    booking = confirmed_booking()
    with_contact(booking.customer)
    token = token_of(share(client, booking, booking.customer))
    client.logout()
    assert contacts.link_by_token(token, now=booking.end + timedelta(hours=12) - timedelta(seconds=1)) is not None
    assert contacts.link_by_token(token, now=booking.end + timedelta(hours=12)) is None
    ShareLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    for bad in (token, token[:-1] + ("A" if token[-1] != "A" else "B"), "x", "a" * 65):
        response = client.get(f"/shared/{bad}/")
        assert response.status_code == 404, bad
        assert response["Cache-Control"] == "private, no-store"
    assert client.get("/shared/%00/").status_code == 400  # refused before any view


def test_a_link_shows_its_own_booking_only(client):
    first = confirmed_booking(place="Tempat Pertama")
    second = confirmed_booking(first.start + timedelta(days=1), place="Tempat Kedua")
    with_contact(first.customer)
    with_contact(second.customer)
    token = token_of(share(client, first, first.customer))
    token_of(share(client, second, second.customer))
    client.logout()
    page = client.get(shared_url(token)).content.decode()
    assert "Tempat Pertama" in page and "Tempat Kedua" not in page


def test_only_the_parties_of_a_confirmed_booking_can_share(client):
    booking = confirmed_booking()
    stranger = CustomerFactory()
    with_contact(stranger)
    assert share(client, booking, stranger).status_code == 404
    response = share(client, booking, booking.customer)  # no contact saved yet
    assert response.status_code == 302 and not ShareLink.objects.exists()
    assert not Delivery.objects.filter(on_behalf=True).exists()


def test_hostile_names_and_places_are_text_on_the_shared_page_and_the_card(client):
    booking = confirmed_booking(place=HOSTILE)
    profile = booking.companion
    profile.display_name = HOSTILE[:40]
    profile.save(update_fields=["display_name"])
    with_contact(booking.customer, name=HOSTILE[:80])
    client.force_login(booking.customer)
    card = client.get(reverse("bookings:detail", args=[booking.reference])).content.decode()
    assert HOSTILE not in card and "&lt;script&gt;" in card
    token = token_of(share(client, booking, booking.customer))
    client.logout()
    page = client.get(shared_url(token)).content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_the_contact_settings_page_normalises_validates_and_removes(client):
    user = CustomerFactory()
    client.force_login(user)
    url = reverse("safety:contact")
    assert client.get(url).status_code == 200
    response = client.post(url, {"name": "Rina", "phone": "0812 9876-5432"})
    assert response.status_code == 302
    assert TrustedContact.objects.get(user=user).phone == "+6281298765432"
    response = client.post(url, {"name": "Rina", "phone": "12345"})
    assert response.status_code == 422 and 'value="12345"' in response.content.decode()
    assert TrustedContact.objects.get(user=user).phone == "+6281298765432"
    response = client.post(url, {"name": "", "phone": ""})
    assert response.status_code == 422
    assert client.post(url, {"remove": "1"}).status_code == 302
    assert not TrustedContact.objects.filter(user=user).exists()
    settings_page = client.get(reverse("accounts:settings")).content.decode()
    assert url in settings_page


def test_a_contact_who_blocked_us_never_turns_off_the_users_own_whatsapp(client, django_capture_on_commit_callbacks):
    from notifications.sending import delivery_status_update

    booking = confirmed_booking()
    customer = booking.customer
    customer.phone, customer.phone_verified_at, customer.whatsapp_opt_in = "+6281255556666", timezone.now(), True
    customer.save()
    with_contact(customer)
    with django_capture_on_commit_callbacks(execute=True):
        share(client, booking, customer)
    delivery = Delivery.objects.get(on_behalf=True)
    delivery_status_update(provider_id=delivery.provider_id, status="undelivered", error_code="63014")
    customer.refresh_from_db()
    assert customer.whatsapp_opt_in is True
