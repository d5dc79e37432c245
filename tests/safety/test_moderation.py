"""Staff decisions about a reported person (safety/moderation.py) and the admin that takes them
(safety/report_admin.py): each action recorded with staff and reason; suspension deactivates the account,
ends its sessions, hides a companion from search and stops every future booking with full refunds to the
customers (the ledger still balancing); ban needs a superuser to undo; reinstate lists again; the reporter
hears the outcome in general terms; two staff suspending at once cancel once."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.models import User
from bookings.models import BookingEvent, BookingStatus
from companions.models import CompanionPhoto, CompanionProfile
from notifications.models import Delivery, Notification
from payments import ledger
from payments.models import Refund
from safety import moderation, reports
from safety.models import ModerationAction, ModerationKind, PersonReport, ReportStatus, SafetyAlert
from tests.bookings.helpers import NOW, START, make_companion, new_customer, request
from tests.concurrency import at_once
from tests.conftest import requires_postgresql
from tests.factories import StaffFactory
from tests.payments.helpers import accepted, paid

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
LATER = NOW + 2 * HOUR  # the decisions' clock: every booking below still lies ahead


def reported(person, *, reporter=None, category="harassment", booking=None) -> PersonReport:
    return reports.report_send(
        reporter=reporter or new_customer(),
        reported=person,
        category=category,
        description="Dia mengirim pesan kasar.",
        booking=booking,
        now=NOW + HOUR,
    )


def moderator(**fields) -> User:
    """Staff with the safety team's permission, not a superuser."""
    user = StaffFactory(is_superuser=False, **fields)
    user.user_permissions.add(Permission.objects.get(codename="add_moderationaction", content_type__app_label="safety"))
    return User.objects.get(pk=user.pk)  # a fresh object: permissions are cached per instance


def closed_and_told(report: PersonReport, staff: User, *, actioned: bool) -> None:
    report.refresh_from_db()
    assert report.status == (ReportStatus.ACTIONED if actioned else ReportStatus.DISMISSED)
    assert report.closed_at is not None
    alert = SafetyAlert.objects.get(report=report)
    assert alert.handled_at is not None and alert.handled_by == staff
    told = Notification.objects.get(recipient=report.reporter, event__in=("report_actioned", "report_closed"))
    assert told.event == ("report_actioned" if actioned else "report_closed")
    assert told.context == {}  # general terms: nothing about what was done


# --- Warn and dismiss -------------------------------------------------------------------------------------


def test_warn_tells_the_person_in_general_terms_and_records_who_and_why():
    profile = make_companion()
    report = reported(profile.user)
    staff = moderator()
    action = moderation.warn(
        user=profile.user, staff=staff, reason="Pesan kasar ke pelanggan", report=report, now=LATER
    )
    assert (action.kind, action.staff, action.reason, action.report) == (
        ModerationKind.WARN,
        staff,
        "Pesan kasar ke pelanggan",
        report,
    )
    warning = Notification.objects.get(recipient=profile.user, event="moderation_warning")
    assert warning.context == {}
    assert Delivery.objects.filter(notification=warning, channel="email").exists()
    profile.user.refresh_from_db()
    assert profile.user.is_active  # a warning changes nothing else
    closed_and_told(report, staff, actioned=True)


def test_dismiss_closes_without_action():
    report = reported(make_companion().user)
    staff = moderator()
    moderation.dismiss(report=report, staff=staff, reason="Tidak ada bukti", now=LATER)
    closed_and_told(report, staff, actioned=False)
    assert ModerationAction.objects.get().kind == ModerationKind.DISMISS
    report.reported.refresh_from_db()
    assert report.reported.is_active


def test_a_decision_needs_a_reason_the_permission_and_an_open_report():
    report = reported(make_companion().user)
    with pytest.raises(moderation.ModerationError):
        moderation.decide(kind="warn", report=report, staff=moderator(), reason="  \u200b ")
    with pytest.raises(moderation.ModerationError):
        moderation.decide(kind="warn", report=report, staff=StaffFactory(is_superuser=False), reason="Alasan")
    with pytest.raises(moderation.ModerationError):
        moderation.decide(kind="explode", report=report, staff=moderator(), reason="Alasan")
    assert ModerationAction.objects.count() == 0
    moderation.decide(kind="dismiss", report=report, staff=moderator(), reason="Alasan")
    with pytest.raises(moderation.ModerationError):
        moderation.decide(kind="suspend", report=report, staff=moderator(), reason="Lagi")  # already decided
    assert ModerationAction.objects.count() == 1


