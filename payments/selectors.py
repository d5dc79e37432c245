"""Read queries for payment pages: balances are sums over the ledger, never stored numbers."""

from django.db.models import Sum

from bookings.models import Booking
from companions.models import CompanionProfile
from payments import ledger
from payments.models import BankAccount, Entry, LedgerAccount, Payment, Payout, Refund


def companion_balances(profile: CompanionProfile) -> dict[str, int]:
    """in_escrow: the companion's earnings on paid bookings not completed yet (their booking's escrow
    still holds the money); owed: the companion payable account; reserved: an open payout request;
    available = owed − reserved; paid_out: payouts already sent (debits of the payable account)."""
    held_bookings = (
        LedgerAccount.objects.filter(booking__companion=profile)
        .annotate(held=Sum("entries__amount"))
        .filter(held__lt=0)
        .values("booking_id")
    )
    in_escrow = Booking.objects.filter(pk__in=held_bookings).aggregate(total=Sum("companion_earnings"))["total"] or 0
    payable = ledger.companion_payable_account(profile.pk)
    owed = ledger.balance(payable)
    paid_out = (
        Entry.objects.filter(account__key=payable, journal__kind="payout_paid").aggregate(total=Sum("amount"))["total"]
        or 0
    )
    reserved = (
        Payout.objects.filter(profile=profile, status__in=Payout.OPEN_STATUSES).aggregate(total=Sum("amount"))["total"]
        or 0
    )
    return {
        "in_escrow": in_escrow,
        "owed": owed,
        "reserved": reserved,
        "available": max(0, owed - reserved),
        "paid_out": paid_out,
    }


def companion_earnings_lines(profile: CompanionProfile, *, limit: int = 50):
    """The companion's payable account, newest first: what came in (completed bookings, settled
    cancellations) and what went out (payouts), with the booking reference in the memo."""
    return (
        Entry.objects.filter(account__key=ledger.companion_payable_account(profile.pk))
        .select_related("journal")
        .order_by("-journal__created_at", "-pk")[:limit]
    )


def companion_payouts(profile: CompanionProfile, *, limit: int = 20):
    return Payout.objects.filter(profile=profile).order_by("-requested_at")[:limit]


def latest_payment(booking: Booking) -> Payment | None:
    return booking.payments.order_by("-created_at", "-pk").first()


def booking_refunds(booking: Booking):
    return Refund.objects.filter(booking=booking).order_by("created_at")


def confirming_payment(booking: Booking) -> Payment | None:
    """The payment that confirmed the booking (its receipt); later duplicates are refunded."""
    return booking.payments.filter(invoice_number__isnull=False).order_by("paid_at", "pk").first()


def bank_account_numbers(user) -> set[str]:
    """Every bank account number the person gave us, digits only: their payout account and the account
    numbers of their payouts (as a companion), and the bank details of their manual refunds (as a customer).
    For the referral programme's "same bank account" rule (promotions/hooks.py); decrypted here only."""
    numbers = set(BankAccount.objects.filter(profile__user=user).values_list("account_number", flat=True))
    numbers |= set(Payout.objects.filter(profile__user=user).values_list("account_number", flat=True)[:200])
    numbers |= set(
        Refund.objects.filter(booking__customer=user)
        .exclude(account_number="")
        .values_list("account_number", flat=True)[:200]
    )
    return {"".join(ch for ch in (number or "") if ch.isdigit()) for number in numbers} - {""}
