"""What payments holds about a person (issue 15, core/personal_data.py): the payments for their bookings
(with the gateway's raw notifications), refunds to them, a companion's payouts, bank account and ledger
accounts. The money itself stays (the books, 10 years); bank numbers and holder names go."""

from __future__ import annotations

import json

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.personal_data import identifiers, iso
from core import personal_data
from core.redact import redact, redact_json
from payments.models import BankAccount, Payment, PaymentNotification, Payout, Refund

# Keys of a gateway's JSON that describe the payer (Midtrans: customer_details and friends). Dropped from
# the stored raw bodies on purge; anything else that names the person is redacted as text.
PAYER_KEYS = frozenset(
    {
        "customer_details",
        "billing_address",
        "shipping_address",
        "first_name",
        "last_name",
        "email",
        "phone",
        "customer_name",
        "customer_email",
        "customer_phone",
        "card_holder",
        "custom_field1",
        "custom_field2",
        "custom_field3",
    }
)


def _without_payer(value):
    if isinstance(value, dict):
        return {key: _without_payer(part) for key, part in value.items() if key not in PAYER_KEYS}
    if isinstance(value, list):
        return [_without_payer(part) for part in value]
    return value


def scrub_raw_body(raw: str, needles: list[str], replacement: str) -> str:
    """A raw notification body without the payer's details (JSON: their keys dropped; anything else: the
    person's names, email and phone replaced)."""
    try:
        parsed = json.loads(raw)
    except (ValueError, TypeError):
        return redact(raw, needles, replacement)
    cleaned = redact_json(_without_payer(parsed), needles, replacement)
    if cleaned == parsed:
        return raw
    return json.dumps(cleaned, ensure_ascii=False, separators=(",", ":"))


def _payments_of(user: User):
    """The person's payments: for their bookings, and for their purchases of paid products."""
    return Payment.objects.filter(Q(booking__customer_id=user.pk) | Q(purchase__buyer_id=user.pk))


def _refunds_of(user: User):
    return Refund.objects.filter(Q(booking__customer_id=user.pk) | Q(payment__purchase__buyer_id=user.pk))


# --- Payments and refunds (the customer's side) -------------------------------------------------------------


def export_payments(user: User, ctx: personal_data.ExportContext) -> list[dict]:
    return [
        {
            "booking": row.subject_reference,
            "order_id": row.order_id,
            "amount": row.amount,
            "status": row.status,
            "method": row.payment_type,
            "created_at": iso(row.created_at),
            "paid_at": iso(row.paid_at),
            "invoice_number": row.invoice_number,
        }
        for row in _payments_of(user).select_related("booking", "purchase").order_by("created_at", "id").iterator()
    ]


def purge_payments(user: User, ctx: personal_data.PurgeContext) -> None:
    needles = identifiers(user)
    for payment in _payments_of(user).only("pk", "checkout_response"):
        cleaned = redact_json(_without_payer(payment.checkout_response), needles, ctx.pseudonym)
        if cleaned != payment.checkout_response:
            Payment.objects.filter(pk=payment.pk).update(checkout_response=cleaned)
    for row in PaymentNotification.objects.filter(payment__in=_payments_of(user)).only("pk", "raw_body").iterator():
        cleaned = scrub_raw_body(row.raw_body, needles, ctx.pseudonym)
        if cleaned != row.raw_body:
            PaymentNotification.objects.filter(pk=row.pk).update(raw_body=cleaned)


def export_refunds(user: User, ctx: personal_data.ExportContext) -> list[dict]:
    return [
        {
            "booking": row.payment.subject_reference,
            "amount": row.amount,
            "reason": row.reason,
            "method": row.method,
            "status": row.status,
            "bank": row.bank,
            "account_number": row.masked_account_number if row.account_number else "",
            "holder_name": row.holder_name,
            "created_at": iso(row.created_at),
            "completed_at": iso(row.completed_at),
        }
        for row in _refunds_of(user).select_related("payment__booking", "payment__purchase").order_by("created_at")
    ]


def purge_refunds(user: User, ctx: personal_data.PurgeContext) -> None:
    needles = identifiers(user)
    rows = _refunds_of(user)
    rows.exclude(account_number="").update(account_number="")
    rows.exclude(holder_name="").exclude(holder_name=ctx.pseudonym).update(holder_name=ctx.pseudonym)
    for refund in rows.only("pk", "provider_response", "last_error"):
        response = redact_json(_without_payer(refund.provider_response), needles, ctx.pseudonym)
        error = redact(refund.last_error, needles, ctx.pseudonym)
        if (response, error) != (refund.provider_response, refund.last_error):
            Refund.objects.filter(pk=refund.pk).update(provider_response=response, last_error=error)


# --- Payouts and the bank account (the companion's side) ----------------------------------------------------


def export_payouts(user: User, ctx: personal_data.ExportContext) -> list[dict]:
    rows = [
        {
            "record": "bank_account",
            "bank": account.bank,
            "account_number": account.masked_account_number,
            "holder_name": account.holder_name,
            "updated_at": iso(account.updated_at),
        }
        for account in BankAccount.objects.filter(profile__user_id=user.pk)
    ]
    rows += [
        {
            "record": "payout",
            "amount": row.amount,
            "status": row.status,
            "bank": row.bank,
            "account_number": row.masked_account_number,
            "holder_name": row.holder_name,
            "requested_at": iso(row.requested_at),
            "decided_at": iso(row.decided_at),
            "paid_at": iso(row.paid_at),
            "transfer_reference": row.transfer_reference,
            "rejection_reason": row.rejection_reason,
        }
        for row in Payout.objects.filter(profile__user_id=user.pk).order_by("requested_at", "id")
    ]
    return rows


def purge_payouts(user: User, ctx: personal_data.PurgeContext) -> None:
    needles = identifiers(user)
    BankAccount.objects.filter(profile__user_id=user.pk).delete()
    rows = Payout.objects.filter(profile__user_id=user.pk)
    rows.exclude(account_number="").update(account_number="")
    rows.exclude(holder_name=ctx.pseudonym).update(holder_name=ctx.pseudonym)
    for payout in rows.exclude(rejection_reason="").only("pk", "rejection_reason"):
        reason = redact(payout.rejection_reason, needles, ctx.pseudonym)
        if reason != payout.rejection_reason:
            Payout.objects.filter(pk=payout.pk).update(rejection_reason=reason)


def register() -> None:
    books = _(
        "Payments, refunds, payouts and ledger entries stay for 10 years, as the tax law requires us to keep "
        "our books (UU KUP article 28(11)), without bank account numbers, names or contact details."
    )
    personal_data.register(
        "payments",
        models=("payments.Payment", "payments.PaymentNotification"),
        export=export_payments,
        purge=purge_payments,
        kept=books,
    )
    personal_data.register(
        "refunds",
        # completed_by: the staff member who made a manual transfer (their work record, kept).
        models=("payments.Refund",),
        export=export_refunds,
        purge=purge_refunds,
        kept=books,
    )
    personal_data.register(
        "payouts",
        # LedgerAccount: the companion's payable account, a number in the books (no personal detail).
        models=("payments.Payout", "payments.BankAccount", "payments.LedgerAccount"),
        export=export_payouts,
        purge=purge_payouts,
        kept=books,
    )
