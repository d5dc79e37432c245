"""Hostile input to the chat pages (chat/views.py): garbage in every parameter the poll, the older page,
the typing check, the send and the report take answers a clear 4xx (or the page with a form error),
never a 500, and stores nothing; text written as HTML or JavaScript is shown as text everywhere it
appears (the page, the poll, the send's answer, the older page, the inbox; the admin in
test_chat_admin.py) and never travels in a notification; and the same message posted twice at the same
moment is stored once (PostgreSQL)."""

import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bookings.services import booking_request
from chat import services
from chat.models import Conversation, Message, Report
from companions.models import Activity
from notifications.models import Delivery, Notification
from tests.bookings.helpers import make_companion, new_customer, request
from tests.concurrency import at_once
from tests.conftest import requires_postgresql

pytestmark = pytest.mark.django_db

HUGE = str(10**30)  # past any integer column (bigint ends at 9.2 x 10**18)
HOSTILE = "<script>alert('x')</script><img src=x onerror=\"alert(1)\"> & <b>tebal</b>"
ESCAPED = "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;"


@pytest.fixture
def booking():
    return request(new_customer(), make_companion(), note="Halo, aku mau ngopi santai.")


def companion_of(booking):
    return booking.companion.user


def url(name: str, booking, reference: str | None = None) -> str:
    return reverse(f"chat:{name}", args=[reference or booking.reference])


def send(booking, sender, text, *, now=None):
    return services.message_send(
        booking=booking, sender=sender, text=text, client_key=uuid.uuid4(), now=now or timezone.now()
    )


def stored() -> dict:
    """Everything a refused request must leave as it was."""
    return {
        "messages": list(Message.objects.order_by("pk").values_list("pk", "text")),
        "reports": Report.objects.count(),
        "conversations": list(Conversation.objects.order_by("pk").values()),
        "notifications": Notification.objects.count(),
        "deliveries": Delivery.objects.count(),
    }


def htmx(**headers) -> dict:
    return {"HX-Request": "true", **headers}


# --- Garbage in the query and the form -------------------------------------------------------------------


@pytest.mark.parametrize("after", ["abc", "-1", HUGE, "-" + HUGE, "1e9", "0x10", "", " 7", "\x00", "٣"])
def test_a_poll_with_garbage_after_answers_without_error_and_stores_nothing(client, booking, after):
    client.force_login(booking.customer)  # the customer has read everything there is (their own note)
    before = stored()
    response = client.get(url("poll", booking), {"after": after})
    assert response.status_code in (200, 204, 400), response.status_code
    assert stored() == before
    if after == HUGE:
        assert response.status_code == 204  # nothing is newer than that


def test_a_poll_with_garbage_after_never_moves_the_read_mark_past_what_exists(client, booking):
    send(booking, companion_of(booking), "Halo juga!")
    client.force_login(booking.customer)
    for after in ("abc", "-1", HUGE):
        client.get(url("poll", booking), {"after": after})
    conversation = Conversation.objects.get(booking=booking)
    assert conversation.customer_read_upto == Message.objects.filter(conversation=conversation).latest("pk").pk


@pytest.mark.parametrize("before", ["abc", "0", "-1", "", HUGE, "-" + HUGE, "1.5", "\x00"])
def test_older_with_garbage_before_answers_4xx_or_the_messages(client, booking, before):
    client.force_login(booking.customer)
    before_state = stored()
    response = client.get(url("older", booking), {"before": before})
    assert response.status_code in (200, 400), response.status_code
    if before in ("abc", "0", "-1", "", "1.5", "\x00", "-" + HUGE):
        assert response.status_code == 400
    assert stored() == before_state


@pytest.mark.parametrize(
    "text",
    [
        "\x00",
        "Halo\x00dunia",
        "x" * 50_000,
        "\u200b\u200b\u200b",
        "\u200b \u200c\u200d\ufeff\u2060",
        "0812 " * 10_000,
        "a." * 25_000,
    ],
    ids=["nul", "nul-inside", "50000", "zero-width", "zero-width-mix", "digits", "dots"],
)
def test_the_typing_check_takes_any_text_quickly_and_stores_nothing(client, booking, text):
    client.force_login(booking.customer)
    before = stored()
    started = time.perf_counter()
    response = client.post(url("check", booking), {"text": text}, headers=htmx())
    assert response.status_code == 200
    assert time.perf_counter() - started < 2  # no runaway pattern on 50,000 hostile characters
    assert stored() == before


