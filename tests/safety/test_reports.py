"""Reporting a person (safety/reports.py, safety/report_views.py): from a listed companion's profile and from
a booking; categories and the safety queue; 10 reports a day; only a person the reporter can see; hostile
input and escaping; stopping a booking for safety (full refund, never against the reporter's reliability)."""

from datetime import timedelta

import pytest
from django.urls import reverse

from bookings import facts, levels, reliability
from bookings import services as booking_services
from bookings.models import BookingStatus
from notifications.models import Notification
from payments import ledger
from payments.models import Refund
from safety import reports
from safety.models import AlertKind, PersonReport, ReportCategory, SafetyAlert
from tests.bookings.helpers import NOW, START, make_companion, new_customer, request
from tests.concurrency import at_once
from tests.conftest import requires_postgresql
from tests.factories import CompanionFactory, CustomerFactory
from tests.payments.helpers import paid
from tests.safety.helpers import booking_on_the_real_clock

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


def report_form(**overrides) -> dict:
    return {
        "category": "harassment",
        "description": "Dia terus mengirim pesan kasar setelah saya menolak.",
        **overrides,
    }


# --- From a profile --------------------------------------------------------------------------------------


def test_a_customer_reports_a_listed_companion_from_their_profile(client):
    profile = make_companion()
    customer = new_customer()
    client.force_login(customer)
    url = reverse("safety:report_profile", args=[profile.slug])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="stop_booking"' not in page.content.decode()  # no booking here: nothing to cancel
    answer = client.post(url, report_form())
    assert answer.status_code == 302 and answer["Location"] == reverse("companions:profile", args=[profile.slug])
    report = PersonReport.objects.get()
    assert (report.reporter, report.reported, report.booking, report.category) == (
        customer,
        profile.user,
        None,
        ReportCategory.HARASSMENT,
    )
    alert = SafetyAlert.objects.get()
    assert (alert.kind, alert.priority, alert.report, alert.handled_at) == (AlertKind.REPORT, 2, report, None)
    # The reporter's confirmation, in the app (and the flash on the page they return to).
    assert Notification.objects.filter(recipient=customer, event="report_received").count() == 1
    assert "Terima kasih" in client.get(answer["Location"]).content.decode()


def test_the_profile_links_to_the_report_page(client):
    profile = make_companion()
    client.force_login(new_customer())
    page = client.get(reverse("companions:profile", args=[profile.slug])).content.decode()
    assert reverse("safety:report_profile", args=[profile.slug]) in page


@pytest.mark.parametrize(
    ("category", "priority"),
    [("safety", 1), ("sexual", 1), ("harassment", 2), ("no_show", 2), ("fraud", 2), ("other", 2)],
)
def test_every_category_lands_in_the_queue_with_its_priority(category, priority):
    report = reports.report_send(
        reporter=new_customer(), reported=CompanionFactory(), category=category, description="Sesuatu terjadi."
    )
    assert report.category == category
    assert SafetyAlert.objects.get(report=report).priority == priority


def test_ten_reports_a_day_then_a_clear_refusal_and_the_next_day_again(client):
    customer = new_customer()
    profiles = [make_companion(name=f"Teman{number}") for number in range(11)]
    client.force_login(customer)
    for profile in profiles[:10]:
        assert client.post(reverse("safety:report_profile", args=[profile.slug]), report_form()).status_code == 302
    refused = client.post(reverse("safety:report_profile", args=[profiles[10].slug]), report_form())
    assert refused.status_code == 422
    assert "10 laporan" in refused.content.decode()
    assert "Dia terus mengirim pesan kasar" in refused.content.decode()  # the form keeps what was typed
    assert PersonReport.objects.count() == 10 and SafetyAlert.objects.count() == 10
    # The limit is a rolling day.
    later = PersonReport.objects.order_by("created_at").first().created_at + timedelta(days=1, seconds=1)
    reports.report_send(reporter=customer, reported=profiles[10].user, category="other", description="x", now=later)
    assert PersonReport.objects.count() == 11


