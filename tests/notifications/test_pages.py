"""The notification pages: the bell in the header (one query, whatever the count), the list in the
reader's language, opening one (marks it read, goes to the booking), "mark all as read", the dev WhatsApp
outbox, and on the account settings the email choice and proving the number with a WhatsApp code.

Pages are read in English (the language cookie) where a test looks for our own new texts, so the tests
hold once they are translated."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from bookings import services as booking_services
from core import formatting
from notifications.models import Notification, OutboxMessage
from tests.bookings.helpers import make_companion, new_customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def in_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def notify(user, count=1, **fields) -> list[Notification]:
    return [
        Notification.objects.create(recipient=user, event="payout_paid", context={"amount": 100_000}, **fields)
        for _ in range(count)
    ]


def badge(content: str) -> str | None:
    found = re.search(r"data-unread-badge>([^<]*)<", content)
    return found.group(1) if found else None


def booking_request_for(profile, customer):
    """A real request on the real clock (the list and its links use today's date)."""
    from companions.models import Activity
    from companions.selectors import free_start_times

    now = timezone.now()
    start = free_start_times(profile, start=now, end=now + timedelta(days=15), hours=1)[0]
    return booking_services.booking_request(
        customer=customer,
        profile=profile,
        start=start,
        hours=1,
        activity=Activity.objects.get(slug="hangout"),
        meeting_place="Kopi Tuku, Grand Indonesia",
    )


# --- The bell -----------------------------------------------------------------------------------------------


def test_the_bell_shows_the_unread_count_hidden_at_zero_and_9_plus_above_nine(client):
    customer = CustomerFactory()
    in_english(client).force_login(customer)
    home = reverse("home")

    content = client.get(home).content.decode()
    assert f'href="{reverse("notifications:list")}"' in content
    assert 'aria-label="Notifications"' in content and badge(content) is None

    notify(customer, 3)
    notify(customer, 2, read_at=timezone.now())  # read ones do not count
    content = client.get(home).content.decode()
    assert badge(content) == "3" and 'aria-label="Notifications, 3 unread"' in content

    notify(customer, 9)
    content = client.get(home).content.decode()
    assert badge(content) == "9+" and 'aria-label="Notifications, 12 unread"' in content


def test_the_bell_costs_one_query_whatever_the_count(client):
    customer = CustomerFactory()
    client.force_login(customer)
    notify(customer)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("home"))
        assert response.status_code == 200
        return len(captured)

    queries()  # the first request also refreshes the session
    one = queries()
    notify(customer, 15)
    assert queries() == one
    with CaptureQueriesContext(connection) as captured:
        client.get(reverse("home"))
    assert sum('"notifications_notification"' in query["sql"] for query in captured.captured_queries) == 1


def test_visitors_have_no_bell_and_no_count_query(client):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("home"))
    # No bell in the page and no count asked for. (Not "no unread_notifications in the context": the
    # header is written through {% frame %}, whose first rendering in a process is recorded in the
    # response's contexts and later ones are not.)
    assert f'href="{reverse("notifications:list")}"' not in response.content.decode()
    assert not any("notifications_notification" in query["sql"] for query in captured.captured_queries)


# --- The list -----------------------------------------------------------------------------------------------


def test_the_list_is_in_the_readers_language_newest_first_with_unread_marked(client):
    profile = make_companion()
    companion = profile.user
    booking = booking_request_for(profile, new_customer())  # "booking_requested" for the companion
    older = notify(companion, read_at=timezone.now())[0]
    Notification.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=400))
    client.force_login(companion)

    page = client.get(reverse("notifications:list"))
    content = page.content.decode()
    assert page.status_code == 200
    assert [item.notification.event for item in page.context["items"]] == ["booking_requested", "payout_paid"]
    # Indonesian by default (the companion's language): the catalogue's title, the booking's real
    # values, dates written the Indonesian way in the companion's zone.
    with translation.override("id"):
        title_id = gettext("New booking request")
    start_id = formatting.format_datetime(booking.start, zone=companion.time_zone, language="id")
    assert title_id in content and booking.customer.get_short_name() in content and start_id in content
    newest = Notification.objects.get(recipient=companion, event="booking_requested")
    links = [reverse("notifications:open", args=[pk]) for pk in (newest.pk, older.pk)]
    assert content.index(f'href="{links[0]}"') < content.index(f'href="{links[1]}"')  # newest first
    assert content.count("<li data-unread>") == 1  # the new request; the payout was read
    # Time in the reader's zone: today without the year, last year's with it.
    assert "Hari ini, " in content and " WIB</time>" in content

    companion.preferred_language = "en"
    companion.save(update_fields=["preferred_language"])
    content = client.get(reverse("notifications:list")).content.decode()
    start_en = formatting.format_datetime(booking.start, zone=companion.time_zone, language="en")
    assert "New booking request" in content and start_en in content and start_id not in content
    assert "Today, " in content and "Mark all as read" in content