def test_the_typing_check_is_quick_on_a_text_of_at_signs(client, booking):
    """Each anchor's window used to be extended to the end of its word character by character: O(n^2) on
    a text of anchors without spaces (4,000 '@' took 1.6 s). Measured against the same number of '@' with
    spaces between them (quick either way), so a faster or busier machine changes both."""
    client.force_login(booking.customer)

    def seconds(text: str) -> float:
        started = time.perf_counter()
        assert client.post(url("check", booking), {"text": text}, headers=htmx()).status_code == 200
        return time.perf_counter() - started

    spaced = min(seconds("@ " * 2000) for _ in range(3))
    dense = seconds("@" * 50_000)  # the check reads the first 4,000
    assert dense < max(0.2, 8 * spaced), (dense, spaced)  # about 1.2 x spaced when each window grows once


@pytest.mark.parametrize(
    ("text", "client_key"),
    [
        ("\x00\x00\x00", "uuid"),
        ("x" * 50_000, "uuid"),
        ("x" * 2001, "uuid"),
        ("\u200b\u200b\u200b", "uuid"),
        ("\u200b\u200c\u200d\ufeff\u2060 \n\t ", "uuid"),
        ("", "uuid"),
        ("Halo", "not-a-uuid"),
        ("Halo", ""),
        ("Halo", "1"),
        ("Halo", "\x00" + "0" * 31),
        ("Halo", "' OR 1=1 --"),
        ("Halo", None),  # no key at all
    ],
    ids=[
        "nul-only",
        "50000-characters",
        "2001-characters",
        "zero-width-only",
        "invisible-and-blank",
        "empty",
        "key-not-uuid",
        "key-empty",
        "key-number",
        "key-nul",
        "key-sql",
        "key-missing",
    ],
)
@pytest.mark.parametrize("with_htmx", [False, True], ids=["page", "htmx"])
def test_a_garbage_send_is_a_422_with_the_form_error_and_stores_nothing(client, booking, text, client_key, with_htmx):
    client.force_login(booking.customer)
    data = {"text": text, "after": "0"}
    if client_key is not None:
        data["client_key"] = str(uuid.uuid4()) if client_key == "uuid" else client_key
    before = stored()
    response = client.post(url("conversation", booking), data, headers=htmx() if with_htmx else {})
    assert response.status_code == 422, response.status_code
    html = response.content.decode()
    assert 'id="composer"' in html and "error-summary" in html  # the form again, with its error
    assert "\x00" not in html
    assert stored() == before


def test_nul_bytes_inside_a_message_are_dropped_never_sent_to_the_database(client, booking):
    """The project's text cleaning (core/forms.py) removes control characters rather than refusing the
    message: the words around them are sent, without the NUL PostgreSQL would refuse."""
    client.force_login(booking.customer)
    response = client.post(url("conversation", booking), {"text": "Ha\x00lo\x00", "client_key": str(uuid.uuid4())})
    assert response.status_code == 302
    assert Message.objects.filter(conversation__booking=booking).latest("pk").text == "Halo"


@pytest.mark.parametrize("after", ["abc", "-1", HUGE])
def test_a_send_with_garbage_after_stores_the_message_once_without_error(client, booking, after):
    client.force_login(booking.customer)
    key = str(uuid.uuid4())
    for _ in range(2):
        response = client.post(
            url("conversation", booking), {"text": "Jam 7 ya", "client_key": key, "after": after}, headers=htmx()
        )
        assert response.status_code == 200
    assert Message.objects.filter(text="Jam 7 ya").count() == 1


@pytest.mark.parametrize(
    "reference", ["A" * 200, "A" * 17, "' OR 1=1 --", "..", "%2e%2e", "\u202e" + "X" * 8, "🙂" * 5]
)
def test_a_garbage_reference_is_404_on_every_chat_url(client, booking, reference):
    client.force_login(booking.customer)
    before = stored()
    for name in ("conversation", "poll", "older", "report"):
        assert client.get(url(name, booking, reference)).status_code == 404, name
    for name in ("conversation", "check", "block", "report"):
        data = {"text": "Halo", "client_key": str(uuid.uuid4()), "category": "other"}
        assert client.post(url(name, booking, reference), data).status_code == 404, name
    assert stored() == before