# --- Suspend and ban ---------------------------------------------------------------------------------------


def test_suspending_a_companion_stops_every_future_booking_with_full_refunds():
    profile = make_companion()
    confirmed, _payment = paid(profile=profile, start=START)
    awaiting = accepted(profile=profile, start=START + DAY)
    requested = request(new_customer(), profile, START + 2 * DAY)
    report = reported(profile.user, reporter=confirmed.customer, booking=confirmed)
    staff = moderator()
    moderation.suspend(user=profile.user, staff=staff, reason="Ancaman ke pelanggan", report=report, now=LATER)

    for booking in (confirmed, awaiting, requested):
        booking.refresh_from_db()
    assert (confirmed.status, awaiting.status, requested.status) == (
        BookingStatus.CANCELLED,
        BookingStatus.CANCELLED,
        BookingStatus.DECLINED,
    )
    assert confirmed.refund_amount == confirmed.total and confirmed.settled_companion_earnings == 0
    assert confirmed.cancelled_by == "staff" and confirmed.cancelled_for_safety
    assert Refund.objects.get(booking=confirmed).amount == confirmed.total
    assert ledger.check().balanced
    assert ledger.balance(ledger.escrow_account(confirmed.pk)) == 0
    # Each customer told; the suspended companion's cancellations never count against anyone.
    for booking in (confirmed, awaiting, requested):
        assert Notification.objects.filter(recipient=booking.customer, event="booking_stopped_customer").exists()
    assert BookingEvent.objects.filter(booking=confirmed, to_status=BookingStatus.CANCELLED, actor=staff).exists()

    profile.user.refresh_from_db()
    profile.refresh_from_db()
    assert not profile.user.is_active and not profile.is_listed
    assert moderation.standing(profile.user.pk) == ModerationKind.SUSPEND and moderation.restricted(profile.user)
    closed_and_told(report, staff, actioned=True)


def test_suspending_a_customer_cancels_their_bookings_refunds_them_in_full_and_tells_the_companions():
    customer = new_customer()
    confirmed, _payment = paid(customer=customer, start=START)
    pending = request(customer, make_companion(name="Bima"), START + DAY)
    staff = moderator()
    moderation.suspend(user=customer, staff=staff, reason="Penipuan", report=reported(customer), now=LATER)
    confirmed.refresh_from_db()
    pending.refresh_from_db()
    assert (confirmed.status, pending.status) == (BookingStatus.CANCELLED, BookingStatus.WITHDRAWN)
    assert confirmed.refund_amount == confirmed.total
    assert ledger.check().balanced
    for booking in (confirmed, pending):
        assert Notification.objects.filter(recipient=booking.companion.user, event="booking_stopped_companion").exists()


def test_bookings_already_started_or_closed_are_left_to_staff():
    profile = make_companion()
    started, _payment = paid(profile=profile, start=START)
    moderation.suspend(user=profile.user, staff=moderator(), reason="x", now=START + HOUR)
    started.refresh_from_db()
    assert started.status == BookingStatus.CONFIRMED  # under way: a dispute decides it


