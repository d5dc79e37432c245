"""Payments in the admin: the manual refund queue, payout decisions, the ledger check, mismatches."""

from datetime import timedelta

import pytest
from django.urls import reverse

from bookings import services as booking_services
from payments import services
from payments.models import Payout, Refund
from tests.bookings.helpers import START, make_companion
from tests.payments.helpers import paid

pytestmark = pytest.mark.django_db


def act(client, model: str, action: str, obj, **data):
    payload = {"action": action, "_selected_action": [obj.pk], **data}
    return client.post(reverse(f"admin:payments_{model}_changelist"), payload)


def test_a_queued_bank_transfer_refund_is_marked_sent_with_its_reference(client, staff):
    booking, _payment = paid(method="pay_va")
    booking_services.booking_cancel(booking_id=booking.pk, actor=booking.customer, now=START - timedelta(days=2))
    refund = Refund.objects.get()
    services.refund_submit_bank_details(
        refund_id=refund.pk, actor=booking.customer, bank="mandiri", account_number="1400012345678", holder_name="Budi"
    )
    client.force_login(staff)
    queue = client.get(reverse("admin:payments_refund_changelist"), {"status__exact": "manual_queued"})
    assert refund.refund_key in queue.content.decode()
    form = act(client, "refund", "mark_transferred", refund)
    assert form.status_code == 200 and "1400012345678" in form.content.decode()  # staff need the full number
    assert act(client, "refund", "mark_transferred", refund, apply="1", reference="x").status_code == 200
    refund.refresh_from_db()
    assert refund.status == Refund.Status.MANUAL_QUEUED
    act(client, "refund", "mark_transferred", refund, apply="1", reference="MDR-20261124-0042")
    refund.refresh_from_db()
    assert (refund.status, refund.transfer_reference, refund.completed_by) == (
        Refund.Status.MANUAL_DONE,
        "MDR-20261124-0042",
        staff,
    )


def test_payouts_are_approved_rejected_and_paid_from_the_admin(client, staff):
    profile = make_companion()
    booking, _payment = paid(profile=profile)
    booking_services.bookings_sweep(now=booking.complete_after)
    services.bank_account_save(profile=profile, bank="bri", account_number="0021010123456", holder_name="Ayu")
    client.force_login(staff)
    first = services.payout_request(profile=profile, amount=60_000)
    act(client, "payout", "reject", first, apply="1", reason="Rekening atas nama orang lain.")
    first.refresh_from_db()
    assert (first.status, first.decided_by) == (Payout.Status.REJECTED, staff)
    second = services.payout_request(profile=profile, amount=200_000)
    refused = act(client, "payout", "mark_paid", second)  # not approved yet: refused, nothing changes
    assert refused.status_code == 302
    act(client, "payout", "approve", second)
    act(client, "payout", "mark_paid", second, apply="1", reference="BRI-TRF-777")
    second.refresh_from_db()
    assert (second.status, second.transfer_reference) == (Payout.Status.PAID, "BRI-TRF-777")


def test_the_ledger_check_page_and_balances_per_account(client, staff):
    paid()
    client.force_login(staff)
    check = client.get(reverse("admin:payments_ledger_check"))
    assert check.status_code == 200 and check.context["report"].balanced
    accounts = client.get(reverse("admin:payments_ledgeraccount_changelist"))
    assert accounts.status_code == 200 and "330.000" in accounts.content.decode()


def test_refused_and_mismatched_notifications_are_listed_for_attention(client, staff):
    client.post(
        reverse("payments:midtrans_notification"),
        data='{"order_id": "KMP-NOPE-1", "status_code": "200", "gross_amount": "1.00", "signature_key": "x"}',
        content_type="application/json",
    )
    client.force_login(staff)
    page = client.get(reverse("admin:payments_paymentnotification_changelist"), {"attention": "yes"})
    assert page.status_code == 200 and "KMP-NOPE-1" in page.content.decode()


def test_people_without_staff_rights_cannot_open_the_ledger_check(client, customer):
    client.force_login(customer)
    assert client.get(reverse("admin:payments_ledger_check"), follow=True).status_code == 403
