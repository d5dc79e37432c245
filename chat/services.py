"""Writing to conversations: open one with a booking, send (in order, once), read, report, block, and the
delayed notice about unread messages. Rules come from chat/rules.py; contact details from chat/masking.py."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import blocks
from accounts.models import User
from chat import masking, rules
from chat.errors import ChatError
from chat.models import MESSAGE_MAX_LENGTH, Conversation, Message, Report, ReportAction
from core.forms import clean_text
from core.locks import LockBusy, lock_one
from notifications.services import notification_record, notifications_mark_read_about


def conversation_open(*, booking) -> Conversation:
    """The booking's conversation (made on first use); the request's note is its first message, sent by
    the customer when the booking was requested. Registered as bookings' on_requested hook."""
    conversation, created = Conversation.objects.get_or_create(
        booking=booking,
        defaults={
            "customer_id": booking.customer_id,
            "companion_id": booking.companion.user_id,
            "created_at": booking.created_at,
            "last_message_at": booking.created_at,  # listed from the request on, even before a word
        },
    )
    if created and booking.note.strip():
        key = uuid.uuid5(uuid.NAMESPACE_URL, f"booking-note:{booking.pk}")
        _store(conversation, sender_id=booking.customer_id, text=booking.note.strip(), booking=booking,
               client_key=key, now=booking.created_at)  # fmt: skip
    return conversation


def _store(conversation, *, sender_id: int, text: str, booking, client_key, now: datetime) -> Message:
    contacts = masking.find_contacts(text)
    concerns = sorted(masking.find_concerns(text))
    message = Message.objects.create(
        conversation=conversation,
        sender_id=sender_id,
        text=text,
        contacts=[list(span) for span in contacts],
        masked=bool(contacts) and rules.masks_contacts(booking),
        concerns=concerns,
        client_key=client_key,
        created_at=now,
    )
    changes = {
        "last_message_at": now,
        conversation.read_field(sender_id): message.pk,
    }  # the sender has read their own message
    if concerns:
        reasons = sorted(set(conversation.flag_reasons) | set(concerns))
        changes.update(flag_reasons=reasons, flagged_at=conversation.flagged_at or now)
    Conversation.objects.filter(pk=conversation.pk).update(**changes)
    for name, value in changes.items():
        setattr(conversation, name, value)
    return message


def message_send(*, booking, sender: User, text: str, client_key, now: datetime | None = None) -> Message:
    """Stores a message once (the form's client_key: a double click or a replayed POST returns the first),
    in order (under the conversation's row lock), and tells the recipient in-app at once. Raises ChatError
    (nothing stored) for an empty, too long, too frequent or forbidden message."""
    now = now or timezone.now()
    text = clean_text(text or "", multiline=True).strip()
    if not text:
        raise ChatError(_("Write a message first."), field="text")
    if len(text) > MESSAGE_MAX_LENGTH:
        raise ChatError(
            _("A message can be at most %(limit)d characters.") % {"limit": MESSAGE_MAX_LENGTH}, field="text"
        )
    rules.check_may_send(booking, sender, now)
    conversation = conversation_open(booking=booking)
    existing = Message.objects.filter(conversation=conversation, sender=sender, client_key=client_key).first()
    if existing is not None:
        return existing
    recent = Message.objects.filter(sender=sender, created_at__gt=now - timedelta(minutes=1)).count()
    if recent >= rules.SEND_LIMIT_PER_MINUTE:
        raise ChatError(_("You are sending messages very fast. Wait a minute, then send again."), field="text")
    try:
        with transaction.atomic():
            locked = lock_one(Conversation, conversation.pk)
            message = _store(locked, sender_id=sender.pk, text=text, booking=booking, client_key=client_key, now=now)
            _tell_in_app(locked, message, sender)
    except IntegrityError:
        # The same client_key committed by a concurrent request a moment ago: that message stands.
        found = Message.objects.filter(conversation=conversation, sender=sender, client_key=client_key).first()
        if found is None:
            raise
        return found
    except LockBusy as error:
        raise ChatError(_("Many messages at once. Please send again in a moment."), field="text") from error
    return message


def _tell_in_app(conversation: Conversation, message: Message, sender: User) -> None:
    """One in-app notification per conversation until the recipient has read it (no text in it)."""
    recipient_id = conversation.other_id(sender.pk)
    read_upto = conversation.read_upto(recipient_id)
    recipient = User.objects.get(pk=recipient_id)
    notification_record(
        recipient=recipient,
        event="message_new",
        context={"reference": conversation.booking.reference, "sender": sender.get_short_name()},
        dedupe_key=f"chat:{conversation.pk}:{recipient_id}:after:{read_upto}",
        deliver=False,
    )


