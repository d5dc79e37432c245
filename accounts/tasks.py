import logging
import secrets

from celery import shared_task
from django.core.mail import EmailMessage, EmailMultiAlternatives

from accounts import services
from core import mail

logger = logging.getLogger(__name__)


@shared_task
def purge_unverified_accounts_task() -> int:
    return services.purge_unverified_accounts()


@shared_task
def clear_expired_sessions_task() -> int:
    return services.sessions_clear_expired()


@shared_task
def end_sessions_task(user_id: int) -> int:
    """After a deletion request or a suspension: the person's sessions go (they already log no one in)."""
    return services.user_sessions_end(user_id)


def email_as_dict(message: EmailMessage) -> dict:
    """A rendered email as JSON for the task (Celery serialises JSON only), with its Message-ID fixed
    here, once: every attempt of the task sends it under the same one."""
    headers = dict(message.extra_headers)
    if not any(name.lower() == "message-id" for name in headers):
        headers["Message-ID"] = mail.message_id(f"account.{secrets.token_hex(12)}")
    return {
        "subject": message.subject,
        "body": message.body,
        "from_email": message.from_email,
        "to": list(message.to),
        "headers": headers,
        "alternatives": [[content, mimetype] for content, mimetype in getattr(message, "alternatives", [])],
    }


@shared_task(autoretry_for=(OSError,), retry_backoff=15, retry_backoff_max=600, retry_jitter=True, max_retries=8)
def send_email_task(message: dict) -> None:
    """Sends an account email (confirmation, password reset) rendered in the request, at least once.
    SMTP down, timing out or refusing for now (an OSError) is retried with backoff and jitter; an email
    sent twice after a lost answer is harmless (the link or code in it stays the same, and so does its
    Message-ID). A recipient refused for good (5xx) is not retried."""
    email = EmailMultiAlternatives(
        subject=message["subject"],
        body=message["body"],
        from_email=message["from_email"],
        to=message["to"],
        headers=message["headers"],
        connection=mail.connection(),
    )
    for content, mimetype in message["alternatives"]:
        email.attach_alternative(content, mimetype)
    try:
        email.send()
    except OSError as error:
        if not mail.smtp_failure_is_permanent(error):
            raise  # retried (autoretry_for)
        logger.warning("An account email was refused for good (SMTP %s); not retried.", mail.smtp_code(error))
