"""Sending one delivery (WhatsApp at most once, email at least once), and what the provider tells us
about it afterwards.

`delivery_send` claims the row under a lock (pending → sending) and calls the provider outside any
transaction. A send that was interrupted half-way (worker killed, answer lost) is resolved by channel:
WhatsApp asks Twilio what it received since, never sending again blindly; email, which SMTP cannot be
asked about, is sent again under the same Message-ID (a lost booking confirmation is worse than one
shown twice, and mail clients fold the duplicate). Called by notifications.tasks; recording
(notifications.services) sits above and enqueues the tasks."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from accounts import services as account_services
from accounts.models import User
from core import mail
from notifications.channels import ChannelError, WhatsAppMessage, get_whatsapp
from notifications.models import Channel, Delivery, InboundMessage

logger = logging.getLogger(__name__)

# 15 s doubling to 30 min between attempts: about 2 hours of provider trouble before a row fails.
MAX_ATTEMPTS = 10
# A row "sending" for longer than this was interrupted (the send itself has a timeout far below it).
SENDING_STALE_AFTER = timedelta(minutes=2)


def wants_whatsapp(user: User) -> bool:
    return bool(user.whatsapp_opt_in and user.phone and user.phone_verified_at and user.is_active)


# --- Sending ------------------------------------------------------------------------------------------------


def _claim(delivery_id: int, now: datetime) -> tuple[Delivery | None, bool]:
    """Pending → sending under a row lock. Returns (delivery, interrupted): (None, False) when there is
    nothing to send now; interrupted=True for a row another worker left "sending" long ago, which is
    first checked with the provider (outside this lock) before anything is sent."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
        if delivery.status == Delivery.Status.SENDING:
            if now - delivery.sending_started_at < SENDING_STALE_AFTER:
                return None, False  # another worker is at it right now
            return delivery, True
        if delivery.status != Delivery.Status.PENDING:
            return None, False
        delivery.status = Delivery.Status.SENDING
        delivery.attempts += 1
        delivery.sending_started_at = now
        delivery.updated_at = now
        delivery.save(update_fields=["status", "attempts", "sending_started_at", "updated_at"])
        return delivery, False


def _adoption_window(delivery: Delivery) -> tuple[datetime, datetime]:
    """When an interrupted send can have reached the provider: after its claim (a minute of clock skew
    allowed) and before the client's timeout ran out."""
    started = delivery.sending_started_at
    return started - timedelta(minutes=1), started + timedelta(seconds=settings.TWILIO_TIMEOUT_SECONDS, minutes=1)


def _resolve_interrupted(delivery: Delivery, now: datetime) -> Delivery | None:
    """A row a worker left "sending" (it died, or the answer was lost): the provider says whether it got
    the message; only if it did not is it sent again. Returns the row to send, or None."""
    if delivery.channel == Channel.EMAIL:
        return _resend_interrupted_email(delivery, now)
    window_start, window_end = _adoption_window(delivery)
    same_number = Delivery.objects.filter(channel=Channel.WHATSAPP, to=delivery.to).exclude(pk=delivery.pk)
    in_flight = same_number.filter(
        status=Delivery.Status.SENDING,
        sending_started_at__gte=window_start,
        sending_started_at__lte=window_end,
        sending_started_at__gt=now - SENDING_STALE_AFTER,
    )
    if in_flight.exists():
        return None  # its message (sid not recorded yet) could be taken for ours: decide on a later sweep
    try:
        received = get_whatsapp().sent_to(delivery.to, since=window_start)  # outside any lock
    except ChannelError:
        return None  # cannot tell now: leave it for the next sweep
    known = set(same_number.filter(provider_id__isnull=False).values_list("provider_id", flat=True))
    candidates = sorted(
        (
            sent
            for sent in received
            if sent.provider_id not in known and (sent.created_at is None or sent.created_at <= window_end)
        ),
        key=lambda sent: str(sent.created_at),
    )
    # Prefer the message whose text is ours (free text: the same body; a template: all our values
    # in it); time alone decides only when the provider does not say what it sent.
    values = [str(value) for value in (delivery.variables or {}).values() if value]
    ours = [
        sent
        for sent in candidates
        if sent.body and (sent.body == delivery.body or (values and all(value in sent.body for value in values)))
    ] or [sent for sent in candidates if not sent.body]
    with transaction.atomic():
        locked = _lock_if_still_claimed(delivery)
        if locked is None:
            return None
        if ours:
            _finish(locked, now, status=Delivery.Status.SENT, provider_id=ours[0].provider_id)
            return None
        return _claim_again(locked, now)


def _resend_interrupted_email(delivery: Delivery, now: datetime) -> Delivery | None:
    """SMTP cannot be asked afterwards whether the message arrived, and a lost email (a booking
    confirmation) is worse than one shown twice: it is sent again, under the same Message-ID. One that
    is interrupted on every attempt fails after the last. Returns the row to send, or None."""
    with transaction.atomic():
        locked = _lock_if_still_claimed(delivery)
        if locked is None:
            return None
        if locked.attempts >= MAX_ATTEMPTS:
            _finish(locked, now, status=Delivery.Status.FAILED, error="interrupted while sending")
            return None
        return _claim_again(locked, now)


