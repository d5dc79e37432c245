"""Deleting an account (issue 15): refused with each blocker (the page names it), deactivated at once
(hidden, requests refused, sessions ended), asked twice → one outcome, cancelled by logging in during the
grace period (a suspended person still refused), and the race against a new booking request."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import User
from bookings import services as booking_services
from bookings.errors import BookingError
from bookings.models import Booking, BookingStatus
from chat.models import Report as ChatReport
from companions import selectors as companion_selectors
from companions.services import photo_add
from core import personal_data
from payments.models import Payout, Refund
from privacy import deletion
from privacy.models import DeletionRequest, DeletionStatus
from safety.models import ModerationAction, ModerationKind, PersonReport, ReportCategory
from tests.bookings.helpers import NOW, make_companion, new_customer, request
from tests.concurrency import at_once
from tests.conftest import requires_postgresql
from tests.factories import TEST_PASSWORD, CustomerFactory, StaffFactory
from tests.payments.helpers import paid

pytestmark = pytest.mark.django_db


def reauthenticated(client: Client, user: User) -> Client:
    client.force_login(user)
    client.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})
    return client


def jpeg_upload():
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 80, 40)).save(buffer, "JPEG")
    return SimpleUploadedFile("photo.jpg", buffer.getvalue(), content_type="image/jpeg")


def blockers_en(user) -> list[str]:
    with translation.override("en"):
        return deletion.deletion_blockers(user)


# --- Refused while something must be finished -------------------------------------------------------------


def test_a_requested_booking_blocks_both_parties_and_is_named_exactly():
    profile = make_companion()
    customer = new_customer()
    booking = request(customer, profile)
    expected = f"Booking {booking.reference} on Thu, 26 Nov 2026 is waiting for an answer: withdraw or answer it first."
    assert blockers_en(customer) == [expected]
    assert blockers_en(profile.user) == [expected]


def test_a_confirmed_booking_blocks_and_the_page_says_what_to_finish(client):
    booking, _payment = paid()
    client = reauthenticated(client, booking.customer)
    with translation.override("en"):
        response = client.get(reverse("privacy:delete"), HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert response.status_code == 200
    assert booking.reference in page
    # The page in Indonesian (the default) names the booking and offers no button.
    response = client.get(reverse("privacy:delete"))
    page = response.content.decode()
    assert booking.reference in page
    assert 'name="confirm"' not in page
    # A POST anyway deletes nothing.
    response = client.post(reverse("privacy:delete"), {"confirm": "on"})
    assert response.status_code == 200
    assert not DeletionRequest.objects.exists()
    assert User.objects.get(pk=booking.customer_id).is_active
    with translation.override("en"):
        assert deletion.deletion_blockers(booking.customer) == [
            f"Booking {booking.reference} on Thu, 26 Nov 2026 is confirmed: finish it or cancel it first."
        ]


def test_a_disputed_booking_a_refund_and_a_payout_block():
    booking, _payment = paid()
    Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.DISPUTED)
    found = blockers_en(booking.customer)
    assert found == [
        f"Booking {booking.reference} on Thu, 26 Nov 2026 is disputed: wait until our team has resolved it."
    ]
    # Resolved with a refund still on its way: the refund blocks.
    Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.CANCELLED)
    Refund.objects.create(
        booking=booking,
        payment=_payment,
        amount=120_000,
        refund_key="test-refund",
        reason="cancelled",
        method=Refund.Method.MANUAL,
        status=Refund.Status.NEEDS_DETAILS,
    )
    assert blockers_en(booking.customer) == [
        f"The refund of Rp\xa0120,000 for booking {booking.reference} needs your bank details: give them first."
    ]
    Refund.objects.update(status=Refund.Status.MANUAL_DONE)
    assert blockers_en(booking.customer) == []
    # The companion: a payout requested and not paid yet.
    profile = booking.companion
    Payout.objects.create(profile=profile, amount=50_000, bank="bca", account_number="1234567890", holder_name="X")
    found = blockers_en(profile.user)
    assert any("Your payout of Rp\xa050,000" in line and "not paid yet" in line for line in found), found


def test_earnings_not_paid_out_block_the_companion():
    booking, _payment = paid()
    booking_services.bookings_sweep(now=booking.complete_after)
    assert blockers_en(booking.companion.user) == [
        "You have Rp\xa0240,000 of earnings not paid out yet: request a payout first."
    ]
    assert blockers_en(booking.customer) == []


def test_open_reports_block_the_reporter_and_the_reported_person():
    reporter, reported = new_customer(), make_companion().user
    report = PersonReport.objects.create(
        reporter=reporter, reported=reported, category=ReportCategory.HARASSMENT, description="Kata-kata kasar."
    )
    assert len(blockers_en(reporter)) == 1 and "still being reviewed" in blockers_en(reporter)[0]
    assert blockers_en(reported) == [
        "A report involving your account is being reviewed by our team: you can delete your account once it is closed."
    ]
    PersonReport.objects.filter(pk=report.pk).update(status="dismissed")
    assert blockers_en(reporter) == [] and blockers_en(reported) == []


def test_an_unhandled_chat_report_blocks():
    profile = make_companion()
    customer = new_customer()
    booking = request(customer, profile)
    Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.DECLINED)
    ChatReport.objects.create(
        conversation=booking.conversation, reporter=customer, reported=profile.user, category="harassment"
    )
    assert len(blockers_en(customer)) == 1
    assert len(blockers_en(profile.user)) == 1
    ChatReport.objects.update(status=ChatReport.Status.CLOSED)
    assert blockers_en(customer) == []


def test_a_registered_blocker_is_asked_too():
    customer = new_customer()

    def blocker(user):
        return ["Something else first."] if user.pk == customer.pk else []

    personal_data.register_blocker(blocker)
    try:
        assert blockers_en(customer) == ["Something else first."]
        with pytest.raises(deletion.DeletionError) as raised:
            deletion.deletion_request(customer, NOW)
        assert raised.value.blockers == ["Something else first."]
    finally:
        personal_data._registry.blockers.remove(blocker)
    assert not DeletionRequest.objects.exists()


# --- Deactivated at once ---------------------------------------------------------------------------------


def test_the_page_deletes_logs_out_and_says_when_and_how_to_cancel(client, django_capture_on_commit_callbacks):
    customer = CustomerFactory(email="sinta@example.id")
    client = reauthenticated(client, customer)
    response = client.get(reverse("privacy:delete"))
    assert response.status_code == 200 and 'name="confirm"' in response.content.decode()
    # Unticked: refused, nothing happens.
    response = client.post(reverse("privacy:delete"), {})
    assert response.status_code == 200
    assert not DeletionRequest.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("privacy:delete"), {"confirm": "on"})
    assert response.status_code == 302 and response["Location"] == reverse("privacy:deleted")
    scheduled = DeletionRequest.objects.get(user=customer)
    assert scheduled.status == DeletionStatus.SCHEDULED
    assert scheduled.purge_after - scheduled.requested_at == timedelta(days=14)
    customer.refresh_from_db()
    assert not customer.is_active
    page = client.get(reverse("privacy:deleted")).content.decode()
    assert str(scheduled.purge_after.astimezone(timezone.get_fixed_timezone(7 * 60)).year) in page
    assert reverse("account_login") in page
    # Logged out: the centre asks to log in.
    assert client.get(reverse("privacy:centre")).status_code == 302
    # The receipt: the date and how to cancel.
    receipt = [message for message in mail.outbox if message.to == ["sinta@example.id"]]
    assert len(receipt) == 1
    assert reverse("account_login") in receipt[0].body


def test_the_delete_page_needs_a_fresh_password(client, customer):
    client.force_login(customer)
    response = client.get(reverse("privacy:delete"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_reauthenticate"))
    response = client.post(reverse("privacy:delete"), {"confirm": "on"})
    assert response.status_code == 302
    assert not DeletionRequest.objects.exists()


def test_every_session_ends_and_an_old_session_logs_nobody_in(django_capture_on_commit_callbacks):
    customer = new_customer()
    phone, laptop = Client(), Client()
    phone.force_login(customer)
    laptop.force_login(customer)
    assert laptop.get(reverse("accounts:settings")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        deletion.deletion_request(customer, timezone.now())
    assert not [s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(customer.pk)]
    assert laptop.get(reverse("accounts:settings")).status_code == 302
    assert phone.get(reverse("accounts:settings")).status_code == 302


def test_a_deleted_companion_leaves_search_and_new_requests_are_refused():
    profile = make_companion()
    assert companion_selectors.listed_profiles().filter(pk=profile.pk).exists()
    deletion.deletion_request(profile.user, NOW)
    profile.refresh_from_db()
    assert not profile.is_listed
    assert not companion_selectors.listed_profiles().filter(pk=profile.pk).exists()
    with pytest.raises(BookingError):
        request(new_customer(), profile)
    assert not Booking.objects.exists()


def test_a_deleted_customer_cannot_request():
    profile = make_companion()
    customer = new_customer()
    deletion.deletion_request(customer, NOW)
    with pytest.raises(BookingError):
        request(customer, profile)
    assert not Booking.objects.exists()


def test_asked_twice_is_one_outcome():
    customer = new_customer()
    first = deletion.deletion_request(customer, NOW)
    second = deletion.deletion_request(customer, NOW + timedelta(hours=1))
    assert first.pk == second.pk
    assert DeletionRequest.objects.count() == 1
    assert DeletionRequest.objects.get().purge_after == NOW + timedelta(days=14)


# --- Cancelled by logging in -------------------------------------------------------------------------------


def test_logging_in_during_the_grace_period_cancels_the_deletion():
    profile = make_companion()
    photo_add(profile=profile, upload=jpeg_upload())
    user = profile.user
    deletion.deletion_request(user, timezone.now())
    profile.refresh_from_db()
    assert not profile.is_listed
    client = Client()
    response = client.post(reverse("account_login"), {"login": user.email, "password": TEST_PASSWORD}, follow=True)
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.is_active
    scheduled = DeletionRequest.objects.get(user=user)
    assert scheduled.status == DeletionStatus.CANCELLED and scheduled.cancelled_at is not None
    profile.refresh_from_db()
    assert profile.is_listed
    assert "Penghapusan akunmu dibatalkan" in response.content.decode()
    assert client.get(reverse("accounts:settings")).status_code == 200
    # Nothing left to purge.
    assert deletion.purge_due(timezone.now() + timedelta(days=30)).purged == 0


def test_a_wrong_password_cancels_nothing():
    customer = new_customer()
    deletion.deletion_request(customer, timezone.now())
    Client().post(reverse("account_login"), {"login": customer.email, "password": "wrong-password-123"})
    customer.refresh_from_db()
    assert not customer.is_active
    assert DeletionRequest.objects.get().status == DeletionStatus.SCHEDULED


def test_a_suspended_person_cannot_log_in_and_one_suspended_after_asking_neither():
    banned = new_customer()
    User.objects.filter(pk=banned.pk).update(is_active=False)
    client = Client()
    client.post(reverse("account_login"), {"login": banned.email, "password": TEST_PASSWORD})
    assert client.get(reverse("accounts:settings")).status_code == 302
    banned.refresh_from_db()
    assert not banned.is_active

    customer = new_customer()
    deletion.deletion_request(customer, timezone.now() - timedelta(days=1))
    ModerationAction.objects.create(
        user=customer, kind=ModerationKind.BAN, reason="Ancaman.", staff=StaffFactory(), created_at=timezone.now()
    )
    client = Client()
    client.post(reverse("account_login"), {"login": customer.email, "password": TEST_PASSWORD})
    assert client.get(reverse("accounts:settings")).status_code == 302
    customer.refresh_from_db()
    assert not customer.is_active
    assert DeletionRequest.objects.get(user=customer).status == DeletionStatus.SCHEDULED


def test_two_factor_still_applies_to_the_login_that_cancels(staff):
    """`staff` has TOTP: the password alone leaves the deletion scheduled."""
    deletion.deletion_request(staff, timezone.now())
    client = Client()
    response = client.post(reverse("account_login"), {"login": staff.email, "password": TEST_PASSWORD})
    assert response.status_code == 302 and "2fa" in response["Location"]
    staff.refresh_from_db()
    assert not staff.is_active
    assert DeletionRequest.objects.get(user=staff).status == DeletionStatus.SCHEDULED


# --- The race against a new booking request (PostgreSQL) -------------------------------------------------


@requires_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("side", ["companion", "customer"])
def test_a_deletion_raced_with_a_booking_request_has_one_winner(side):
    for _round in range(5):
        profile = make_companion()
        customer = new_customer()
        person = profile.user if side == "companion" else customer
        outcomes = {}

        def delete(person=person, outcomes=outcomes):
            try:
                deletion.deletion_request(User.objects.get(pk=person.pk), NOW)
                outcomes["deleted"] = True
            except deletion.DeletionError:
                outcomes["deleted"] = False

        def book(customer=customer, profile=profile, outcomes=outcomes):
            try:
                request(User.objects.get(pk=customer.pk), profile)
                outcomes["booked"] = True
            except BookingError:
                outcomes["booked"] = False

        errors = at_once(delete, book)
        assert errors == []
        deleted = DeletionRequest.objects.filter(user=person, status=DeletionStatus.SCHEDULED).exists()
        booked = Booking.objects.filter(customer=customer, companion=profile).exists()
        assert outcomes == {"deleted": deleted, "booked": booked}
        assert deleted != booked, (side, outcomes)


@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_deletions_at_the_same_moment_make_one_request():
    customer = new_customer()
    results = []

    def delete():
        results.append(deletion.deletion_request(User.objects.get(pk=customer.pk), NOW).pk)

    assert at_once(delete, delete) == []
    assert len(results) == 2 and results[0] == results[1]
    assert DeletionRequest.objects.filter(user=customer).count() == 1


def test_a_forgotten_password_during_the_grace_period_can_be_reset_and_the_login_cancels(
    django_capture_on_commit_callbacks,
):
    """allauth's reset looks up active accounts only; a scheduled deletion must not lock a person out of
    cancelling it. A banned person is still not found (no email, same page)."""
    import re

    customer = new_customer()
    banned = new_customer()
    deletion.deletion_request(customer, timezone.now())
    User.objects.filter(pk=banned.pk).update(is_active=False)
    mail.outbox.clear()

    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        for person in (customer, banned):
            response = client.post(reverse("account_reset_password"), {"email": person.email})
            assert response.status_code == 302
    key_link = re.compile(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)")
    links = {message.to[0]: key_link.search(message.body) for message in mail.outbox}
    # The banned address gets allauth's "no account here" email (no enumeration), never a reset link.
    assert links[banned.email] is None if banned.email in links else True
    link = links[customer.email].group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    new_password = "Ganti-kata-sandi-2026!"
    client.post(form_page.redirect_chain[-1][0] if form_page.redirect_chain else link,
                {"password1": new_password, "password2": new_password})  # fmt: skip

    response = Client().post(reverse("account_login"), {"login": customer.email, "password": new_password}, follow=True)
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.is_active
    assert DeletionRequest.objects.get(user=customer).status == DeletionStatus.CANCELLED
