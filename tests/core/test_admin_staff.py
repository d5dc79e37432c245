"""The admin for staff (defect 12): what waits for staff on the index (counts and ages, constant queries),
approve and reject on the KTP review page, times in WIB with the zone, amounts as Rupiah."""

from datetime import UTC, datetime, timedelta

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bookings import services as booking_services
from bookings.models import BookingStatus
from companions.models import CompanionProfile, IdentityVerification, VerificationStatus
from tests.bookings.helpers import NOW, make_companion, new_customer, request
from tests.companions.test_services import complete_profile, submit
from tests.conftest import STAFF_TOTP_SECRET
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

INDEX = "admin:index"
REASON = "The KTP photo is blurry: the NIK cannot be read."


def pending_verification(nik: str, *, waited: timedelta = timedelta(0)) -> IdentityVerification:
    verification = submit(complete_profile(), nik=nik)
    IdentityVerification.objects.filter(pk=verification.pk).update(submitted_at=timezone.now() - waited)
    verification.refresh_from_db()
    return verification


def disputed_booking():
    customer, profile = new_customer(), make_companion()
    booking = request(customer, profile)
    booking_services.booking_accept(booking_id=booking.pk, actor=profile.user, now=NOW + timedelta(minutes=5))
    booking_services.booking_mark_paid(booking_id=booking.pk, now=NOW + timedelta(minutes=10))
    return booking_services.booking_dispute(
        booking_id=booking.pk, actor=customer, reason="The companion did not come at all.", now=booking.end
    )


def english(client: Client) -> Client:
    client.cookies["kompanion_language"] = "en"
    return client


def queues(response) -> dict[str, tuple[int, str]]:
    return {str(queue.label): (queue.count, queue.age) for queue in response.context["work_queues"]}


# --- The index: what waits for staff --------------------------------------------------------------------


def test_staff_see_what_waits_with_counts_and_the_oldest_age(client, staff):
    pending_verification("3174016104960001", waited=timedelta(days=3, hours=2))
    pending_verification("3174016104960002", waited=timedelta(hours=1))
    disputed_booking()
    english(client).force_login(staff)

    response = client.get(reverse(INDEX))

    assert response.status_code == 200
    assert queues(response) == {
        "KTP verifications to review": (2, "3\xa0days, 2\xa0hours"),
        "Open disputes": (1, queues(response)["Open disputes"][1]),
        "Refunds waiting (failed or by bank transfer)": (0, ""),
        "Payouts requested or approved": (0, ""),
        "Messages not delivered (last 7 days)": (0, ""),
        "Safety reports from reviews": (0, ""),
        "Chat reports": (0, ""),
        "Flagged conversations": (0, ""),
        "Safety queue (SOS, welfare, reports)": (0, ""),
        "Reports about people": (0, ""),
        "Data exports older than 24 hours, not ready": (0, ""),
        "Files of purged accounts not deleted yet": (0, ""),
        "Referrals held for review": (0, ""),
    }
    assert queues(response)["Open disputes"][1] != ""
    content = response.content.decode()
    assert 'id="work-queues"' in content
    assert reverse("admin:companions_identityverification_changelist") + "?status__exact=pending" in content
    assert "3\xa0days, 2\xa0hours" in content


def test_the_index_query_count_does_not_grow_with_the_work(client, staff):
    english(client).force_login(staff)
    pending_verification("3174016104960001")
    disputed_booking()
    client.get(reverse(INDEX))  # warm the session and the sites and content-type caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse(INDEX)).status_code == 200

    for index in range(2, 6):
        pending_verification(f"317401610496000{index}")
    disputed_booking()
    disputed_booking()
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse(INDEX))

    assert queues(response)["KTP verifications to review"][0] == 5
    assert queues(response)["Open disputes"][0] == 3
    assert len(many) == len(few)


def test_a_customer_never_sees_the_index(client, customer):
    pending_verification("3174016104960001")
    client.force_login(customer)

    response = client.get(reverse(INDEX))

    # The admin's login page is allauth's: a signed-in member without staff rights is refused outright.
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert "work-queues" not in client.get(response["Location"]).content.decode()


