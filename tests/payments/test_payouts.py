"""Companion payouts: limits with clear messages, one open request, staff approval, ledger on paid."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import translation

from bookings import services as booking_services
from core.errors import NotAllowed
from payments import ledger, services
from payments.errors import PaymentError
from payments.models import Payout
from payments.selectors import companion_balances
from tests.bookings.helpers import START, make_companion
from tests.payments.helpers import paid

pytestmark = pytest.mark.django_db


@pytest.fixture
def earning_companion():
    """A companion with Rp 240.000 available (one completed booking) and a saved bank account."""
    profile = make_companion()
    booking, _payment = paid(profile=profile)
    booking_services.bookings_sweep(now=booking.complete_after)
    services.bank_account_save(profile=profile, bank="bca", account_number="0123456789", holder_name="Ayu Lestari")
    return profile


def refused(profile, amount) -> str:
    with pytest.raises(PaymentError) as problem:
        services.payout_request(profile=profile, amount=amount)
    return str(problem.value.message)


def test_payout_limits_are_refused_with_clear_messages(earning_companion):
    assert refused(earning_companion, 49_999) == "The minimum payout is Rp 50.000."
    assert refused(earning_companion, 240_001) == "You can request at most your available balance (Rp\u00a0240,000)."
    services.payout_request(profile=earning_companion, amount=100_000)
    assert refused(earning_companion, 50_000) == (
        "You already have a payout in progress. Wait until it is paid or rejected."
    )
    assert Payout.objects.count() == 1
    assert companion_balances(earning_companion)["available"] == 140_000


def test_the_balance_in_the_limit_message_is_written_as_the_page_language_writes_rupiah(earning_companion):
    with translation.override("id"):
        assert refused(earning_companion, 240_001) == (
            translation.gettext("You can request at most your available balance (%(available)s).")
            % {"available": "Rp\u00a0240.000"}
        )
    assert refused(earning_companion, 240_001).endswith("(Rp\u00a0240,000).")  # English (tests/payments/conftest.py)


def test_no_bank_account_no_payout():
    profile = make_companion()
    booking, _payment = paid(profile=profile)
    booking_services.bookings_sweep(now=booking.complete_after)
    assert refused(profile, 100_000) == "Add your bank account first."


def test_the_database_allows_one_open_payout_per_companion(earning_companion):
    services.payout_request(profile=earning_companion, amount=60_000)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payout.objects.create(
            profile=earning_companion, amount=60_000, bank="bca", account_number="0123456789", holder_name="Ayu"
        )


def test_approve_then_mark_paid_moves_the_money_in_the_ledger(earning_companion, staff):
    payout = services.payout_request(profile=earning_companion, amount=200_000)
    with pytest.raises(PaymentError):  # not approved yet
        services.payout_mark_paid(payout_id=payout.pk, actor=staff, reference="BCA-TRF-0001")
    with pytest.raises(NotAllowed) as not_staff:  # companions cannot approve their own
        services.payout_approve(payout_id=payout.pk, actor=earning_companion.user)
    assert isinstance(not_staff.value, PaymentError) and not_staff.value.message == "Only staff can do this."
    assert Payout.objects.get(pk=payout.pk).status == Payout.Status.REQUESTED
    services.payout_approve(payout_id=payout.pk, actor=staff)
    with pytest.raises(PaymentError):  # the transfer reference is required
        services.payout_mark_paid(payout_id=payout.pk, actor=staff, reference="")
    services.payout_mark_paid(payout_id=payout.pk, actor=staff, reference="BCA-TRF-0001")
    payout.refresh_from_db()
    assert (payout.status, payout.transfer_reference) == (Payout.Status.PAID, "BCA-TRF-0001")
    assert payout.account_number == "0123456789" and payout.get_bank_display() == "BCA"
    assert companion_balances(earning_companion) == {
        "in_escrow": 0,
        "owed": 40_000,
        "reserved": 0,
        "available": 40_000,
        "paid_out": 200_000,
    }
    assert ledger.balance(ledger.BANK) == -200_000
    assert ledger.unbalanced_journals() == []
    # The next request is possible again, within what is left.
    assert refused(earning_companion, 50_000) == "You can request at most your available balance (Rp\u00a040,000)."


def test_a_rejected_payout_frees_the_balance(earning_companion, staff):
    payout = services.payout_request(profile=earning_companion, amount=240_000)
    with pytest.raises(PaymentError):
        services.payout_reject(payout_id=payout.pk, actor=staff, reason="no")
    services.payout_reject(payout_id=payout.pk, actor=staff, reason="Nama pemilik rekening tidak cocok.")
    payout.refresh_from_db()
    assert payout.status == Payout.Status.REJECTED
    assert companion_balances(earning_companion)["available"] == 240_000
    assert earning_companion.user.notifications.filter(event="payout_rejected").exists()


def test_ledger_check_command_reports_a_balanced_ledger(earning_companion, capsys):
    call_command("ledger_check")
    output = capsys.readouterr().out
    assert "ledger balanced" in output and "sum of all entries: 0" in output


def test_escrow_counts_only_paid_bookings_not_completed(earning_companion):
    later, _payment = paid(profile=earning_companion, start=START + timedelta(days=1))
    balances = companion_balances(earning_companion)
    assert balances["in_escrow"] == later.companion_earnings
    assert balances["available"] == 240_000