@pytest.mark.parametrize("reference", ["\x00", "ABC\x00DEF", "\x00" * 200])
def test_a_reference_with_a_nul_byte_is_400_on_every_chat_url(client, booking, reference):
    client.force_login(booking.customer)
    before = stored()
    for name in ("conversation", "poll", "older", "report"):
        path = "/" + url(name, booking, "REF").strip("/").replace("REF", reference) + "/"
        assert client.get(path).status_code == 400, name
    for name in ("conversation", "check", "block", "report"):
        path = "/" + url(name, booking, "REF").strip("/").replace("REF", reference) + "/"
        assert client.post(path, {"text": "Halo", "client_key": str(uuid.uuid4())}).status_code == 400, name
    assert stored() == before


@pytest.mark.parametrize(
    "data",
    [
        {"category": "not-a-category"},
        {"category": ""},
        {"category": "other", "message": "abc"},
        {"category": "other", "message": "-1"},
        {"category": "other", "message": "0"},
        {"category": "other", "message": HUGE},
        {"category": "other", "message": "\x00"},
        {"category": "other", "details": "x" * 50_000},
        {"category": "other\x00"},
    ],
    ids=[
        "category",
        "no-category",
        "message-abc",
        "message-negative",
        "message-zero",
        "message-huge",
        "message-nul",
        "details-50000",
        "category-nul",
    ],
)
def test_a_garbage_report_is_a_422_with_the_form_error_and_stores_nothing(client, booking, data):
    client.force_login(booking.customer)
    before = stored()
    response = client.post(url("report", booking), data)
    assert response.status_code == 422, response.status_code
    assert "error-summary" in response.content.decode()  # the form again, with its error
    assert stored() == before


def test_a_report_of_a_message_of_another_conversation_is_refused(client, booking):
    other = request(new_customer(), make_companion(), note="Pesan lain")
    elsewhere = Message.objects.get(conversation__booking=other)
    client.force_login(booking.customer)
    before = stored()
    response = client.post(url("report", booking), {"category": "other", "message": str(elsewhere.pk)})
    assert response.status_code == 422
    assert stored() == before


def test_the_report_page_shows_a_garbage_message_parameter_as_text(client, booking):
    client.force_login(booking.customer)
    response = client.get(url("report", booking), {"message": '"><script>alert(1)</script>'})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert(1)" not in html


def test_garbage_report_details_are_cleaned_and_the_report_kept(client, booking):
    client.force_login(booking.customer)
    response = client.post(url("report", booking), {"category": "other", "details": "Dia\x00 kasar\u200b"})
    assert response.status_code == 302
    assert Report.objects.get().details == "Dia kasar"


# --- HTML and JavaScript written in a message are text ----------------------------------------------------


def assert_escaped(html: str, where: str) -> None:
    assert "<script>alert(" not in html and "<img src=x" not in html and "<b>tebal</b>" not in html, where
    assert ESCAPED in html, where


def test_html_in_a_message_is_text_on_the_page_in_the_poll_the_send_the_older_page_and_the_inbox(client, booking):
    customer, companion = booking.customer, companion_of(booking)
    first = send(booking, customer, HOSTILE)
    client.force_login(companion)
    assert_escaped(client.get(url("conversation", booking)).content.decode(), "page")
    assert_escaped(client.get(url("poll", booking), {"after": first.pk - 1}).content.decode(), "poll")
    assert_escaped(client.get(reverse("chat:inbox")).content.decode(), "inbox")
    assert_escaped(client.get(url("older", booking), {"before": first.pk + 1}).content.decode(), "older")
    response = client.post(
        url("conversation", booking),
        {"text": HOSTILE, "client_key": str(uuid.uuid4()), "after": first.pk - 1},
        headers=htmx(),
    )
    assert response.status_code == 200
    assert_escaped(response.content.decode(), "send (HTMX)")


def test_a_refused_hostile_message_comes_back_escaped_in_the_form(client, booking):
    client.force_login(booking.customer)
    response = client.post(url("conversation", booking), {"text": HOSTILE + "x" * 2000, "client_key": "bad"})
    assert response.status_code == 422
    assert_escaped(response.content.decode(), "form")


