"""Retention of chat messages (issue 15): RETENTION_MESSAGES_DAYS after the booking ends, each message's
text is replaced by a marker (that it existed, who sent it and when stay), with the contact spans and
concerns found in it. Evidence frozen in a report stays with the report."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils.translation import gettext as _

from chat.models import Message
from core import personal_data
from core.redact import ERASED_TEXT

SETTING = "RETENTION_MESSAGES_DAYS"


def describe() -> str:
    return _("Chat message texts are deleted %(days)d days after the booking ends; that a message was sent stays.") % {
        "days": getattr(settings, SETTING)
    }


def run(now: datetime) -> int:
    cutoff = now - timedelta(days=getattr(settings, SETTING))
    return (
        Message.objects.filter(conversation__booking__end__lte=cutoff)
        .exclude(text=ERASED_TEXT)
        .update(text=ERASED_TEXT, contacts=[], concerns=[])
    )


def register() -> None:
    personal_data.register_retention("chat_messages", setting=SETTING, describe=describe, run=run)
