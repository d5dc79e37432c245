"""Chat in the admin (chat/admin.py): staff read a conversation only on its change page, and each opening
is logged (StaffRead: who, when); the transcript gives each message as written beside what its recipient
saw, as text; the report queue records every action with its note (taking into review, warning, suspending
and banning, the last two deactivating the reported account) and refuses an action without a note; the
admin's work queues count the open reports and the flagged conversations."""

import html
import re
import uuid
from datetime import timedelta

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from chat import selectors, services
from chat.models import Conversation, Message, Report, ReportAction, StaffRead
from tests.bookings.helpers import NOW, make_companion, new_customer, request
from tests.conftest import STAFF_TOTP_SECRET, requires_postgresql
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

MINUTE = timedelta(minutes=1)
PHONE_TEXT = "WA aku ya 0812 3456 7890"
HOSTILE = "<script>alert('x')</script><img src=x onerror=alert(1)>"


@pytest.fixture
def admin_user(staff):
    """Staff with two-factor login (the admin asks for it), allowed everything."""
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    return staff


@pytest.fixture
def booking():
    return request(new_customer(), make_companion(), note="Halo, aku mau ngopi santai sore ini.")


def companion_of(booking):
    return booking.companion.user


def send(booking, sender, text, *, at=NOW + MINUTE):
    return services.message_send(booking=booking, sender=sender, text=text, client_key=uuid.uuid4(), now=at)


def conversation_url(booking) -> str:
    return reverse("admin:chat_conversation_change", args=[Conversation.objects.get(booking=booking).pk])


def report_url(report) -> str:
    return reverse("admin:chat_report_change", args=[report.pk])


def transcript(page: str) -> str:
    """The transcript's table on a conversation's change page."""
    found = re.search(r"<table><thead><tr><th>.*?</table>", page, re.DOTALL)
    assert found, "no transcript on the page"
    return found.group(0)


# --- Reading a conversation ---------------------------------------------------------------------------------


def test_each_opening_of_a_conversation_is_logged_with_who_and_when(client, admin_user, booking):
    send(booking, booking.customer, "Jam 7 bisa?")
    client.force_login(admin_user)
    url = conversation_url(booking)
    conversation = Conversation.objects.get(booking=booking)
    assert not StaffRead.objects.exists()

    started = timezone.now()
    for _ in range(2):
        assert client.get(url).status_code == 200
    reads = list(StaffRead.objects.order_by("pk"))
    assert [(read.conversation_id, read.staff_id) for read in reads] == [(conversation.pk, admin_user.pk)] * 2
    assert all(started <= read.created_at <= timezone.now() for read in reads)

    other = StaffFactory(is_superuser=True)
    TOTP.activate(other, STAFF_TOTP_SECRET)
    client.force_login(other)
    assert client.get(url).status_code == 200
    assert StaffRead.objects.filter(conversation=conversation, staff=other).count() == 1
    assert StaffRead.objects.count() == 3


def test_the_lists_do_not_show_the_text_and_log_no_read(client, admin_user, booking):
    send(booking, booking.customer, "Pesan pribadi sekali")
    client.force_login(admin_user)
    page = client.get(reverse("admin:chat_conversation_changelist")).content.decode()
    assert booking.reference in page and "Pesan pribadi sekali" not in page
    assert not StaffRead.objects.exists()
    # The log of reads is itself a record: listed, never edited.
    assert client.get(reverse("admin:chat_staffread_changelist")).status_code == 200
    assert client.get(reverse("admin:chat_staffread_add")).status_code == 403


def test_the_transcript_shows_each_message_as_written_beside_what_its_recipient_saw(client, admin_user, booking):
    customer, companion = booking.customer, companion_of(booking)
    before_payment = send(booking, customer, PHONE_TEXT)
    asks = send(booking, companion, "Transfer langsung aja ke BCA 1234567890 ya", at=NOW + 2 * MINUTE)
    client.force_login(admin_user)
    table = transcript(client.get(conversation_url(booking)).content.decode())
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", table)
    as_seen = selectors.shown(before_payment, companion.pk).text
    assert "0812" not in as_seen
    by_text = {html.unescape(row[2]): row for row in rows}
    _sent, by, _written, seen, _concerns = by_text[PHONE_TEXT]
    assert by == customer.get_short_name()
    assert html.unescape(seen) == as_seen  # beside the text as written, what the companion saw
    assert html.unescape(by_text[asks.text][4]) == "off_platform_payment"
    assert [html.unescape(row[2]) for row in rows] == list(
        Message.objects.filter(conversation__booking=booking).order_by("pk").values_list("text", flat=True)
    )