def test_nobody_reports_themselves_or_a_person_they_cannot_see(client):
    profile = make_companion()
    client.force_login(profile.user)
    assert client.get(reverse("safety:report_profile", args=[profile.slug])).status_code == 404
    assert client.post(reverse("safety:report_profile", args=[profile.slug]), report_form()).status_code == 404
    unlisted = make_companion(name="Tersembunyi")
    type(unlisted).objects.filter(pk=unlisted.pk).update(is_listed=False)
    client.force_login(new_customer())
    assert client.get(reverse("safety:report_profile", args=[unlisted.slug])).status_code == 404
    assert client.get(reverse("safety:report_profile", args=["tidak-ada"])).status_code == 404
    # Someone else's booking: 404 for a stranger (and for its companion's other customers).
    booking = booking_on_the_real_clock(pay=False)
    for stranger in (CustomerFactory(), CompanionFactory()):
        client.force_login(stranger)
        url = reverse("safety:report_booking", args=[booking.reference])
        assert client.get(url).status_code == 404
        assert client.post(url, report_form()).status_code == 404
    assert PersonReport.objects.count() == 0
    with pytest.raises(reports.ReportError):
        reports.report_send(reporter=profile.user, reported=profile.user, category="other", description="x")


def test_anonymous_visitors_are_sent_to_log_in(client):
    profile = make_companion()
    answer = client.get(reverse("safety:report_profile", args=[profile.slug]))
    assert answer.status_code == 302 and "login" in answer["Location"]


# --- Hostile input and escaping ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"category": "spam"},
        {"category": ["safety", "other"], "description": ""},
        {"category": "safety", "description": "x" * 2001},
        {"category": "safety", "description": "   \u200b\u0000  "},
        {"category": "\x00", "description": "\x00"},
    ],
)
def test_hostile_forms_are_a_clear_4xx_and_store_nothing(client, data):
    profile = make_companion()
    client.force_login(new_customer())
    answer = client.post(reverse("safety:report_profile", args=[profile.slug]), data)
    assert 400 <= answer.status_code < 500
    assert PersonReport.objects.count() == 0


@pytest.mark.parametrize("reference", ["\x00", "x" * 200, "KMP-<script>", "../../admin", "%00"])
def test_hostile_references_are_a_4xx(client, reference):
    client.force_login(new_customer())
    assert client.get(f"/bookings/{reference}/report/").status_code in (400, 404)


def test_text_is_cleaned_and_html_stays_text(client, staff):
    profile = make_companion()
    type(profile).objects.filter(pk=profile.pk).update(display_name="<b>Ayu</b>")
    client.force_login(new_customer())
    url = reverse("safety:report_profile", args=[profile.slug])
    assert "<b>Ayu</b>" not in client.get(url).content.decode()
    client.post(url, report_form(description="<script>alert(1)</script>\u202eteks\u0007 terbalik"))
    report = PersonReport.objects.get()
    assert report.description == "<script>alert(1)</script>teks terbalik"  # control and format characters gone
    client.force_login(staff)
    page = client.get(reverse("admin:safety_personreport_change", args=[report.pk])).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- From a booking, and stopping it for safety -----------------------------------------------------------


def test_both_parties_report_each_other_from_a_booking(client):
    booking = booking_on_the_real_clock(pay=False)
    detail = reverse("bookings:detail", args=[booking.reference])
    url = reverse("safety:report_booking", args=[booking.reference])
    for reporter, reported in ((booking.customer, booking.companion.user), (booking.companion.user, booking.customer)):
        client.force_login(reporter)
        assert url in client.get(detail).content.decode()
        answer = client.post(url, report_form(category="no_show"))
        assert answer.status_code == 302 and answer["Location"] == detail
        assert PersonReport.objects.filter(reporter=reporter, reported=reported, booking=booking).exists()
    booking.refresh_from_db()
    assert booking.status == BookingStatus.REQUESTED  # not asked to stop it: nothing changed


def test_a_customer_cancels_a_paid_booking_for_safety_from_the_report_page_and_gets_everything_back(client):
    booking = booking_on_the_real_clock()
    assert booking.status == BookingStatus.CONFIRMED
    client.force_login(booking.customer)
    url = reverse("safety:report_booking", args=[booking.reference])
    assert 'name="stop_booking"' in client.get(url).content.decode()
    client.post(url, report_form(category="safety", stop_booking="on"))
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED and booking.cancelled_for_safety
    assert booking.refund_amount == booking.total and booking.settled_companion_earnings == 0
    assert Refund.objects.get(booking=booking).amount == booking.total
    report = PersonReport.objects.get()
    assert report.cancelled_booking and SafetyAlert.objects.get(report=report).priority == 1
    assert ledger.check().balanced