def test_html_in_a_message_and_in_a_name_never_reaches_a_notification(
    client, booking, django_capture_on_commit_callbacks
):
    """The in-app notice and the email / WhatsApp about unread messages name the sender only: the text is in
    none of them, and a name written as HTML is shown as text."""
    customer, companion = booking.customer, companion_of(booking)
    customer.full_name = "<i>Eve</i> Jahat"
    customer.save(update_fields=["full_name"])
    companion.message_emails = True
    companion.email_notifications = True
    companion.save(update_fields=["message_emails", "email_notifications"])
    mail.outbox = []
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        send(booking, customer, HOSTILE + " rahasia-42", now=now - timedelta(minutes=15))
        assert services.unread_notices_send(now=now) == 1

    notices = Notification.objects.filter(recipient=companion, event__startswith="message_")
    deliveries = Delivery.objects.filter(recipient=companion, template_key="message_unread")
    assert notices.exists() and deliveries.exists()
    for text in [str(notice.context) for notice in notices] + [
        d.body + d.subject + str(d.variables) for d in deliveries
    ]:
        assert "rahasia-42" not in text and "alert(" not in text
    assert mail.outbox
    for email in mail.outbox:
        for text in (email.subject, email.body):  # plain text: the name as written, never the message
            assert "rahasia-42" not in text and "alert(" not in text
        for html, _type in email.alternatives:
            assert "rahasia-42" not in html and "alert(" not in html
            assert "<i>Eve</i>" not in html and "&lt;i&gt;Eve&lt;/i&gt;" in html
    client.force_login(companion)
    listing = client.get(reverse("notifications:list")).content.decode()
    assert "rahasia-42" not in listing and "<i>Eve</i>" not in listing and "&lt;i&gt;Eve" in listing


# --- The same message twice at the same moment -------------------------------------------------------------


def _at_once_booking():
    """A booking made on the real clock (the views send with timezone.now())."""
    profile = make_companion()
    start = (timezone.now() + timedelta(days=3)).replace(hour=3, minute=0, second=0, microsecond=0)
    return booking_request(
        customer=new_customer(),
        profile=profile,
        start=start,
        hours=2,
        activity=Activity.objects.get(slug="hangout"),
        meeting_place="Kopi Kenangan, Grand Indonesia lantai 3",
        note="Halo!",
    )


@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_same_message_posted_twice_at_the_same_moment_is_stored_once(reference_data, settings, monkeypatch):
    """Two POSTs of one form (a double click reaching two server threads), each on its own connection. The
    first to lock the conversation stores the message and holds on, uncommitted, until the second has found
    nothing stored yet and waits for the lock: the second then meets the unique key. Both are answered as
    sent; one message, one in-app notice."""
    settings.LOCK_TIMEOUT_MS = 10_000  # this test is about the outcome, not the wait
    booking = _at_once_booking()
    clients = [Client(), Client()]
    for each in clients:
        each.force_login(booking.customer)

    asked_for_lock, stored_by = [], []
    both_asked = threading.Event()
    real_lock_one, real_store = services.lock_one, services._store

    def lock_one(*args, **kwargs):
        asked_for_lock.append(threading.get_ident())
        if len(asked_for_lock) == 2:
            both_asked.set()
        return real_lock_one(*args, **kwargs)

    def store(*args, **kwargs):
        stored_by.append(threading.get_ident())
        message = real_store(*args, **kwargs)
        both_asked.wait(timeout=10)
        return message

    monkeypatch.setattr(services, "lock_one", lock_one)
    monkeypatch.setattr(services, "_store", store)
    data = {"text": "Sampai jumpa jam 7", "client_key": str(uuid.uuid4()), "after": "0"}
    answers = []
    errors = at_once(*[lambda each=each: answers.append(each.post(url("conversation", booking), data))
                       for each in clients])  # fmt: skip
    assert errors == []
    assert len(set(stored_by)) == 2  # both got past "already stored?" and tried: the race did happen
    assert [answer.status_code for answer in answers] == [302, 302]
    assert Message.objects.filter(text="Sampai jumpa jam 7").count() == 1

    monkeypatch.undo()  # once more, as it comes
    data = {"text": "Aku pakai baju biru", "client_key": str(uuid.uuid4()), "after": "0"}
    assert at_once(*[lambda each=each: each.post(url("conversation", booking), data) for each in clients]) == []
    assert Message.objects.filter(text="Aku pakai baju biru").count() == 1

    assert Message.objects.filter(conversation__booking=booking).count() == 3  # the note and two
    assert Notification.objects.filter(recipient=companion_of(booking), event="message_new").count() == 1
