from django.conf import settings

from notifications.channels.base import ChannelError, Sent, WhatsAppChannel, WhatsAppMessage

__all__ = ["ChannelError", "Sent", "WhatsAppChannel", "WhatsAppMessage", "get_whatsapp"]


def get_whatsapp() -> WhatsAppChannel:
    if settings.WHATSAPP_BACKEND == "twilio":
        from notifications.channels.twilio_whatsapp import TwilioWhatsApp

        return TwilioWhatsApp(
            account_sid=settings.TWILIO_ACCOUNT_SID,
            auth_token=settings.TWILIO_AUTH_TOKEN,
            sender=settings.TWILIO_WHATSAPP_FROM,
            timeout=settings.TWILIO_TIMEOUT_SECONDS,
            base_url=settings.TWILIO_API_BASE_URL,
        )
    if settings.WHATSAPP_BACKEND == "outbox":
        from notifications.channels.outbox import OutboxWhatsApp

        return OutboxWhatsApp()
    raise ValueError(f"unknown WHATSAPP_BACKEND {settings.WHATSAPP_BACKEND!r}")