def _lock_if_still_claimed(delivery: Delivery) -> Delivery | None:
    """The row, locked, if it is still in the send `delivery` saw; None if someone resolved it meanwhile."""
    locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if locked.status != Delivery.Status.SENDING or locked.sending_started_at != delivery.sending_started_at:
        return None
    return locked


def _claim_again(locked: Delivery, now: datetime) -> Delivery:
    """Counts one more attempt and claims the row for it (inside the caller's transaction)."""
    locked.attempts += 1
    locked.sending_started_at = now
    locked.updated_at = now
    locked.save(update_fields=["attempts", "sending_started_at", "updated_at"])
    return locked


def _finish(delivery: Delivery, now: datetime, *, status: str, provider_id: str = "", error: str = "", code: str = ""):
    delivery.status = status
    delivery.updated_at = now
    fields = ["status", "updated_at"]
    if provider_id:
        delivery.provider_id, delivery.sent_at = provider_id, now
        fields += ["provider_id", "sent_at"]
    if error or code:
        delivery.last_error, delivery.error_code = error[:300], code[:16]
        fields += ["last_error", "error_code"]
    if delivery.sensitive and status != Delivery.Status.PENDING:
        delivery.body, delivery.variables = "", {}
        fields += ["body", "variables"]
    delivery.save(update_fields=fields)
    if provider_id:
        # A status callback can outrun the answer to our own create call: apply what was kept for it.
        for early_status, early_code in cache.get(_early_key(provider_id), []):
            transaction.on_commit(
                lambda status=early_status, code=early_code: delivery_status_update(
                    provider_id=provider_id, status=status, error_code=code
                )
            )
        cache.delete(_early_key(provider_id))


def _early_key(provider_id: str) -> str:
    return f"notifications:early-status:{provider_id}"


# Twilio errors that mean the person does not want our WhatsApp messages: their opt-in follows.
REFUSALS = {"63014": "blocked our number", "21610": "opted out"}


def _respect_refusal(delivery: Delivery, code: str) -> None:
    # A trusted contact who blocked us refused the contact's messages, not the user's own.
    if delivery.channel == Channel.WHATSAPP and code in REFUSALS and not delivery.on_behalf:
        account_services.user_set_whatsapp_opt_in(
            user=delivery.recipient, granted=False, source=f"twilio error {code} ({REFUSALS[code]})"
        )


def delivery_send(*, delivery_id: int, now: datetime | None = None) -> Delivery:
    """Sends one delivery: WhatsApp at most once, email at least once. Raises ChannelError for a
    transient failure (the task retries it with backoff); permanent failures and the last attempt mark
    the row failed."""
    now = now or timezone.now()
    delivery, interrupted = _claim(delivery_id, now)
    if delivery is not None and interrupted:
        delivery = _resolve_interrupted(delivery, now)
    if delivery is None:
        return Delivery.objects.get(pk=delivery_id)
    if not _still_wanted(delivery):
        with transaction.atomic():
            locked = Delivery.objects.select_for_update().get(pk=delivery_id)
            _finish(locked, timezone.now(), status=Delivery.Status.FAILED, error="no longer wanted", code="consent")
        return locked
    try:
        provider_id = _send(delivery)
    except ChannelError as error:
        with transaction.atomic():
            locked = Delivery.objects.select_for_update().get(pk=delivery_id)
            if error.ambiguous:
                # The request may have reached the provider (the answer was lost): the row stays
                # "sending", and once stale the provider is asked before anything is sent again.
                locked.last_error, locked.error_code = str(error)[:300], error.code[:16]
                locked.save(update_fields=["last_error", "error_code"])
                raise
            retry = error.transient and locked.attempts < MAX_ATTEMPTS
            _finish(
                locked,
                timezone.now(),
                status=Delivery.Status.PENDING if retry else Delivery.Status.FAILED,
                error=str(error),
                code=error.code,
            )
            if not error.transient:
                _respect_refusal(locked, error.code)
        if retry:
            raise
        return locked
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().get(pk=delivery_id)
        _finish(locked, timezone.now(), status=Delivery.Status.SENT, provider_id=provider_id)
    return locked


def _still_wanted(delivery: Delivery) -> bool:
    """Consent is read again when sending: a STOP, a number change or an email switch-off that came
    while the message waited (backoff, a retry) is respected. Codes go to the number being proven."""
    recipient = User.objects.get(pk=delivery.recipient_id)
    if not recipient.is_active:
        return False
    if delivery.channel == Channel.EMAIL:
        return recipient.email_notifications and recipient.email == delivery.to
    if delivery.on_behalf:
        return True  # the person (or their welfare check) asked for it; the contact's number is not theirs
    if delivery.sensitive:
        return recipient.phone == delivery.to
    return wants_whatsapp(recipient) and recipient.phone == delivery.to