def conversation_read(*, conversation: Conversation, reader: User, upto: int, reference: str = "") -> None:
    """The reader has seen every message up to `upto` (only ever moves forward); the bell's "new message"
    about this conversation (its booking `reference`) is read with it."""
    field = conversation.read_field(reader.pk)
    moved = Conversation.objects.filter(pk=conversation.pk, **{f"{field}__lt": upto}).update(**{field: upto})
    if moved:
        setattr(conversation, field, upto)
        reference = reference or conversation.booking.reference
        notifications_mark_read_about(user=reader, event="message_new", reference=reference)


def report_send(*, booking, reporter: User, category: str, details: str = "", message_id: int | None = None,
                now: datetime | None = None) -> Report:  # fmt: skip
    """A report of a message or the whole conversation. The evidence is frozen: the reported messages (the
    whole conversation, or the message and the ten before it) are copied into the report as written."""
    now = now or timezone.now()
    if rules.party_of(booking, reporter) is None:
        raise ChatError(_("Only the customer and the companion of this booking can report here."))
    conversation = conversation_open(booking=booking)
    messages = Message.objects.filter(conversation=conversation)
    reported = None
    if message_id is not None:
        reported = messages.filter(pk=message_id).first()
        if reported is None:
            raise ChatError(_("That message is not in this conversation."))
        messages = messages.filter(pk__lte=reported.pk).order_by("-pk")[:11]
    evidence = [
        {"id": row.pk, "sender_id": row.sender_id, "sent": row.created_at.isoformat(), "text": row.text}
        for row in sorted(messages, key=lambda row: row.pk)
    ]
    return Report.objects.create(
        conversation=conversation,
        reporter=reporter,
        reported_id=rules.other_party_id(booking, reporter),
        message=reported,
        category=category,
        details=clean_text(details or "", multiline=True).strip()[:2000],
        evidence=evidence,
        created_at=now,
    )


def report_act(*, report: Report, kind: str, note: str, staff: User) -> ReportAction:
    """Staff record what they did; warn, suspend and ban also act on the reported person's account."""
    note = note.strip()
    if not note:
        raise ChatError(_("Say what you did and why: the note is recorded."), field="note")
    with transaction.atomic():
        action = ReportAction.objects.create(report=report, kind=kind, note=note, staff=staff)
        status = Report.Status.CLOSED if kind != ReportAction.Kind.REVIEW else Report.Status.IN_REVIEW
        Report.objects.filter(pk=report.pk).update(status=status)
        report.status = status
        if kind in (ReportAction.Kind.SUSPEND, ReportAction.Kind.BAN):
            from accounts import services as account_services

            # The same recorded decision as from the safety queue (future bookings stopped with refunds).
            account_services.user_deactivate_by_staff(
                user=User.objects.get(pk=report.reported_id), staff=staff, kind=kind, reason=note
            )
    return action


def block_from_booking(*, booking, blocker: User) -> bool:
    if rules.party_of(booking, blocker) is None:
        raise ChatError(_("Only the customer and the companion of this booking can block each other here."))
    return blocks.block(blocker=blocker, blocked=User.objects.get(pk=rules.other_party_id(booking, blocker)))


# --- The delayed notice ---------------------------------------------------------------------------------


def unread_notices_send(now: datetime | None = None) -> int:
    """Every minute (beat): a person with messages unread for UNREAD_NOTICE_AFTER in a conversation, not
    told about that conversation in the last UNREAD_NOTICE_EVERY, gets one email / WhatsApp with the sender's
    name and no text. Returns how many were sent."""
    now = now or timezone.now()
    due = now - rules.UNREAD_NOTICE_AFTER
    quiet_since = now - rules.UNREAD_NOTICE_EVERY
    sent = 0
    candidates = Conversation.objects.filter(last_message_at__lte=due, last_message_at__gte=now - timedelta(days=2))
    for side, other in (("customer", "companion"), ("companion", "customer")):
        rows = (
            candidates.filter(
                Q(**{f"{side}_notified_at__isnull": True}) | Q(**{f"{side}_notified_at__lt": quiet_since})
            )
            .annotate(
                unread_upto=Max(
                    "messages__pk",
                    filter=Q(messages__sender_id=F(f"{other}_id"), messages__created_at__lte=due),
                )
            )
            .filter(unread_upto__gt=F(f"{side}_read_upto"))
            .select_related("booking", side, other)
        )
        for conversation in rows:
            with transaction.atomic():
                claimed = Conversation.objects.filter(
                    Q(pk=conversation.pk)
                    & (Q(**{f"{side}_notified_at__isnull": True}) | Q(**{f"{side}_notified_at__lt": quiet_since}))
                ).update(**{f"{side}_notified_at": now})
                if not claimed:
                    continue  # another sweep took it
                recipient, sender = getattr(conversation, side), getattr(conversation, other)
                notification_record(
                    recipient=recipient,
                    event="message_unread",
                    context={"reference": conversation.booking.reference, "sender": sender.get_short_name()},
                    in_app=False,
                    email=recipient.message_emails,
                )
                sent += 1
    return sent
