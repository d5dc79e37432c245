"""Payments services, one module per seam (callers keep `from payments import services`):

- checkout: a payment attempt for an accepted booking and its checkout page; the dev simulator's buttons;
- webhooks: applying what the provider says (webhook, status API, cancel answers), placing settled money,
  closing a booking's other open checkouts;
- reconciliation: asking the provider about attempts still open, re-sending refunds stuck pending;
- refunds: opening, sending (through the gateway or by bank transfer) and staff decisions on refunds;
- payouts: a companion's bank account and payouts;
- purchases: paying for paid products (checkout, from earnings, deferred revenue recognised daily, refunds of
  the unused part).

Imports inside the package go one way: checkout, payouts and refunds import none of the others; purchases
imports checkout and refunds; webhooks imports refunds and purchases; reconciliation imports webhooks and refunds. Their
modules never import this package
(only callers outside it do), and the Celery tasks are defined beside the service each one runs
(payments/tasks.py gathers them), so no module imports one that imports it back.
"""

from payments.errors import PaymentError
from payments.services.checkout import (
    CHECKOUT_IN_PROGRESS,
    MINIMUM_CHECKOUT_TIME,
    checkout_items,
    payment_checkout,
    payment_create,
    simulator_choose,
)
from payments.services.payouts import (
    bank_account_save,
    payout_approve,
    payout_mark_paid,
    payout_reject,
    payout_request,
)
from payments.services.purchases import (
    purchase_checkout,
    purchase_pay_from_earnings,
    purchase_refund_unused,
    purchases_recognise,
    purchases_sweep,
)
from payments.services.reconciliation import (
    RECONCILE_AFTER,
    RECONCILE_UNTIL,
    payment_check,
    payments_reconcile,
)
from payments.services.refunds import (
    payment_refund_unplaced,
    refund_mark_manual_done,
    refund_open,
    refund_process,
    refund_retry,
    refund_submit_bank_details,
    refund_switch_to_manual,
)
from payments.services.webhooks import (
    OPEN_AT_PROVIDER,
    payment_apply_notification,
    payment_record_forged,
    payments_close_open_attempts,
)

__all__ = [
    "CHECKOUT_IN_PROGRESS",
    "MINIMUM_CHECKOUT_TIME",
    "OPEN_AT_PROVIDER",
    "RECONCILE_AFTER",
    "RECONCILE_UNTIL",
    "PaymentError",
    "bank_account_save",
    "checkout_items",
    "payment_apply_notification",
    "payment_check",
    "payment_checkout",
    "payment_create",
    "payment_record_forged",
    "payment_refund_unplaced",
    "payments_close_open_attempts",
    "payments_reconcile",
    "purchase_checkout",
    "purchase_pay_from_earnings",
    "purchase_refund_unused",
    "purchases_recognise",
    "purchases_sweep",
    "payout_approve",
    "payout_mark_paid",
    "payout_reject",
    "payout_request",
    "refund_mark_manual_done",
    "refund_open",
    "refund_process",
    "refund_retry",
    "refund_submit_bank_details",
    "refund_switch_to_manual",
    "simulator_choose",
]
