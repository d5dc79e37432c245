"""Notifications: record them with the change that causes them (outbox), and what people tell us.

`notification_record` runs inside the transaction of the change: it writes the in-app Notification
and one Delivery per outside channel the recipient wants (email; WhatsApp only to a verified, opted-in
number), and asks for the sending after commit (notifications.tasks → notifications.sending, which sends
each delivery at most once). The sending names are importable from here as before."""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import services as account_services
from accounts.models import User
from core.errors import NotAllowed
from notifications import messages, replies, selectors
from notifications.models import Channel, Delivery, InboundMessage, Notification
from notifications.sending import (  # noqa: F401 (the sending half, importable from here as before)
    MAX_ATTEMPTS,
    REFUSALS,
    SENDING_STALE_AFTER,
    _still_wanted,
    delivery_send,
    delivery_status_update,
    retry_delay,
    wants_whatsapp,
)
from notifications.tasks import deliveries_sweep, send_delivery_task  # noqa: F401


def _language(user: User) -> str:
    return user.preferred_language or settings.LANGUAGE_CODE


def notification_record(
    *,
    recipient: User,
    event: str,
    context: dict | None = None,
    dedupe_key: str | None = None,
    in_app: bool = True,
    deliver: bool = True,
    email: bool = True,
) -> Notification | None:
    """Call inside the transaction of the change it reports: it commits or rolls back with it.
    With a `dedupe_key`, a second call with the same key records nothing and returns None.
    in_app=False: no bell entry, only the outside deliveries; deliver=False: the bell only; email=False:
    no email even if the recipient takes them (a kind of message they turned off)."""
    context = context or {}
    language = _language(recipient)
    notification = None
    if in_app:
        try:
            with transaction.atomic():  # a savepoint: a duplicate once-only key leaves the caller's work intact
                notification = Notification.objects.create(
                    recipient=recipient, event=event, context=context, language=language, dedupe_key=dedupe_key
                )
        except IntegrityError:
            if dedupe_key and Notification.objects.filter(dedupe_key=dedupe_key).exists():
                return None
            raise
        if event != "phone_code":  # the one event the bell does not count
            selectors.unread_changed(recipient.pk)
    if not deliver:
        return notification
    rendered = messages.render(event, context, language=language, zone=recipient.time_zone)
    deliveries = []
    if email and recipient.email_notifications and recipient.email and recipient.is_active:
        deliveries.append(
            Delivery(
                notification=notification,
                recipient=recipient,
                channel=Channel.EMAIL,
                to=recipient.email,
                language=language,
                template_key=event,
                subject=rendered.title,
                body=f"{rendered.body}\n\n{rendered.url}".strip(),
                variables=rendered.variables,
            )
        )
    if wants_whatsapp(recipient):
        deliveries.append(_whatsapp_delivery(recipient, event, rendered, notification=notification))
    _enqueue(Delivery.objects.bulk_create(deliveries))
    return notification


def _whatsapp_delivery(recipient: User, event: str, rendered, *, notification=None, sensitive=False) -> Delivery:
    return Delivery(
        notification=notification,
        recipient=recipient,
        channel=Channel.WHATSAPP,
        to=recipient.phone,
        language=_language(recipient),
        template_key=event,
        body=f"*{rendered.title}*\n{rendered.body}\n{rendered.url}".strip(),
        variables=rendered.variables,
        sensitive=sensitive,
    )


def whatsapp_send_code(*, user: User, phone: str, code: str) -> Delivery:
    """A verification code to a number that is not verified yet (the one exception to "verified
    numbers only"): no in-app notification, and the text is blanked once sent."""
    language = _language(user)
    rendered = messages.render("phone_code", {"code": code}, language=language, zone=user.time_zone)
    delivery = _whatsapp_delivery(user, "phone_code", rendered, sensitive=True)
    delivery.to = phone
    delivery.save()
    _enqueue([delivery])
    return delivery


