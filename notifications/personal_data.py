"""What notifications holds about a person (issue 15, core/personal_data.py): their in-app notifications
(rendered as the bell shows them) and every email and WhatsApp delivery to them; the WhatsApp messages to
and from their number (the dev outbox, the inbound messages).

Notifications *to others* that name the person (a booking request, a new message) are taken care of by
the bookings app's purge, which knows which bookings are theirs (notifications sits below bookings)."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.personal_data import identifiers, iso
from core import personal_data
from core.redact import redact, redact_json
from notifications import messages
from notifications.models import Delivery, InboundMessage, Notification, OutboxMessage


def export_notifications(user: User, ctx: personal_data.ExportContext) -> list[dict]:
    rows = list(Notification.objects.filter(recipient_id=user.pk).order_by("created_at", "id"))
    bookings = messages.bookings_by_reference(str(row.context.get("reference") or "") for row in rows)
    result = []
    for row in rows:
        title = body = ""
        if row.event in messages.CATALOGUE:
            text = messages.render(
                row.event, row.context, language=user.preferred_language, zone=user.time_zone, bookings=bookings
            )
            title, body = text.title, text.body
        result.append(
            {"time": iso(row.created_at), "event": row.event, "title": title, "text": body, "read_at": iso(row.read_at)}
        )
    return result


def export_deliveries(user: User, ctx: personal_data.ExportContext) -> list[dict]:
    return [
        {
            "time": iso(row.created_at),
            "channel": row.channel,
            "to": row.to,
            "to_trusted_contact": getattr(row, "on_behalf", False),
            "subject": row.subject,
            # A one-time code is blanked once sent (sensitive): it never reaches an export either.
            "text": "" if row.sensitive else row.body,
            "status": row.status,
            "sent_at": iso(row.sent_at),
        }
        for row in Delivery.objects.filter(recipient_id=user.pk).order_by("created_at", "id").iterator()
    ]


def _numbers(user: User) -> list[str]:
    if not user.phone:
        return []
    return [user.phone, f"whatsapp:{user.phone}"]


def purge_notifications(user: User, ctx: personal_data.PurgeContext) -> None:
    """The person's notifications keep what happened and when; their texts and addresses go."""
    Notification.objects.filter(recipient_id=user.pk).exclude(context={}).update(context={})
    Delivery.objects.filter(recipient_id=user.pk).exclude(
        body="", subject="", variables=[], to="", last_error=""
    ).update(body="", subject="", variables=[], to="", last_error="")
    numbers = _numbers(user)
    if numbers:
        OutboxMessage.objects.filter(to__in=numbers).delete()
        InboundMessage.objects.filter(sender__in=numbers).delete()
    needles = identifiers(user)
    if needles:
        # The dev outbox's messages to others that name the person (a trusted contact's message).
        mentions = Q()
        for needle in needles:
            mentions |= Q(body__icontains=needle)
        for row in OutboxMessage.objects.filter(mentions).only("pk", "body"):
            OutboxMessage.objects.filter(pk=row.pk).update(body=redact(row.body, needles, ctx.pseudonym))


def redact_about(notifications, deliveries, needles: list[str], replacement: str) -> None:
    """Takes the person's names and number out of notifications and deliveries to others (called by the
    bookings purge with the rows about the person's bookings)."""
    if not needles:
        return
    for row in notifications.only("pk", "context"):
        context = redact_json(row.context, needles, replacement)
        if context != row.context:
            Notification.objects.filter(pk=row.pk).update(context=context)
    for row in deliveries.only("pk", "subject", "body", "variables", "to"):
        subject, body = redact(row.subject, needles, replacement), redact(row.body, needles, replacement)
        variables = redact_json(row.variables, needles, replacement)
        if (subject, body, variables) != (row.subject, row.body, row.variables):
            Delivery.objects.filter(pk=row.pk).update(subject=subject, body=body, variables=variables)


def register() -> None:
    personal_data.register(
        "notifications",
        models=("notifications.Notification", "notifications.OutboxMessage", "notifications.InboundMessage"),
        export=export_notifications,
        purge=purge_notifications,
        kept=_("That a notification was sent, on which channel and when stays; its text and your address go."),
    )
    personal_data.register(
        "deliveries",
        models=("notifications.Delivery",),
        export=export_deliveries,
        purge=None,  # purge_notifications blanks them with the notifications
    )
