"""The booking's conversation (chat/): opened with the request's note, written only by the two parties,
contact details hidden from the recipient until payment, once per client key, in order, polls that say
"nothing new" with 204 in a constant number of queries, read-only 14 days after the end, blocks both ways,
reports with frozen evidence, and the delayed notice about unread messages."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import blocks
from bookings import services as booking_services
from bookings.errors import BookingError
from chat import rules, selectors, services
from chat.errors import ChatError
from chat.models import Conversation, Message, Report
from notifications.models import Delivery, Notification
from tests.bookings.helpers import NOW, START, make_companion, new_customer, request
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db
MINUTE = timedelta(minutes=1)
PHONE_TEXT = "WA aku ya 0812 3456 7890"


@pytest.fixture
def booking():
    return request(new_customer(), make_companion(), note="Halo, aku mau ngopi santai sore ini.")


def send(booking, sender, text, *, key=None, now=None):
    return services.message_send(
        booking=booking, sender=sender, text=text, client_key=key or uuid.uuid4(), now=now or NOW + MINUTE
    )


def companion_of(booking):
    return booking.companion.user


def test_the_request_opens_the_conversation_with_its_note_as_the_first_message(booking):
    conversation = Conversation.objects.get(booking=booking)
    first = conversation.messages.get()
    assert (first.sender, first.text) == (booking.customer, "Halo, aku mau ngopi santai sore ini.")
    assert (conversation.customer, conversation.companion) == (booking.customer, companion_of(booking))


def test_contacts_are_hidden_from_the_recipient_until_payment_and_the_sender_sees_what_they_wrote(booking):
    before = send(booking, booking.customer, PHONE_TEXT)
    assert before.masked and before.text == PHONE_TEXT  # kept as written (staff, sender)
    companion_sees = selectors.shown(before, companion_of(booking).pk).text
    assert "0812" not in companion_sees and "[" in companion_sees
    assert selectors.shown(before, booking.customer.pk).text == PHONE_TEXT
    booking_services.booking_accept(booking_id=booking.pk, actor=companion_of(booking), now=NOW + 2 * MINUTE)
    paid = booking_services.booking_mark_paid(booking_id=booking.pk, now=NOW + 3 * MINUTE)
    after = send(paid, companion_of(booking), "Nomorku 0857 1111 2222", now=NOW + 4 * MINUTE)
    assert not after.masked
    assert selectors.shown(after, booking.customer.pk).text == "Nomorku 0857 1111 2222"
    assert selectors.shown(Message.objects.get(pk=before.pk), companion_of(booking).pk).text == companion_sees


def test_the_same_client_key_twice_is_one_message_and_order_is_kept(booking):
    key = uuid.uuid4()
    first = send(booking, booking.customer, "Satu", key=key)
    again = send(booking, booking.customer, "Satu", key=key)
    second = send(booking, companion_of(booking), "Dua")
    assert first.pk == again.pk
    texts = list(Message.objects.filter(conversation__booking=booking).order_by("pk").values_list("text", flat=True))
    assert texts[1:] == ["Satu", "Dua"] and second.pk > first.pk


@pytest.mark.parametrize("text", ["", "   \n ", "x" * 2001])
def test_empty_or_too_long_messages_are_refused_and_nothing_is_stored(booking, text):
    count = Message.objects.count()
    with pytest.raises(ChatError):
        send(booking, booking.customer, text)
    assert Message.objects.count() == count


def test_more_than_30_messages_a_minute_is_refused(booking):
    for index in range(rules.SEND_LIMIT_PER_MINUTE):
        send(booking, booking.customer, f"pesan {index}", now=NOW + MINUTE)
    with pytest.raises(ChatError):
        send(booking, booking.customer, "satu lagi", now=NOW + MINUTE)
    send(booking, booking.customer, "semenit kemudian", now=NOW + 3 * MINUTE)


def test_nobody_else_writes_and_the_conversation_closes_14_days_after_the_end(booking):
    with pytest.raises(ChatError):
        send(booking, new_customer(), "Halo")
    with pytest.raises(ChatError):
        send(booking, StaffFactory(), "Halo dari staf")
    booking_services.booking_decline(
        booking_id=booking.pk, actor=companion_of(booking), reason="Maaf", now=NOW + 2 * MINUTE
    )
    booking.refresh_from_db()
    send(booking, booking.customer, "Oke, lain kali ya", now=booking.closed_at + timedelta(days=13))
    with pytest.raises(ChatError):
        send(booking, booking.customer, "Masih bisa?", now=booking.closed_at + timedelta(days=14))


def test_a_block_stops_messages_and_requests_both_ways_until_undone(booking):
    customer, companion = booking.customer, companion_of(booking)
    assert services.block_from_booking(booking=booking, blocker=companion)
    for sender in (customer, companion):
        with pytest.raises(ChatError):
            send(booking, sender, "Halo?")
    with pytest.raises(BookingError):
        request(customer, booking.companion, start=START + timedelta(days=2))
    blocks.unblock(blocker=companion, blocked_id=customer.pk)
    send(booking, customer, "Terima kasih")
    request(customer, booking.companion, start=START + timedelta(days=2))


def test_a_report_freezes_the_messages_as_written(booking):
    bad = send(booking, companion_of(booking), "Transfer langsung aja ke BCA 1234567890 ya")
    assert Conversation.objects.get(booking=booking).flagged_at is not None
    report = services.report_send(booking=booking, reporter=booking.customer, category="contact", message_id=bad.pk)
    assert [row["text"] for row in report.evidence][-1] == bad.text
    assert report.reported == companion_of(booking)
    Message.objects.filter(pk=bad.pk).update(text="(changed)")
    assert Report.objects.get(pk=report.pk).evidence[-1]["text"] == bad.text


def test_a_message_tells_the_recipient_in_app_once_until_read_then_by_email_after_10_minutes(booking):
    companion = companion_of(booking)
    Notification.objects.all().delete()
    Delivery.objects.all().delete()
    send(booking, booking.customer, "Jam 7 bisa?", now=NOW)
    send(booking, booking.customer, "Atau jam 8", now=NOW + MINUTE)
    told = Notification.objects.filter(recipient=companion, event="message_new")
    assert told.count() == 1 and not Delivery.objects.filter(recipient=companion).exists()
    assert "Jam 7" not in str(told.get().context)

    assert services.unread_notices_send(now=NOW + 10 * MINUTE) == 0  # the second message is 9 minutes old
    assert services.unread_notices_send(now=NOW + 11 * MINUTE) == 1
    emails = Delivery.objects.filter(recipient=companion, channel="email")
    assert emails.count() == 1 and "Jam 7" not in emails.get().body
    assert services.unread_notices_send(now=NOW + 20 * MINUTE) == 0  # at most once per 30 minutes
    send(booking, booking.customer, "Halo?", now=NOW + 25 * MINUTE)
    assert services.unread_notices_send(now=NOW + 36 * MINUTE) == 0
    assert services.unread_notices_send(now=NOW + 42 * MINUTE) == 1


def test_a_message_read_within_10_minutes_sends_nothing(booking):
    companion = companion_of(booking)
    message = send(booking, booking.customer, "Jam 7 bisa?", now=NOW)
    services.conversation_read(
        conversation=Conversation.objects.get(booking=booking), reader=companion, upto=message.pk
    )
    assert not Notification.objects.filter(recipient=companion, event="message_new", read_at__isnull=True).exists()
    assert services.unread_notices_send(now=NOW + 15 * MINUTE) == 0


# --- Pages ---------------------------------------------------------------------------------------------


def test_the_page_shows_masked_text_escaped_and_sends_once(client, booking):
    send(booking, booking.customer, f"<script>alert(1)</script> {PHONE_TEXT}")
    client.force_login(companion_of(booking))
    html = client.get(reverse("chat:conversation", args=[booking.reference])).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
    assert "0812 3456 7890" not in html
    key = str(uuid.uuid4())
    url = reverse("chat:conversation", args=[booking.reference])
    for _ in range(2):
        response = client.post(url, {"text": "Bisa kok", "client_key": key, "after": 0})
        assert response.status_code == 302
    assert Message.objects.filter(text="Bisa kok").count() == 1


def test_a_refused_message_keeps_what_was_typed(client, booking):
    client.force_login(booking.customer)
    blocks.block(blocker=companion_of(booking), blocked=booking.customer)
    url = reverse("chat:conversation", args=[booking.reference])
    response = client.post(
        url, {"text": "Halo masih di sana?", "client_key": str(uuid.uuid4())}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    assert "Halo masih di sana?" in response.content.decode()


def test_strangers_and_staff_get_404_on_every_chat_url(client, booking):
    for user in (new_customer(), StaffFactory()):
        client.force_login(user)
        for name in ("conversation", "poll", "older", "report"):
            assert client.get(reverse(f"chat:{name}", args=[booking.reference])).status_code == 404, name
        for name in ("conversation", "check", "block", "report"):
            assert client.post(reverse(f"chat:{name}", args=[booking.reference]), {"text": "x"}).status_code == 404


def test_a_poll_with_nothing_new_is_204_and_its_queries_do_not_grow_with_the_conversation(client, booking):
    client.force_login(companion_of(booking))
    url = reverse("chat:poll", args=[booking.reference])
    last = Message.objects.filter(conversation__booking=booking).latest("pk").pk
    assert client.get(url, {"after": last}).status_code == 204
    with CaptureQueriesContext(connection) as short:
        client.get(url, {"after": last})
    for index in range(40):
        send(booking, booking.customer, f"pesan {index}", now=NOW + MINUTE + index * timedelta(seconds=3))
    last = Message.objects.filter(conversation__booking=booking).latest("pk").pk
    with CaptureQueriesContext(connection) as long:
        assert client.get(url, {"after": last}).status_code == 204
    assert len(long.captured_queries) == len(short.captured_queries)
    response = client.get(url, {"after": last - 2})
    assert response.status_code == 200 and "pesan 39" in response.content.decode()


def test_a_blocked_companion_leaves_that_customers_search_only_and_comes_back_when_unblocked(client, booking):
    customer, profile = booking.customer, booking.companion
    other = new_customer()
    url = reverse("companions:search")
    client.force_login(customer)
    assert f'href="/c/{profile.slug}/"' in client.get(url).content.decode()
    blocks.block(blocker=customer, blocked=profile.user)
    assert f'href="/c/{profile.slug}/"' not in client.get(url).content.decode()
    client.force_login(other)  # somebody else still finds the companion (and the shared cached page)
    assert f'href="/c/{profile.slug}/"' in client.get(url).content.decode()
    client.force_login(customer)
    response = client.post(reverse("accounts:unblock", args=[profile.user_id]))
    assert response.status_code == 302
    assert f'href="/c/{profile.slug}/"' in client.get(url).content.decode()


def test_unblock_undoes_only_the_persons_own_blocks(client, booking):
    customer, companion = booking.customer, companion_of(booking)
    blocks.block(blocker=companion, blocked=customer)
    client.force_login(customer)
    client.post(reverse("accounts:unblock", args=[companion.pk]))
    assert blocks.between(customer.pk, companion.pk)
    settings_page = client.get(reverse("accounts:settings")).content.decode()
    assert companion.get_short_name() not in settings_page.split('id="blocked"')[1]


def test_the_header_shows_the_conversations_to_read_until_they_are_read(client, booking):
    companion = companion_of(booking)
    client.force_login(companion)
    home = reverse("home")
    badge = "data-messages-badge>1 "
    assert "data-messages-badge" not in client.get(home).content.decode()  # the note came with the request
    send(booking, booking.customer, "Halo, jadi ya?")
    assert badge in client.get(home).content.decode()
    send(booking, booking.customer, "Satu lagi")
    assert badge in client.get(home).content.decode()  # still one conversation
    client.get(reverse("chat:conversation", args=[booking.reference]))
    assert "data-messages-badge" not in client.get(home).content.decode()
