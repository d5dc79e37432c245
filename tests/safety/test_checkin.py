"""The check-in code (safety/meeting.py): the customer sees it, the companion enters it to mark "met"; wrong
codes are limited to 5 per booking; only inside the meeting window; nobody else can use it."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import Delivery, Notification
from safety import meeting
from safety.meeting import MAX_CODE_ATTEMPTS, SafetyError
from safety.models import Meeting, SafetyEvent, SafetyEventKind
from tests.concurrency import at_once
from tests.conftest import is_postgresql
from tests.factories import CompanionFactory, CustomerFactory
from tests.safety.meeting_helpers import confirmed_booking

pytestmark = pytest.mark.django_db


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10000:04d}"


def detail(client, booking):
    return client.get(reverse("bookings:detail", args=[booking.reference]))


def test_a_confirmed_booking_shows_the_customer_a_4_digit_code_and_never_the_companion(client):
    booking = confirmed_booking()
    client.force_login(booking.customer)
    page = detail(client, booking).content.decode()
    code = Meeting.objects.get(booking=booking).code
    assert len(code) == 4 and code.isdigit()
    assert "data-checkin-code" in page and f">{code}</p>" in page
    client.force_login(booking.companion.user)
    page = detail(client, booking).content.decode()
    assert "data-checkin-form" in page and "data-checkin-code" not in page and f">{code}</p>" not in page


def test_the_code_is_encrypted_at_rest_and_in_no_notification_or_delivery(client):
    from django.db import connection

    booking = confirmed_booking()
    client.force_login(booking.customer)
    detail(client, booking)
    code = Meeting.objects.get(booking=booking).code
    with connection.cursor() as cursor:
        cursor.execute("SELECT code FROM safety_meeting WHERE booking_id = %s", [booking.pk])
        stored = cursor.fetchone()[0]
    assert stored != code and code not in stored
    texts = [str(row) for row in Notification.objects.values_list("context", flat=True)]
    texts += list(Delivery.objects.values_list("body", flat=True))
    assert not [text for text in texts if code in text]


def test_the_right_code_marks_met_once():
    booking = confirmed_booking()
    code = meeting.meeting_for(booking).code
    now = timezone.now()
    met = meeting.check_in(booking=booking, user=booking.companion.user, code=f" {code} ", now=now)
    assert met.met_at == now
    again = meeting.check_in(booking=booking, user=booking.companion.user, code=code, now=now + timedelta(minutes=1))
    assert again.met_at == now
    assert SafetyEvent.objects.filter(booking=booking, kind=SafetyEventKind.CHECKED_IN).count() == 1


def test_wrong_codes_count_down_and_lock_after_5_even_for_the_right_code():
    booking = confirmed_booking()
    code = meeting.meeting_for(booking).code
    companion = booking.companion.user
    for tried in range(1, MAX_CODE_ATTEMPTS + 1):
        with pytest.raises(SafetyError) as problem:
            meeting.check_in(booking=booking, user=companion, code=wrong(code))
        if tried < MAX_CODE_ATTEMPTS:
            assert str(MAX_CODE_ATTEMPTS - tried) in problem.value.message
    assert problem.value.message == meeting._locked_message()  # what to do: contact support, or SOS
    with pytest.raises(SafetyError):
        meeting.check_in(booking=booking, user=companion, code=code)
    row = Meeting.objects.get(booking=booking)
    assert row.code_attempts == MAX_CODE_ATTEMPTS and row.met_at is None
    assert SafetyEvent.objects.filter(booking=booking, kind=SafetyEventKind.WRONG_CODE).count() == MAX_CODE_ATTEMPTS


@pytest.mark.parametrize("garbage", ["", "12", "12345", "abcd", "١٢٣٤", "0" * 16, "\x00\x00\x00\x00"])
def test_garbage_codes_are_wrong_codes_never_errors(garbage):
    booking = confirmed_booking()
    with pytest.raises(SafetyError):
        meeting.check_in(booking=booking, user=booking.companion.user, code=garbage)
    assert Meeting.objects.get(booking=booking).met_at is None


def test_outside_the_window_the_code_is_refused_and_not_counted():
    start = timezone.now() + timedelta(days=2)
    booking = confirmed_booking(start.replace(minute=0, second=0, microsecond=0))
    code = meeting.meeting_for(booking).code
    companion = booking.companion.user
    too_early = booking.start - meeting.WINDOW_BEFORE - timedelta(minutes=1)
    too_late = booking.end + meeting.WINDOW_AFTER + timedelta(minutes=1)
    for moment in (too_early, too_late):
        with pytest.raises(SafetyError):
            meeting.check_in(booking=booking, user=companion, code=code, now=moment)
    assert Meeting.objects.get(booking=booking).code_attempts == 0
    opens = booking.start - meeting.WINDOW_BEFORE
    assert meeting.check_in(booking=booking, user=companion, code=code, now=opens).met_at == opens


def test_only_the_companion_enters_the_code():
    booking = confirmed_booking()
    code = meeting.meeting_for(booking).code
    for user in (booking.customer, CustomerFactory(), CompanionFactory()):
        with pytest.raises(SafetyError):
            meeting.check_in(booking=booking, user=user, code=code)
    assert Meeting.objects.get(booking=booking).met_at is None


def test_through_the_pages_wrong_then_right_then_both_end(client):
    booking = confirmed_booking()
    code = meeting.meeting_for(booking).code
    url = reverse("safety:check_in", args=[booking.reference])
    client.force_login(booking.companion.user)
    response = client.post(url, {"code": wrong(code)}, follow=True)
    assert "4" in response.content.decode()  # tries left
    assert Meeting.objects.get(booking=booking).code_attempts == 1
    assert code not in response.redirect_chain[-1][0]
    response = client.post(url, {"code": code})
    assert response.status_code == 302 and code not in response["Location"]
    assert Meeting.objects.get(booking=booking).met_at is not None
    client.post(reverse("safety:end_meeting", args=[booking.reference]))
    client.force_login(booking.customer)
    page = detail(client, booking).content.decode()
    assert f">{code}</p>" not in page  # met: the code is no longer shown
    client.post(reverse("safety:end_meeting", args=[booking.reference]))
    row = Meeting.objects.get(booking=booking)
    assert row.customer_ended_at and row.companion_ended_at
    assert SafetyEvent.objects.filter(booking=booking, kind=SafetyEventKind.ENDED).count() == 2


def test_ending_before_met_is_refused():
    booking = confirmed_booking()
    with pytest.raises(SafetyError):
        meeting.meeting_end(booking=booking, user=booking.customer)


def test_someone_else_gets_404_for_every_meeting_action(client):
    booking = confirmed_booking()
    code = meeting.meeting_for(booking).code
    for user in (CustomerFactory(), CompanionFactory()):
        client.force_login(user)
        for name in ("check_in", "end_meeting", "fine", "share", "sos"):
            assert client.post(reverse(f"safety:{name}", args=[booking.reference]), {"code": code}).status_code == 404
        assert client.get(reverse("safety:sos", args=[booking.reference])).status_code == 404
    assert Meeting.objects.get(booking=booking).met_at is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not is_postgresql(), reason="row races need PostgreSQL")
def test_many_wrong_codes_at_once_never_pass_the_limit():
    booking = confirmed_booking()
    code = meeting.meeting_for(booking).code
    companion = booking.companion.user

    def attempt():
        try:
            meeting.check_in(booking=booking, user=companion, code=wrong(code))
        except SafetyError:
            pass

    assert at_once(*[attempt for _ in range(8)]) == []
    assert Meeting.objects.get(booking=booking).code_attempts == MAX_CODE_ATTEMPTS
    assert SafetyEvent.objects.filter(booking=booking, kind=SafetyEventKind.WRONG_CODE).count() == MAX_CODE_ATTEMPTS


def test_safety_registers_the_booking_pages_card_and_timeline_steps():
    from bookings import hooks
    from safety.card import safety_card, safety_steps

    assert hooks.registered()["safety_card"] == (safety_card,)
    assert hooks.registered()["timeline_steps"] == (safety_steps,)


def test_the_booking_page_costs_the_same_queries_with_more_safety_steps(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from safety.contacts import share_with_contact
    from tests.safety.meeting_helpers import with_contact

    booking = confirmed_booking()
    url = reverse("bookings:detail", args=[booking.reference])
    client.force_login(booking.customer)
    client.get(url)  # the meeting row is made on the first view

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    before = count()
    companion = booking.companion.user
    code = meeting.meeting_for(booking).code
    with pytest.raises(SafetyError):
        meeting.check_in(booking=booking, user=companion, code=wrong(code))
    meeting.check_in(booking=booking, user=companion, code=code)
    with_contact(booking.customer)
    share_with_contact(booking=booking, user=booking.customer)
    share_with_contact(booking=booking, user=booking.customer)
    assert count() == before