def test_an_empty_list_says_so_and_offers_nothing_to_mark(client):
    in_english(client).force_login(CustomerFactory())
    content = client.get(reverse("notifications:list")).content.decode()
    assert "No notifications yet" in content and "Mark all as read" not in content


def test_the_list_pages_with_load_more(client):
    customer = CustomerFactory()
    notify(customer, 25)
    in_english(client).force_login(customer)
    first = client.get(reverse("notifications:list"))
    assert len(first.context["items"]) == 20 and 'id="pager"' in first.content.decode()
    second = client.get(reverse("notifications:list"), {"page": 2})
    assert len(second.context["items"]) == 5


def test_opening_one_marks_it_read_and_goes_to_the_booking(client):
    profile = make_companion()
    booking = booking_request_for(profile, new_customer())
    notification = Notification.objects.get(recipient=profile.user, event="booking_requested")
    client.force_login(profile.user)
    assert client.get(reverse("home")).context["unread_notifications"] == 1

    response = client.get(reverse("notifications:open", args=[notification.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("bookings:detail", args=[booking.reference])
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert client.get(reverse("home")).context["unread_notifications"] == 0


def test_mark_all_as_read(client):
    customer = CustomerFactory()
    notify(customer, 3)
    other = notify(CustomerFactory())[0]
    in_english(client).force_login(customer)
    assert "Mark all as read" in client.get(reverse("notifications:list")).content.decode()

    response = client.post(reverse("notifications:mark_read"), follow=True)
    assert response.redirect_chain == [(reverse("notifications:list"), 302)]
    assert not Notification.objects.filter(recipient=customer, read_at__isnull=True).exists()
    content = response.content.decode()
    assert "Mark all as read" not in content and "<li data-unread>" not in content and badge(content) is None
    other.refresh_from_db()
    assert other.read_at is None  # someone else's stay unread


def test_someone_elses_notification_is_404_and_stays_unread(client):
    theirs = notify(CustomerFactory())[0]
    client.force_login(CustomerFactory())
    assert client.get(reverse("notifications:open", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


# --- The dev outbox -----------------------------------------------------------------------------------------


def test_the_outbox_is_404_without_debug(client, settings):
    settings.WHATSAPP_BACKEND = "outbox"
    OutboxMessage.objects.create(to="+6281234567890", template_key="phone_code", body="123456", sid="SM1")
    assert client.get(reverse("notifications:outbox")).status_code == 404
    assert reverse("notifications:outbox") not in client.get(reverse("home")).content.decode()


def test_the_outbox_lists_every_message_in_dev(client, settings):
    settings.DEBUG, settings.WHATSAPP_BACKEND = True, "outbox"
    OutboxMessage.objects.create(
        to="+6281234567890",
        template_key="booking_confirmed",
        body="*Booking confirmed*\nKMP-ABCD1234 is paid.\nhttp://testserver/bookings/KMP-ABCD1234/",
        sid="SM-first",
    )
    OutboxMessage.objects.create(to="+6281299990000", template_key="phone_code", body="*Code*\n654321", sid="SM-2")
    page = in_english(client).get(reverse("notifications:outbox"))
    content = page.content.decode()
    assert page.status_code == 200
    assert "WhatsApp outbox (dev)" in content and "nothing is really sent" in content
    assert "0812-3456-7890" in content and "0812-9999-0000" in content
    assert "booking_confirmed" in content and "phone_code" in content
    assert "*Booking confirmed*\nKMP-ABCD1234 is paid." in content and "whitespace-pre-line" in content
    assert content.index("0812-9999-0000") < content.index("0812-3456-7890")  # newest first
    assert f'href="{reverse("notifications:outbox")}"' in content  # the footer link, dev only


def test_the_outbox_is_404_with_the_real_backend(client, settings):
    settings.DEBUG, settings.WHATSAPP_BACKEND = True, "twilio"
    assert client.get(reverse("notifications:outbox")).status_code == 404


# --- Account settings: email notifications, the number's state ---------------------------------------------


def settings_data(user, **overrides) -> dict:
    data = {
        "full_name": user.full_name,
        "date_of_birth": user.date_of_birth.isoformat(),
        "preferred_language": "en",
        "time_zone": "Asia/Jakarta",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_settings_save_the_email_notifications_choice(client):
    customer = CustomerFactory()
    assert customer.email_notifications is True
    in_english(client).force_login(customer)
    page = client.get(reverse("accounts:settings")).content.decode()
    assert "Email me about my bookings and payments" in page
    assert re.search(r'<input type="checkbox" name="email_notifications"[^>]*checked', page)

    response = client.post(reverse("accounts:settings"), settings_data(customer))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.email_notifications is False
    page = client.get(reverse("accounts:settings")).content.decode()
    assert not re.search(r'<input type="checkbox" name="email_notifications"[^>]*checked', page)

    client.post(reverse("accounts:settings"), settings_data(customer, email_notifications="on"))
    customer.refresh_from_db()
    assert customer.email_notifications is True


def test_settings_show_whether_the_number_is_verified(client):
    customer = CustomerFactory(whatsapp_opt_in=True)
    in_english(client).force_login(customer)
    page = client.get(reverse("accounts:settings")).content.decode()
    assert "Not verified" in page and reverse("notifications:phone_verify") in page
    assert "Messages go only to a verified number." in page
    assert "WhatsApp updates start once your number is verified." in page

    customer.phone_verified_at = timezone.now()
    customer.save(update_fields=["phone_verified_at"])
    page = client.get(reverse("accounts:settings")).content.decode()
    assert "Verified" in page and "Not verified" not in page and reverse("notifications:phone_verify") not in page


# --- Proving the number -------------------------------------------------------------------------------------


def sent_code(phone: str) -> str:
    body = OutboxMessage.objects.filter(to=phone).latest("created_at", "id").body
    return re.search(r"\b(\d{6})\b", body).group(1)


def test_the_number_is_verified_with_a_code_sent_on_whatsapp(client, settings, django_capture_on_commit_callbacks):
    settings.WHATSAPP_BACKEND = "outbox"
    customer = CustomerFactory(phone="+6281234567890", whatsapp_opt_in=True)
    in_english(client).force_login(customer)
    url = reverse("notifications:phone_verify")

    first = client.get(url).content.decode()
    assert "Send code on WhatsApp" in first and 'name="code"' not in first

    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(url, {"action": "send"})
    assert sent.status_code == 302 and sent["Location"] == url
    code = sent_code(customer.phone)
    page = client.get(url).content.decode()
    assert "We sent a 6-digit code on WhatsApp to 0812-3456-7890." in page
    field = re.search(r"<input[^>]*name=\"code\"[^>]*>", page).group(0)
    for attribute in ('inputmode="numeric"', 'autocomplete="one-time-code"', 'maxlength="6"'):
        assert attribute in field

    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    answer = client.post(url, {"code": wrong})
    content = answer.content.decode()
    assert answer.status_code == 200
    assert "That code is not right. 4 attempts left." in content
    field = re.search(r"<input[^>]*name=\"code\"[^>]*>", content).group(0)
    assert f'value="{wrong}"' in field and 'aria-invalid="true"' in field  # kept, and marked
    customer.refresh_from_db()
    assert customer.phone_verified_at is None

    done = client.post(url, {"code": code}, follow=True)
    assert done.redirect_chain == [(reverse("accounts:settings"), 302)]
    assert "Your number is verified." in done.content.decode()
    customer.refresh_from_db()
    assert customer.phone_verified_at is not None
    assert "is verified" in client.get(url).content.decode()


def test_a_malformed_code_is_refused_before_it_counts(client, settings, django_capture_on_commit_callbacks):
    settings.WHATSAPP_BACKEND = "outbox"
    customer = CustomerFactory()
    in_english(client).force_login(customer)
    url = reverse("notifications:phone_verify")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "send"})
    content = client.post(url, {"code": "12ab"}).content.decode()
    assert "The code has 6 digits" in content and 'value="12ab"' in content
    # A pasted "123 456" is the same as "123456".
    code = sent_code(customer.phone)
    response = client.post(url, {"code": f"{code[:3]} {code[3:]}"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.phone_verified_at is not None


def test_too_many_codes_are_refused_with_the_reason(client, settings, django_capture_on_commit_callbacks):
    settings.WHATSAPP_BACKEND = "outbox"
    customer = CustomerFactory()
    in_english(client).force_login(customer)
    url = reverse("notifications:phone_verify")
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(url, {"action": "send"}).status_code == 302
    refused = client.post(url, {"action": "send"})
    assert refused.status_code == 200
    assert "Too many codes were sent. Please try again in an hour." in refused.content.decode()
    assert OutboxMessage.objects.filter(to=customer.phone).count() == 3


def test_without_a_number_the_page_links_to_adding_one(client):
    in_english(client).force_login(CustomerFactory(phone=""))
    content = client.get(reverse("notifications:phone_verify")).content.decode()
    assert reverse("accounts:phone_change") in content and "Send code on WhatsApp" not in content
