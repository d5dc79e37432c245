"""Retention of raw payment notifications (issue 15): after RETENTION_PAYMENT_NOTIFICATIONS_DAYS (the refund
and chargeback window), the personal fields of each stored body (the customer's name, email, phone and
addresses) are blanked; the order, amounts, statuses and our verdict stay for the books. A scrubbed body
starts with a marker, so a second run skips it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from core import personal_data
from payments.models import PaymentNotification

SETTING = "RETENTION_PAYMENT_NOTIFICATIONS_DAYS"
MARKER = '{"_scrubbed": true'
PERSONAL_KEYS = frozenset(
    {
        "email",
        "phone",
        "first_name",
        "last_name",
        "name",
        "full_name",
        "customer_name",
        "customer_details",
        "billing_address",
        "shipping_address",
        "address",
        "city",
        "postal_code",
    }
)


def describe() -> str:
    return _(
        "The customer details in the payment provider's raw notifications are deleted after %(days)d days (the "
        "refund and chargeback window); the payment itself stays in the books."
    ) % {"days": getattr(settings, SETTING)}


def scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: ("" if key.lower() in PERSONAL_KEYS else scrub(item)) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub(item) for item in value]
    return value


def scrubbed_body(raw_body: str) -> str:
    try:
        parsed = json.loads(raw_body)
    except ValueError:
        parsed = None
    body = {"_scrubbed": True}
    if isinstance(parsed, dict):
        body.update(scrub(parsed))
    return json.dumps(body, ensure_ascii=False)


def run(now: datetime) -> int:
    cutoff = now - timedelta(days=getattr(settings, SETTING))
    due = (
        PaymentNotification.objects.filter(received_at__lte=cutoff)
        .exclude(raw_body__startswith=MARKER)
        .only("pk", "raw_body")
        .order_by("pk")
    )
    touched = 0
    for notification in due.iterator(chunk_size=500):
        PaymentNotification.objects.filter(pk=notification.pk).update(raw_body=scrubbed_body(notification.raw_body))
        touched += 1
    return touched


def register() -> None:
    personal_data.register_retention("payment_notifications", setting=SETTING, describe=describe, run=run)