def test_staff_without_two_factor_are_sent_to_set_it_up(client, staff_without_mfa):
    pending_verification("3174016104960001")
    client.force_login(staff_without_mfa)

    response = client.get(reverse(INDEX))
    assert (response.status_code, response["Location"]) == (302, reverse("admin:login") + "?next=/admin/")
    login = client.get(response["Location"])

    assert (login.status_code, login["Location"]) == (302, reverse("mfa_activate_totp"))


def test_a_queue_the_staff_member_may_not_view_is_left_out(client):
    limited = StaffFactory(is_superuser=False)
    TOTP.activate(limited, STAFF_TOTP_SECRET)
    limited.user_permissions.add(Permission.objects.get(codename="view_booking"))
    english(client).force_login(limited)

    response = client.get(reverse(INDEX))

    assert list(queues(response)) == ["Open disputes"]


# --- Approve and reject on the review page --------------------------------------------------------------


def change_url(verification) -> str:
    return reverse("admin:companions_identityverification_change", args=[verification.pk])


def approve_url(verification) -> str:
    return reverse("admin:companions_verification_approve", args=[verification.pk])


def reject_url(verification) -> str:
    return reverse("admin:companions_verification_reject", args=[verification.pk])


def test_the_review_page_has_approve_and_reject_forms(client, staff):
    verification = pending_verification("3174016104960001")
    english(client).force_login(staff)

    content = client.get(change_url(verification)).content.decode()

    assert f'action="{approve_url(verification)}"' in content
    assert f'action="{reject_url(verification)}"' in content
    assert 'name="reason"' in content
    assert content.count('name="csrfmiddlewaretoken"') >= 3  # the change form and both review forms


def test_approve_from_the_review_page(client, staff):
    verification = pending_verification("3174016104960001")
    client.force_login(staff)

    response = client.post(approve_url(verification))

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:companions_identityverification_changelist") + (
        "?status__exact=pending"
    )
    verification.refresh_from_db()
    assert (verification.status, verification.reviewed_by) == (VerificationStatus.APPROVED, staff)
    assert CompanionProfile.objects.get(pk=verification.profile_id).verification_status == VerificationStatus.APPROVED
    # Reviewed: the page no longer offers the buttons.
    assert approve_url(verification) not in client.get(change_url(verification)).content.decode()


def test_reject_from_the_review_page_needs_a_reason(client, staff):
    verification = pending_verification("3174016104960001")
    english(client).force_login(staff)

    refused = client.post(reject_url(verification), {"reason": "blurry"}, follow=True)

    assert refused.redirect_chain == [(change_url(verification), 302)]
    assert "at least 10 characters" in refused.content.decode()
    verification.refresh_from_db()
    assert (verification.status, verification.rejection_reason, verification.reviewed_by) == (
        VerificationStatus.PENDING,
        "",
        None,
    )

    response = client.post(reject_url(verification), {"reason": REASON})

    assert response.status_code == 302
    verification.refresh_from_db()
    assert (verification.status, verification.rejection_reason, verification.reviewed_by) == (
        VerificationStatus.REJECTED,
        REASON,
        staff,
    )


@pytest.mark.parametrize("view", [approve_url, reject_url])
def test_a_get_changes_nothing(client, staff, view):
    verification = pending_verification("3174016104960001")
    client.force_login(staff)

    response = client.get(view(verification), {"reason": REASON})

    assert response.status_code == 405
    verification.refresh_from_db()
    assert (verification.status, verification.reviewed_by) == (VerificationStatus.PENDING, None)


@pytest.mark.parametrize("view", [approve_url, reject_url])
def test_a_post_without_the_csrf_token_changes_nothing(staff, view):
    verification = pending_verification("3174016104960001")
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)

    response = client.post(view(verification), {"reason": REASON})

    assert response.status_code == 403
    verification.refresh_from_db()
    assert verification.status == VerificationStatus.PENDING


