"""Consents (UU PDP Pasal 9): withdrawing WhatsApp or news-and-offers is one click, takes effect at once
(a message already queued is not sent) and is recorded; the settings page shows each consent's state."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import ConsentDocument, ConsentRecord
from notifications import services
from notifications.models import Channel, Delivery, OutboxMessage
from notifications.services import notification_record
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    return CustomerFactory(whatsapp_opt_in=True, phone_verified_at=timezone.now())


def test_withdrawing_whatsapp_is_one_click_recorded_and_stops_a_queued_message(client, person):
    notification_record(recipient=person, event="payout_paid", context={"amount": 75_000})
    queued = Delivery.objects.get(channel=Channel.WHATSAPP)
    client.force_login(person)

    response = client.post(
        reverse("accounts:consent_change", args=["whatsapp"]), {"granted": "0"}, HTTP_USER_AGENT="Browser/1"
    )

    assert response.status_code == 302 and response["Location"].endswith("#consents")
    person.refresh_from_db()
    assert person.whatsapp_opt_in is False
    record = ConsentRecord.objects.get(user=person, document=ConsentDocument.WHATSAPP)
    assert (record.granted, record.user_agent) == (False, "Browser/1")
    services.delivery_send(delivery_id=queued.pk)
    assert OutboxMessage.objects.count() == 0  # withdrawn before the send: nothing goes out


def test_giving_and_withdrawing_marketing_consent(client, person):
    client.force_login(person)
    url = reverse("accounts:consent_change", args=["marketing"])
    client.post(url, {"granted": "1"})
    person.refresh_from_db()
    assert person.marketing_opt_in is True
    client.post(url, {"granted": "0"})
    person.refresh_from_db()
    assert person.marketing_opt_in is False
    records = ConsentRecord.objects.filter(user=person, document=ConsentDocument.MARKETING).order_by("created_at", "id")
    assert [record.granted for record in records] == [True, False]


def test_a_double_click_records_once(client, person):
    client.force_login(person)
    url = reverse("accounts:consent_change", args=["whatsapp"])
    client.post(url, {"granted": "0"})
    client.post(url, {"granted": "0"})
    assert ConsentRecord.objects.filter(user=person, document=ConsentDocument.WHATSAPP).count() == 1


@pytest.mark.parametrize("granted", ["", "yes", "2", "0; drop table"])
def test_a_garbled_choice_changes_nothing(client, person, granted):
    client.force_login(person)
    response = client.post(reverse("accounts:consent_change", args=["whatsapp"]), {"granted": granted})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.whatsapp_opt_in is True and not ConsentRecord.objects.filter(user=person).exists()


@pytest.mark.parametrize("document", ["terms", "privacy", "nonsense"])
def test_the_contract_itself_cannot_be_withdrawn_by_a_click(client, person, document):
    client.force_login(person)
    response = client.post(reverse("accounts:consent_change", args=[document]), {"granted": "0"})
    assert response.status_code == 404


def test_the_way_back_never_leaves_the_site(client, person):
    client.force_login(person)
    url = reverse("accounts:consent_change", args=["marketing"])
    outside = client.post(url, {"granted": "1", "next": "https://evil.example/"})
    assert outside["Location"] == reverse("accounts:settings") + "#consents"
    inside = client.post(url, {"granted": "0", "next": "/account/privacy/"})
    assert inside["Location"] == "/account/privacy/"


def test_only_the_signed_in_person_changes_only_their_own_consent(client, person):
    other = CustomerFactory(marketing_opt_in=False)
    client.force_login(person)
    client.post(reverse("accounts:consent_change", args=["marketing"]), {"granted": "1"})
    other.refresh_from_db()
    assert other.marketing_opt_in is False and not ConsentRecord.objects.filter(user=other).exists()
    client.logout()
    response = client.post(reverse("accounts:consent_change", args=["marketing"]), {"granted": "0"})
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_settings_page_lists_each_consent_with_its_state(client, person):
    client.force_login(person)
    client.post(reverse("accounts:consent_change", args=["marketing"]), {"granted": "1"})
    page = client.get(reverse("accounts:settings")).content.decode()
    assert 'id="consents"' in page
    assert reverse("accounts:consent_change", args=["whatsapp"]) in page
    assert reverse("accounts:consent_change", args=["marketing"]) in page
    assert page.count('name="granted" value="0"') == 2  # both given: both offer "withdraw"


def test_the_privacy_centre_offers_the_same_one_click_and_comes_back_to_itself(client, person):
    client.force_login(person)
    centre = reverse("privacy:centre")
    page = client.get(centre).content.decode()
    assert reverse("accounts:consent_change", args=["whatsapp"]) in page
    assert f'name="next" value="{centre}"' in page
    response = client.post(reverse("accounts:consent_change", args=["whatsapp"]), {"granted": "0", "next": centre})
    assert response["Location"] == centre
    person.refresh_from_db()
    assert person.whatsapp_opt_in is False