def whatsapp_send_on_behalf(*, user: User, phone: str, event: str, context: dict, url: str) -> Delivery:
    """A WhatsApp text to someone who is not a user (a trusted contact, issue 15), on `user`'s behalf, in
    their language: no in-app notification, the text and `url` (a share link: a secret) blanked once sent,
    sent at most once through the same outbox, retries and sweep as every delivery. Call inside the
    transaction of the change that causes it."""
    language = _language(user)
    rendered = messages.render(event, context, language=language, zone=user.time_zone)
    variables = dict(rendered.variables)
    variables[str(len(variables) + 1)] = url
    delivery = Delivery.objects.create(
        recipient=user,
        channel=Channel.WHATSAPP,
        to=phone,
        language=language,
        template_key=event,
        body=f"*{rendered.title}*\n{rendered.body}\n{url}".strip(),
        variables=variables,
        sensitive=True,
        on_behalf=True,
    )
    _enqueue([delivery])
    return delivery


def _enqueue(deliveries: list[Delivery]) -> None:
    """Each delivery's task is sent once the caller's transaction commits (never for a rolled-back
    change). Celery's delay_on_commit() would do the same without `robust`: a broker outage would then
    raise out of the commit into the booking or payment that caused the message (and skip the other
    deliveries' tasks). Here it is logged and the change stands; deliveries_sweep sends the row later."""
    for delivery in deliveries:
        _send_after_commit(delivery.pk)


def _send_after_commit(delivery_id: int) -> None:
    def send_delivery() -> None:  # a named function: Django logs a robust callback's failure by its name
        send_delivery_task.delay(delivery_id)

    transaction.on_commit(send_delivery, robust=True)


def notifications_mark_read(*, user: User, notification_ids: list[int] | None = None) -> int:
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    read = unread.update(read_at=timezone.now())
    selectors.unread_changed(user.pk)  # after the update: outside a transaction it moves the version at once
    return read


def notifications_mark_read_about(*, user: User, event: str, reference: str) -> int:
    """Marks read the person's unread notifications of `event` about `reference` (e.g. "new message"
    once the conversation is read); no write when there are none."""
    unread = Notification.objects.filter(
        recipient=user, read_at__isnull=True, event=event, context__reference=reference
    )
    read = unread.update(read_at=timezone.now())
    if read:
        selectors.unread_changed(user.pk)
    return read


def delivery_retry(*, delivery_id: int, actor: User) -> Delivery:
    """Staff send a failed delivery again (admin action)."""
    if not (actor.is_staff and actor.is_active):
        raise NotAllowed(_("Only staff can send a message again."))
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
        if delivery.status not in (Delivery.Status.FAILED, Delivery.Status.UNDELIVERED) or delivery.sensitive:
            return delivery
        if delivery.error_code in REFUSALS or not _still_wanted(delivery):
            return delivery  # the person refused these messages (or changed number): never again
        delivery.status, delivery.attempts, delivery.updated_at = Delivery.Status.PENDING, 0, timezone.now()
        delivery.save(update_fields=["status", "attempts", "updated_at"])
        _enqueue([delivery])
    return delivery


def inbound_record(*, sender: str, body: str, provider_id: str) -> None:
    """Stores the message once (its sid), opening the 24 h window; STOP/BERHENTI turns WhatsApp off for
    the users with that number, START/MULAI back on (both recorded as consent)."""
    number = sender.removeprefix("whatsapp:")
    if not provider_id or not number:
        return
    _message, created = InboundMessage.objects.get_or_create(
        provider_id=provider_id[:64], defaults={"sender": number[:32], "body": body[:1600]}
    )
    if not created:
        return
    granted = replies.consent_word(body)
    if granted is not None:
        word = body.strip().upper().rstrip(".!")
        for user in User.objects.filter(phone=number):
            account_services.user_set_whatsapp_opt_in(user=user, granted=granted, source=f"reply {word}")