def assert_shown_as_text(page: str) -> None:
    assert "<script>alert(" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(" in page


def test_html_in_a_message_is_text_in_the_transcript(client, admin_user, booking):
    send(booking, booking.customer, HOSTILE)
    client.force_login(admin_user)
    page = client.get(conversation_url(booking)).content.decode()
    assert_shown_as_text(transcript(page))
    assert_shown_as_text(page)


def test_html_in_a_message_and_in_the_details_is_text_in_a_reports_evidence(client, admin_user, booking):
    bad = send(booking, booking.customer, HOSTILE)
    report = services.report_send(booking=booking, reporter=companion_of(booking), category="other", message_id=bad.pk,
                                  details=HOSTILE)  # fmt: skip
    client.force_login(admin_user)
    assert_shown_as_text(client.get(report_url(report)).content.decode())


def test_a_conversation_that_does_not_exist_logs_no_read(client, admin_user):
    """The read is logged once the admin has found the conversation (it was logged from the URL's id
    first: a row pointing nowhere here, a 500 once committed)."""
    client.force_login(admin_user)
    response = client.get(reverse("admin:chat_conversation_change", args=[987654]))
    assert response.status_code == 302  # the admin's "does not exist" answer
    assert not StaffRead.objects.exists()


def test_a_huge_conversation_id_is_not_a_server_error(client, admin_user):
    """The URL's id went into the read's insert: bigint out of range, a 500."""
    client.force_login(admin_user)
    response = client.get(reverse("admin:chat_conversation_change", args=["9" * 30]))
    assert response.status_code in (302, 404)
    assert not StaffRead.objects.exists()


@pytest.fixture
def plain_staff(staff):
    """Staff with two-factor login and no permission of their own."""
    staff.is_superuser = False
    staff.save(update_fields=["is_superuser"])
    return staff


def test_staff_not_allowed_to_read_conversations_get_403_and_no_read_is_logged(client, plain_staff, booking):
    client.force_login(plain_staff)
    assert client.get(conversation_url(booking)).status_code == 403
    assert not StaffRead.objects.exists()


@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_opening_a_conversation_that_does_not_exist_is_not_a_server_error_on_postgresql(reference_data):
    """Committed for real (autocommit, as in production): the read log's foreign key is checked at once."""
    staff = StaffFactory(is_superuser=True)
    TOTP.activate(staff, STAFF_TOTP_SECRET)
    client = Client(raise_request_exception=False)
    client.force_login(staff)
    response = client.get(reverse("admin:chat_conversation_change", args=[987654]))
    assert response.status_code == 302
    assert not StaffRead.objects.exists()


# --- The report queue -------------------------------------------------------------------------------------


def hidden_inputs(page: str) -> dict[str, str]:
    """The hidden fields of the change form (the actions inline's management form), as a browser posts them."""
    data = {}
    for tag in re.findall(r"<input\b[^>]*>", page):
        if 'type="hidden"' not in tag:
            continue
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and name.group(1) != "csrfmiddlewaretoken":
            data[html.unescape(name.group(1))] = html.unescape(value.group(1)) if value else ""
    return data


def act(client, report, action: str, note: str):
    page = client.get(report_url(report)).content.decode()
    return client.post(report_url(report), {**hidden_inputs(page), "action": action, "note": note})


@pytest.fixture
def report(booking):
    bad = send(booking, companion_of(booking), "Transfer langsung aja ke BCA 1234567890 ya")
    return services.report_send(
        booking=booking, reporter=booking.customer, category="contact", details="Minta transfer", message_id=bad.pk
    )


def open_reports(client) -> list[Report]:
    """The report queue as its work queue opens it: the open reports."""
    response = client.get(reverse("admin:chat_report_changelist"), {"status__exact": "open"})
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def queues(client) -> dict[str, int]:
    """The admin index's work queues: {the changelist they open: how many wait}."""
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return {queue.url.split("?")[0]: queue.count for queue in response.context["work_queues"]}


def test_the_work_queues_count_open_reports_and_flagged_conversations(client, admin_user, report):
    client.force_login(admin_user)
    counts = queues(client)
    assert counts[reverse("admin:chat_report_changelist")] == 1
    assert counts[reverse("admin:chat_conversation_changelist")] == 1
    assert report in open_reports(client)
    flagged = client.get(reverse("admin:chat_conversation_changelist"), {"flagged_at__isempty": "0"})
    assert report.conversation.booking.reference in flagged.content.decode()


def test_taking_a_report_into_review_is_recorded_and_keeps_it_in_the_queue(client, admin_user, report):
    client.force_login(admin_user)
    response = act(client, report, "review", "Saya cek percakapannya")
    assert response.status_code == 302
    action = ReportAction.objects.get(report=report)
    assert (action.kind, action.note, action.staff) == ("review", "Saya cek percakapannya", admin_user)
    assert Report.objects.get(pk=report.pk).status == Report.Status.IN_REVIEW
    assert User.objects.get(pk=report.reported_id).is_active
    assert report not in open_reports(client)
    page = client.get(report_url(report)).content.decode()
    assert "Saya cek percakapannya" in page  # the recorded actions are shown with the report


def test_a_warning_is_recorded_and_the_reported_person_stays_active(client, admin_user, report):
    client.force_login(admin_user)
    act(client, report, "review", "Dicek")
    response = act(client, report, "warn", "Peringatan pertama: jangan minta transfer di luar aplikasi")
    assert response.status_code == 302
    kinds = list(ReportAction.objects.filter(report=report).order_by("pk").values_list("kind", "staff"))
    assert kinds == [("review", admin_user.pk), ("warn", admin_user.pk)]
    assert Report.objects.get(pk=report.pk).status == Report.Status.CLOSED
    assert User.objects.get(pk=report.reported_id).is_active


@pytest.mark.parametrize("kind", ["suspend", "ban"])
def test_suspending_or_banning_is_recorded_and_deactivates_the_reported_person(client, admin_user, report, kind):
    client.force_login(admin_user)
    reporter = report.reporter
    response = act(client, report, kind, "Berulang kali minta bayar di luar aplikasi")
    assert response.status_code == 302
    action = ReportAction.objects.get(report=report)
    assert (action.kind, action.staff, action.note) == (kind, admin_user, "Berulang kali minta bayar di luar aplikasi")
    assert not User.objects.get(pk=report.reported_id).is_active
    assert User.objects.get(pk=reporter.pk).is_active  # only the reported person
    assert Report.objects.get(pk=report.pk).status == Report.Status.CLOSED


@pytest.mark.parametrize("kind", ["review", "warn", "suspend", "ban", "close"])
@pytest.mark.parametrize("note", ["", "   ", "\u200b\u200b"])
def test_an_action_without_a_note_is_refused_and_records_nothing(client, admin_user, report, kind, note):
    client.force_login(admin_user)
    response = act(client, report, kind, note)
    assert response.status_code == 200  # the form again, with the note's error
    assert response.context["adminform"].form.errors.get("note")
    assert not ReportAction.objects.exists()
    assert Report.objects.get(pk=report.pk).status == Report.Status.OPEN
    assert User.objects.get(pk=report.reported_id).is_active


def test_saving_without_an_action_records_nothing(client, admin_user, report):
    client.force_login(admin_user)
    response = act(client, report, "", "Catatan tanpa tindakan")
    assert response.status_code == 302
    assert not ReportAction.objects.exists()
    assert Report.objects.get(pk=report.pk).status == Report.Status.OPEN


def test_an_unknown_action_is_refused(client, admin_user, report):
    client.force_login(admin_user)
    response = act(client, report, "delete_everything", "Catatan")
    assert response.status_code == 200
    assert not ReportAction.objects.exists()


def test_reports_are_never_added_or_deleted_in_the_admin(client, admin_user, report):
    client.force_login(admin_user)
    assert client.get(reverse("admin:chat_report_add")).status_code == 403
    assert client.post(reverse("admin:chat_report_delete", args=[report.pk]), {"post": "yes"}).status_code == 403
    assert Report.objects.filter(pk=report.pk).exists()


def test_staff_who_may_only_view_reports_cannot_act_on_them(client, plain_staff, report):
    plain_staff.user_permissions.add(Permission.objects.get(codename="view_report"))
    client.force_login(plain_staff)
    assert client.get(report_url(report)).status_code == 200
    response = act(client, report, "ban", "Tidak berwenang")
    assert response.status_code == 403
    assert not ReportAction.objects.exists()
    assert User.objects.get(pk=report.reported_id).is_active
