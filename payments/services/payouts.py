"""A companion's bank account and payouts: requested by the companion, approved or rejected by staff,
paid through the disbursement adapter (by default a bank transfer staff make by hand)."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.models import User
from companions.models import CompanionProfile
from core.formatting import format_rupiah
from notifications.services import notification_record
from payments import ledger, selectors
from payments.banks import BANK_NAMES
from payments.disbursement import PayoutInstruction, get_disbursement
from payments.errors import PaymentError
from payments.locks import lock_get
from payments.models import PAYOUT_MINIMUM, BankAccount, Payout
from payments.services.staff import require_staff


def bank_account_save(*, profile: CompanionProfile, bank: str, account_number: str, holder_name: str) -> BankAccount:
    if bank not in BANK_NAMES:
        raise PaymentError(_("Choose a bank from the list."), field="bank")
    account, _created = BankAccount.objects.update_or_create(
        profile=profile,
        defaults={
            "bank": bank,
            "account_number": account_number,
            "holder_name": holder_name.strip(),
            "updated_at": timezone.now(),
        },
    )
    return account


def payout_request(*, profile: CompanionProfile, amount: int, now: datetime | None = None) -> Payout:
    """At least Rp 50.000, at most what is available, one open request at a time, to the companion's
    saved bank account. Under a lock on the profile, so two clicks cannot both pass the checks."""
    now = now or timezone.now()
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise PaymentError(_("Enter the amount in whole Rupiah."), field="amount")
    with transaction.atomic():
        profile = lock_get(CompanionProfile.objects.filter(pk=profile.pk))
        account = BankAccount.objects.filter(profile=profile).first()
        if account is None:
            raise PaymentError(_("Add your bank account first."))
        if Payout.objects.filter(profile=profile, status__in=Payout.OPEN_STATUSES).exists():
            raise PaymentError(_("You already have a payout in progress. Wait until it is paid or rejected."))
        if amount < PAYOUT_MINIMUM:
            raise PaymentError(_("The minimum payout is Rp 50.000."), field="amount")
        available = selectors.companion_balances(profile)["available"]
        if amount > available:
            raise PaymentError(
                _("You can request at most your available balance (%(available)s).")
                % {"available": format_rupiah(available, language=get_language() or "id")},
                field="amount",
            )
        try:
            with transaction.atomic():
                payout = Payout.objects.create(
                    profile=profile,
                    amount=amount,
                    bank=account.bank,
                    account_number=account.account_number,
                    holder_name=account.holder_name,
                    requested_at=now,
                )
        except IntegrityError as error:
            raise PaymentError(
                _("You already have a payout in progress. Wait until it is paid or rejected.")
            ) from error
    return payout


def _decide(payout_id: int, *, actor: User, expected: tuple[str, ...]) -> Payout:
    """Call inside transaction.atomic(): the payout, locked, in one of the `expected` statuses."""
    require_staff(actor)
    payout = lock_get(Payout.objects.filter(pk=payout_id).select_related("profile__user"))
    if payout.status not in expected:
        raise PaymentError(
            _("This payout can no longer be changed that way (status: %(status)s).")
            % {"status": payout.get_status_display()}
        )
    return payout


def payout_approve(*, payout_id: int, actor: User, now: datetime | None = None) -> Payout:
    with transaction.atomic():
        payout = _decide(payout_id, actor=actor, expected=(Payout.Status.REQUESTED,))
        payout.status, payout.decided_at, payout.decided_by = Payout.Status.APPROVED, now or timezone.now(), actor
        payout.save(update_fields=["status", "decided_at", "decided_by"])
    return payout


def payout_reject(*, payout_id: int, actor: User, reason: str, now: datetime | None = None) -> Payout:
    reason = reason.strip()
    if len(reason) < 5:
        raise PaymentError(_("Tell the companion why (at least 5 characters)."), field="reason")
    with transaction.atomic():
        payout = _decide(payout_id, actor=actor, expected=Payout.OPEN_STATUSES)
        payout.status, payout.decided_at, payout.decided_by = Payout.Status.REJECTED, now or timezone.now(), actor
        payout.rejection_reason = reason[:300]
        payout.save(update_fields=["status", "decided_at", "decided_by", "rejection_reason"])
        notification_record(
            recipient=payout.profile.user, event="payout_rejected", context={"amount": payout.amount, "reason": reason}
        )
    return payout


def payout_mark_paid(*, payout_id: int, actor: User, reference: str = "", now: datetime | None = None) -> Payout:
    """The money left through the disbursement adapter (by default: staff made the bank transfer and
    give its reference). The ledger moves the amount from what we owe the companion to the bank."""
    now = now or timezone.now()
    with transaction.atomic():
        payout = _decide(payout_id, actor=actor, expected=(Payout.Status.APPROVED,))
        result = get_disbursement().disburse(
            PayoutInstruction(
                payout_id=payout.pk,
                amount=payout.amount,
                bank=payout.bank,
                account_number=payout.account_number,
                holder_name=payout.holder_name,
                reference=reference,
            )
        )
        payout.status, payout.paid_at, payout.transfer_reference = Payout.Status.PAID, now, result.reference
        payout.save(update_fields=["status", "paid_at", "transfer_reference"])
        ledger.transfer(
            reference=f"payout:{payout.pk}:paid",
            kind="payout_paid",
            debit=ledger.companion_payable_account(payout.profile_id),
            credit=ledger.BANK,
            amount=payout.amount,
            memo=f"payout {payout.pk} ref {result.reference}",
        )
        notification_record(recipient=payout.profile.user, event="payout_paid", context={"amount": payout.amount})
    return payout