def test_for_safety_a_late_customer_cancellation_still_refunds_in_full():
    """Three hours before the start the policy gives nothing back; cancelled for safety, everything."""
    booking, _payment = paid()
    late = START - 3 * HOUR
    assert booking_services.cancellation_preview(booking, by="customer", now=late).refund < booking.total
    reports.report_send(
        reporter=booking.customer,
        reported=booking.companion.user,
        category="safety",
        description="Dia mengancam saya lewat pesan.",
        booking=booking,
        stop_booking=True,
        now=late,
    )
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    assert (booking.refund_amount, booking.settled_companion_earnings) == (booking.total, 0)
    assert ledger.check().balanced


def test_a_companion_who_cancels_for_safety_is_not_counted_against(client):
    """A companion's cancellation counts against their reliability and level; one for safety never does.
    Two bookings cancelled by the same companion, one of them through a report: only the other counts."""
    profile = make_companion()
    for_safety, plain = (paid(profile=profile, customer=new_customer(), start=START + timedelta(days=day))[0]
                         for day in (0, 1))  # fmt: skip
    booking_services.booking_cancel(booking_id=plain.pk, actor=profile.user, reason="Sakit, mohon maaf", now=NOW + HOUR)
    reports.report_send(
        reporter=profile.user,
        reported=for_safety.customer,
        category="sexual",
        description="Dia meminta layanan seksual.",
        booking=for_safety,
        stop_booking=True,
        now=NOW + HOUR,
    )
    for_safety.refresh_from_db()
    assert for_safety.status == BookingStatus.CANCELLED and for_safety.cancelled_for_safety
    assert for_safety.cancelled_by == "companion" and for_safety.refund_amount == for_safety.total
    later = NOW + timedelta(days=10)
    assert reliability.figures(later)[profile.pk]["cancelled_recently"] == 1
    assert facts.reliability(profile.pk).companion_cancellations == 1
    # The level's cancellation rate: 1 of 3 ended (two completed, the plain cancellation); 1 of 4 if the
    # safety cancellation counted.
    for day in (3, 4):
        done = paid(profile=profile, customer=new_customer(), start=START + timedelta(days=day))[0]
        booking_services.bookings_sweep(now=done.complete_after)
    assert levels.figures(later)[profile.pk]["cancellation_rate"] == 33


def test_a_companion_declines_a_request_for_safety_and_a_customer_withdraws_one():
    declined = request(new_customer(), make_companion())
    reports.report_send(
        reporter=declined.companion.user,
        reported=declined.customer,
        category="harassment",
        description="Pesan kasar.",
        booking=declined,
        stop_booking=True,
        now=NOW + MINUTE,
    )
    withdrawn = request(new_customer(), make_companion(name="Bima"))
    reports.report_send(
        reporter=withdrawn.customer,
        reported=withdrawn.companion.user,
        category="fraud",
        description="Minta transfer di luar aplikasi.",
        booking=withdrawn,
        stop_booking=True,
        now=NOW + MINUTE,
    )
    declined.refresh_from_db()
    withdrawn.refresh_from_db()
    assert (declined.status, withdrawn.status) == (BookingStatus.DECLINED, BookingStatus.WITHDRAWN)


def test_a_booking_that_can_no_longer_be_stopped_refuses_and_records_nothing():
    booking, _payment = paid()
    with pytest.raises(reports.ReportError):
        reports.report_send(
            reporter=booking.customer,
            reported=booking.companion.user,
            category="safety",
            description="Terlambat.",
            booking=booking,
            stop_booking=True,
            now=booking.start + MINUTE,  # started: a dispute is the way now
        )
    assert PersonReport.objects.count() == 0
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_reports_sent_at_once_cannot_both_be_the_tenth(reference_data):
    customer = new_customer()
    people = [CompanionFactory() for _ in range(11)]
    for person in people[:9]:
        reports.report_send(reporter=customer, reported=person, category="other", description="Laporan.")

    def send(person):
        return lambda: reports.report_send(reporter=customer, reported=person, category="other", description="Lagi.")

    errors = at_once(send(people[9]), send(people[10]))
    assert len(errors) == 1 and isinstance(errors[0], reports.ReportError)
    assert "10" in str(errors[0])  # refused by the limit (the second waited for the first's lock), not busy
    assert PersonReport.objects.filter(reporter=customer).count() == 10