def test_a_suspended_person_cannot_log_in_and_their_sessions_end(client, django_capture_on_commit_callbacks):
    customer = new_customer()
    from tests.factories import TEST_PASSWORD

    client.force_login(customer)
    assert client.get(reverse("accounts:settings")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        moderation.suspend(user=customer, staff=moderator(), reason="Ancaman")
    # The open session ended: the next request is anonymous.
    assert client.get(reverse("accounts:settings")).status_code == 302
    answer = client.post(reverse("account_login"), {"login": customer.email, "password": TEST_PASSWORD}, follow=True)
    assert answer.redirect_chain and answer.redirect_chain[-1][0] == reverse("account_inactive")
    assert "_auth_user_id" not in client.session


def test_a_suspended_companion_is_gone_from_search_and_their_page(client):
    profile = make_companion()
    search = reverse("companions:search") + "?city=jakarta"
    page = reverse("companions:profile", args=[profile.slug])
    assert page in client.get(search).content.decode()  # cached before the suspension
    assert client.get(page).status_code == 200
    moderation.suspend(user=profile.user, staff=moderator(), reason="Ancaman")
    assert page not in client.get(search).content.decode()
    assert client.get(page).status_code == 404
    assert client.get(reverse("safety:report_profile", args=[profile.slug])).status_code in (302, 404)


def test_ban_is_like_suspend_and_only_a_superuser_reinstates():
    profile = make_companion()
    future, _payment = paid(profile=profile, start=START)
    staff = moderator()
    moderation.ban(user=profile.user, staff=staff, reason="Kekerasan", report=reported(profile.user), now=LATER)
    future.refresh_from_db()
    assert future.status == BookingStatus.CANCELLED and future.refund_amount == future.total
    assert moderation.standing(profile.user.pk) == ModerationKind.BAN
    with pytest.raises(moderation.ModerationError):
        moderation.suspend(user=profile.user, staff=staff, reason="turun jadi suspend")
    with pytest.raises(moderation.ModerationError):
        moderation.reinstate(user=profile.user, staff=staff, reason="Banding diterima")
    superuser = StaffFactory(is_superuser=True)
    moderation.reinstate(user=profile.user, staff=superuser, reason="Banding diterima")
    profile.user.refresh_from_db()
    assert profile.user.is_active and moderation.standing(profile.user.pk) is None


def test_reinstating_lists_the_companion_again_but_never_an_erased_account(client):
    profile = make_companion(listed_at=NOW - timedelta(days=30))  # listed long ago (not new: early access)
    # A complete profile (the test companions have no photo, which relisting checks again).
    CompanionPhoto.objects.create(
        profile=profile, image="companions/test.jpg", thumbnail="companions/test.jpg", width=800, height=800
    )
    staff = moderator()
    moderation.suspend(user=profile.user, staff=staff, reason="Sementara")
    moderation.reinstate(user=profile.user, staff=staff, reason="Sudah diklarifikasi")
    profile.refresh_from_db()
    assert profile.is_listed
    assert client.get(reverse("companions:profile", args=[profile.slug])).status_code == 200
    assert [action.kind for action in ModerationAction.objects.order_by("created_at", "pk")] == ["suspend", "reinstate"]
    with pytest.raises(moderation.ModerationError):
        moderation.reinstate(user=profile.user, staff=staff, reason="Tidak sedang ditangguhkan")

    erased = new_customer()
    moderation.suspend(user=erased, staff=staff, reason="Ancaman")
    User.objects.filter(pk=erased.pk).update(erased_at=NOW)
    with pytest.raises(moderation.ModerationError):
        moderation.reinstate(user=erased, staff=staff, reason="x")
    erased.refresh_from_db()
    assert not erased.is_active


# --- Two staff at once -------------------------------------------------------------------------------------


@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_staff_suspending_at_once_cancel_and_refund_once(reference_data):
    profile = make_companion()
    booking, _payment = paid(profile=profile, start=START)
    first, second = reported(profile.user), reported(profile.user)
    staff_one, staff_two = moderator(), moderator()
    errors = at_once(
        lambda: moderation.suspend(user=profile.user, staff=staff_one, reason="Satu", report=first, now=LATER),
        lambda: moderation.suspend(user=profile.user, staff=staff_two, reason="Dua", report=second, now=LATER),
    )
    assert errors == []
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    assert BookingEvent.objects.filter(booking=booking, to_status=BookingStatus.CANCELLED).count() == 1
    assert Refund.objects.filter(booking=booking).count() == 1
    assert ModerationAction.objects.filter(kind=ModerationKind.SUSPEND).count() == 2
    assert ledger.check().balanced


# --- The admin -----------------------------------------------------------------------------------------------


def test_the_admin_report_page_shows_the_persons_history_and_each_decision_asks_for_a_reason(client, staff):
    profile = make_companion()
    older = reported(profile.user, category="no_show")
    moderation.warn(user=profile.user, staff=staff, reason="Peringatan pertama", report=older)
    report = reported(profile.user, category="safety")
    client.force_login(staff)
    assert client.get(reverse("admin:safety_personreport_changelist")).status_code == 200
    assert client.get(reverse("admin:safety_safetyalert_changelist")).status_code == 200
    assert client.get(reverse("admin:safety_moderationaction_changelist")).status_code == 200
    page = client.get(reverse("admin:safety_personreport_change", args=[report.pk])).content.decode()
    assert reverse("admin:safety_personreport_change", args=[older.pk]) in page  # the other report
    assert "Peringatan pertama" in page  # the decision already taken
    decide = reverse("admin:safety_personreport_decide", args=[report.pk, "suspend"])
    assert decide in page
    assert client.get(decide).status_code == 200
    refused = client.post(decide, {"reason": ""})
    assert refused.status_code == 422 and ModerationAction.objects.count() == 1
    done = client.post(decide, {"reason": "Mengancam pelanggan"})
    assert done.status_code == 302
    action = ModerationAction.objects.get(kind=ModerationKind.SUSPEND)
    assert (action.staff, action.reason, action.report) == (staff, "Mengancam pelanggan", report)
    assert client.get(reverse("admin:safety_personreport_decide", args=[report.pk, "nuke"])).status_code == 404
    assert client.get(reverse("admin:safety_personreport_decide", args=[999999, "warn"])).status_code == 404


def test_staff_without_the_safety_permission_cannot_decide(client):
    from allauth.mfa.totp.internal.auth import TOTP

    from tests.conftest import STAFF_TOTP_SECRET

    report = reported(make_companion().user)
    plain = StaffFactory(is_superuser=False)
    plain.user_permissions.add(*Permission.objects.filter(codename__in=("view_personreport",)))
    TOTP.activate(plain, STAFF_TOTP_SECRET)
    client.force_login(plain)
    decide = reverse("admin:safety_personreport_decide", args=[report.pk, "ban"])
    assert client.get(decide).status_code == 403
    assert client.post(decide, {"reason": "x"}).status_code == 403
    assert ModerationAction.objects.count() == 0
    assert CompanionProfile.objects.get(user=report.reported).is_listed


def test_every_message_of_reports_and_decisions_renders_in_both_languages():
    from notifications.messages import render

    booking, _payment = paid()
    context = {"reference": booking.reference}
    for event in ("report_received", "report_actioned", "report_closed", "moderation_warning"):
        for language in ("id", "en"):
            assert render(event, {}, language=language, zone="Asia/Jakarta").body
    for event in ("booking_stopped_customer", "booking_stopped_companion"):
        for language in ("id", "en"):
            rendered = render(event, context, language=language, zone="Asia/Jakarta")
            assert booking.reference in rendered.body and rendered.path.endswith(f"/bookings/{booking.reference}/")


@pytest.mark.parametrize("reason", ["", "   ", "x" * 2001, "\x00\u200b"])
def test_a_hostile_or_empty_reason_is_refused_on_the_decision_page(client, staff, reason):
    report = reported(make_companion().user)
    client.force_login(staff)
    answer = client.post(reverse("admin:safety_personreport_decide", args=[report.pk, "ban"]), {"reason": reason})
    assert answer.status_code == 422
    assert ModerationAction.objects.count() == 0
    report.reported.refresh_from_db()
    assert report.reported.is_active


def test_a_reason_written_as_html_is_shown_as_text(client, staff):
    report = reported(make_companion().user)
    client.force_login(staff)
    decide = reverse("admin:safety_personreport_decide", args=[report.pk, "warn"])
    client.post(decide, {"reason": "<img src=x onerror=alert(1)> kasar"})
    page = client.get(reverse("admin:safety_personreport_change", args=[report.pk])).content.decode()
    assert "<img src=x onerror=alert(1)>" not in page and "&lt;img src=x onerror=alert(1)&gt; kasar" in page