@pytest.mark.parametrize("view", [approve_url, reject_url])
def test_staff_who_may_only_view_cannot_review(client, view):
    viewer = StaffFactory(is_superuser=False)
    TOTP.activate(viewer, STAFF_TOTP_SECRET)
    viewer.user_permissions.add(Permission.objects.get(codename="view_identityverification"))
    verification = pending_verification("3174016104960001")
    client.force_login(viewer)

    assert approve_url(verification) not in client.get(change_url(verification)).content.decode()
    response = client.post(view(verification), {"reason": REASON})

    assert response.status_code == 403
    verification.refresh_from_db()
    assert (verification.status, verification.reviewed_by) == (VerificationStatus.PENDING, None)


@pytest.mark.parametrize("view", [approve_url, reject_url])
def test_a_customer_cannot_review(client, customer, view):
    verification = pending_verification("3174016104960001")
    client.force_login(customer)

    response = client.post(view(verification), {"reason": REASON})

    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    verification.refresh_from_db()
    assert verification.status == VerificationStatus.PENDING


# --- Times in WIB, amounts in Rupiah ------------------------------------------------------------------------


def test_admin_times_are_in_wib_with_the_zone(client, staff):
    verification = pending_verification("3174016104960001")
    IdentityVerification.objects.filter(pk=verification.pk).update(
        submitted_at=datetime(2026, 12, 2, 12, 30, tzinfo=UTC)
    )
    client.force_login(staff)  # Indonesian, the default

    listing = client.get(reverse("admin:companions_identityverification_changelist")).content.decode()
    page = client.get(change_url(verification)).content.decode()

    for content in (listing, page):
        assert "2 Des 2026, 19.30 WIB" in content
        assert "12.30" not in content


def test_admin_amounts_are_rupiah(client, staff):
    booking = disputed_booking()
    client.force_login(staff)

    listing = client.get(reverse("admin:bookings_booking_changelist")).content.decode()
    page = client.get(reverse("admin:bookings_booking_change", args=[booking.pk])).content.decode()

    assert booking.total == 330_000
    assert "Rp\xa0330.000" in listing
    assert "330000" not in listing
    for amount in (booking.total, booking.subtotal, booking.service_fee, booking.commission):
        assert f"Rp\xa0{amount:,}".replace(",", ".") in page
    assert "330000" not in page
    assert booking.status == BookingStatus.DISPUTED


def test_every_admin_list_and_page_opens_with_money_as_rupiah(client, staff):
    """Every registered model's list and one change page open (the Rupiah columns work on each)."""
    from django.contrib import admin

    from bookings import services as bookings
    from payments import services as payments
    from payments.models import Entry, LedgerAccount, Payout, Refund
    from tests.payments.helpers import paid

    profile = make_companion()
    booking, payment = paid(profile=profile)
    bookings.bookings_sweep(now=booking.complete_after)
    payments.bank_account_save(profile=profile, bank="bri", account_number="0021010123456", holder_name="Ayu")
    payout = payments.payout_request(profile=profile, amount=200_000)
    disputed_booking()
    client.force_login(staff)

    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        listing = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        assert listing.status_code == 200, meta.label
        obj = model._default_manager.first()
        if obj is not None and model_admin.has_view_permission(listing.wsgi_request, obj):
            page = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk]))
            assert page.status_code == 200, meta.label

    payout_page = client.get(reverse("admin:payments_payout_change", args=[payout.pk])).content.decode()
    assert "Rp\xa0200.000" in payout_page and ">200000<" not in payout_page
    payouts = client.get(reverse("admin:payments_payout_changelist")).content.decode()
    assert "Rp\xa0200.000" in payouts
    payments_list = client.get(reverse("admin:payments_payment_changelist")).content.decode()
    assert f"Rp\xa0{payment.amount:,}".replace(",", ".") in payments_list
    assert Refund.objects.count() == 0 and Payout.objects.count() == 1
    account = LedgerAccount.objects.filter(entries__isnull=False).first()
    account_page = client.get(reverse("admin:payments_ledgeraccount_change", args=[account.pk])).content.decode()
    some_entry = Entry.objects.filter(account=account).first()
    assert f"Rp\xa0{abs(some_entry.amount):,}".replace(",", ".") in account_page