def _send(delivery: Delivery) -> str:
    if delivery.channel == Channel.EMAIL:
        return _send_email(delivery)
    # WhatsApp approves a template per language: "event:en" first, then the event's default.
    templates = settings.TWILIO_WHATSAPP_TEMPLATES
    template_sid = templates.get(f"{delivery.template_key}:{delivery.language}") or templates.get(
        delivery.template_key, ""
    )
    if not template_sid and settings.WHATSAPP_BACKEND == "twilio" and not _inside_window(delivery):
        # Business-initiated messages need an approved template (Twilio error 63016 otherwise).
        raise ChannelError(f"no approved template for {delivery.template_key}", transient=False, code="63016")
    callback = f"{settings.SITE_URL.rstrip('/')}{reverse('notifications:twilio_status')}"
    sent = get_whatsapp().send(
        WhatsAppMessage(
            to=delivery.to,
            template_key=delivery.template_key,
            body=delivery.body,
            variables=delivery.variables,
            content_sid=template_sid,
            status_callback=callback,
        )
    )
    return sent.provider_id


def _inside_window(delivery: Delivery) -> bool:
    """Free text is allowed within 24 h of the user's last message to us."""
    since = timezone.now() - timedelta(hours=24)
    return InboundMessage.objects.filter(sender=delivery.to, received_at__gte=since).exists()


def email_message_id(delivery: Delivery) -> str:
    """The delivery's Message-ID, the same on every attempt (a client folds a resent duplicate) and
    unique to the row (its creation time too, so ids reused after a database restore stay distinct)."""
    return mail.message_id(f"delivery-{delivery.pk}.{int(delivery.created_at.timestamp())}")


def _send_email(delivery: Delivery) -> str:
    with translation.override(delivery.language):
        html = render_to_string(
            "notifications/email.html",
            {"subject": delivery.subject, "body": delivery.body},
        )
    email = EmailMultiAlternatives(
        subject=f"Kompanion: {delivery.subject}",
        body=delivery.body,
        to=[delivery.to],
        headers={"Message-ID": email_message_id(delivery)},
        connection=mail.connection(),
    )
    email.attach_alternative(html, "text/html")
    try:
        email.send()
    except OSError as error:  # smtplib's errors, timeouts and refused connections are all OSErrors
        # Transient (a 4xx, a dropped connection, a timeout: the server may even have the message) goes
        # back to pending and is sent again, under the same Message-ID; a 5xx refusal fails the row.
        code = mail.smtp_code(error)
        raise ChannelError(
            str(error), transient=not mail.smtp_failure_is_permanent(error), code=str(code or "smtp")
        ) from error
    return f"email-{delivery.pk}"


def retry_delay(attempts: int) -> timedelta:
    """The wait before attempt n + 1 (the task's backoff, without its jitter)."""
    return timedelta(seconds=min(1800, 15 * 2**attempts))


def deliveries_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """The safety net's work (beat): deliveries whose task was lost (pending past their backoff) and
    sends that were interrupted (sending past SENDING_STALE_AFTER). tasks.deliveries_sweep sends them."""
    now = now or timezone.now()
    pending = Delivery.objects.filter(
        status=Delivery.Status.PENDING, updated_at__lte=now - timedelta(minutes=1), attempts__lt=MAX_ATTEMPTS
    ).values_list("pk", "attempts", "updated_at")
    due = [pk for pk, attempts, updated_at in pending[:2000] if updated_at <= now - retry_delay(attempts)]
    due += list(
        Delivery.objects.filter(
            status=Delivery.Status.SENDING, sending_started_at__lte=now - SENDING_STALE_AFTER
        ).values_list("pk", flat=True)[:limit]
    )
    return due[:limit]


# --- What Twilio tells us --------------------------------------------------------------------------------------


def delivery_status_update(*, provider_id: str, status: str, error_code: str = "") -> bool:
    """A status callback: moves the row forward only (a late "sent" never undoes "read")."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update().select_related("recipient").filter(provider_id=provider_id).first()
        )
        if delivery is None:
            if provider_id.startswith(("SM", "MM")) and status:
                # Possibly ours, before the sid was saved (the create call's answer is still on its
                # way): kept for 10 minutes and applied when it is.
                key = _early_key(provider_id)
                cache.set(key, [*cache.get(key, []), (status, error_code)], timeout=600)
            return False
        if status in ("failed", "undelivered"):
            new = Delivery.Status.FAILED if status == "failed" else Delivery.Status.UNDELIVERED
            if delivery.status in (Delivery.Status.DELIVERED, Delivery.Status.READ):
                return False
            delivery.status, delivery.error_code = new, error_code[:16]
            _respect_refusal(delivery, error_code)
        else:
            rank = Delivery.PROGRESS.get(status)
            current = Delivery.PROGRESS.get(delivery.status, 0)
            if (
                rank is None
                or rank <= current
                or delivery.status in (Delivery.Status.FAILED, Delivery.Status.UNDELIVERED)
            ):
                return False
            delivery.status = {2: Delivery.Status.SENT, 3: Delivery.Status.DELIVERED, 4: Delivery.Status.READ}.get(
                rank, delivery.status
            )
        delivery.updated_at = timezone.now()
        delivery.save(update_fields=["status", "error_code", "updated_at"])
        return True
