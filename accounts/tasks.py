from celery import shared_task
from django.core.mail import EmailMessage, EmailMultiAlternatives

from accounts import services


@shared_task
def purge_unverified_accounts_task() -> int:
    return services.purge_unverified_accounts()


@shared_task
def clear_expired_sessions_task() -> int:
    return services.sessions_clear_expired()


def email_as_dict(message: EmailMessage) -> dict:
    """A rendered email as JSON for the task (Celery serialises JSON only)."""
    return {
        "subject": message.subject,
        "body": message.body,
        "from_email": message.from_email,
        "to": list(message.to),
        "headers": dict(message.extra_headers),
        "alternatives": [[content, mimetype] for content, mimetype in getattr(message, "alternatives", [])],
    }


@shared_task(autoretry_for=(OSError,), retry_backoff=15, retry_backoff_max=600, retry_jitter=True, max_retries=8)
def send_email_task(message: dict) -> None:
    """Sends an account email (confirmation, password reset) rendered in the request. SMTP refusing or
    down (OSError) is retried with backoff and jitter; an email sent twice after a lost answer is
    harmless here (the link or code in it stays the same)."""
    email = EmailMultiAlternatives(
        subject=message["subject"],
        body=message["body"],
        from_email=message["from_email"],
        to=message["to"],
        headers=message["headers"],
    )
    for content, mimetype in message["alternatives"]:
        email.attach_alternative(content, mimetype)
    email.send()
