"""Retention of notification texts (issue 15): after RETENTION_NOTIFICATIONS_DAYS the in-app notification's
details (what its text is made from) and each delivery's text, variables and address are blanked; that it
was sent, on which channel, when and how it went stay."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils.translation import gettext as _

from core import personal_data
from notifications.models import Delivery, InboundMessage, Notification, OutboxMessage

SETTING = "RETENTION_NOTIFICATIONS_DAYS"


def describe() -> str:
    return _(
        "Notification texts (in the app, by email and WhatsApp) are deleted after %(days)d days; that they were "
        "sent stays."
    ) % {"days": getattr(settings, SETTING)}


def run(now: datetime) -> int:
    cutoff = now - timedelta(days=getattr(settings, SETTING))
    touched = Notification.objects.filter(created_at__lte=cutoff).exclude(context={}).update(context={})
    touched += (
        Delivery.objects.filter(created_at__lte=cutoff)
        .exclude(body="", subject="", variables=[], to="")
        .update(body="", subject="", variables=[], to="")
    )
    touched += OutboxMessage.objects.filter(created_at__lte=cutoff).exclude(body="", to="").update(body="", to="")
    touched += (
        InboundMessage.objects.filter(received_at__lte=cutoff).exclude(body="", sender="").update(body="", sender="")
    )
    return touched


def register() -> None:
    personal_data.register_retention("notifications", setting=SETTING, describe=describe, run=run)
