"""The dev WhatsApp backend (`make run`, no Twilio account): every message lands in OutboxMessage,
shown on the outbox page (notifications/views.py) instead of a phone."""

import secrets
from datetime import datetime

from notifications.channels.base import Sent, WhatsAppMessage


class OutboxWhatsApp:
    def send(self, message: WhatsAppMessage) -> Sent:
        from notifications.models import OutboxMessage

        sid = "SM" + secrets.token_hex(16)
        stored = OutboxMessage.objects.create(
            to=message.to,
            template_key=message.template_key,
            content_sid=message.content_sid,
            body=message.body,
            sid=sid,
        )
        return Sent(provider_id=sid, status="delivered", created_at=stored.created_at)

    def sent_to(self, to: str, *, since: datetime) -> list[Sent]:
        from notifications.models import OutboxMessage

        return [
            Sent(provider_id=row.sid, status="delivered", created_at=row.created_at, body=row.body)
            for row in OutboxMessage.objects.filter(to=to, created_at__gte=since)
        ]
