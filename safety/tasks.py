"""Background work of the safety app: the welfare sweep (beat, every minute) and the SOS email to staff."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task
def welfare_sweep_task() -> dict:
    from safety.welfare import welfare_sweep

    return welfare_sweep()


@shared_task(bind=True, max_retries=8, default_retry_delay=30)
def sos_email_task(self, alert_id: int) -> int:
    """Emails the safety team at once about an SOS (settings.SAFETY_TEAM_EMAILS, else ADMINS, else the support
    address): the booking's reference and the admin link, nothing more. The alert itself tops the admin's
    safety queue whatever happens to the email; a failed send is retried."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.urls import reverse

    from core import mail
    from safety.models import SafetyAlert

    alert = SafetyAlert.objects.select_related("booking").filter(pk=alert_id).first()
    recipients = list(settings.SAFETY_TEAM_EMAILS) or [address for _name, address in settings.ADMINS]
    recipients = recipients or ["bantuan@kompanion.id"]
    if alert is None:
        return 0
    link = f"{settings.SITE_URL.rstrip('/')}{reverse('admin:safety_safetyalert_change', args=[alert.pk])}"
    reference = alert.booking.reference if alert.booking else "-"
    body = f"SOS on booking {reference} at {alert.created_at:%Y-%m-%d %H:%M} UTC.\nOpen the safety queue now: {link}\n"
    try:
        return send_mail(
            f"[Kompanion SOS] booking {reference}",
            body,
            None,
            recipients,
            connection=mail.connection(),
        )
    except OSError as error:
        logger.warning("SOS email for alert %s not sent (%s): retrying", alert_id, type(error).__name__)
        raise self.retry(exc=error) from error
