"""Reading conversations as one of their two parties sees them: a recipient sees masked contact details
where the message was sent before payment; the sender always sees what they wrote."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, Max, Q
from django.utils.translation import gettext as _

from chat import masking
from chat.models import Conversation, Message

PAGE = 30  # messages per page (the newest first shown; older ones on scroll)


def placeholder(kind: str) -> str:
    if kind == masking.PHONE:
        return _("[number hidden]")
    return _("[contact hidden]")


@dataclass(frozen=True)
class Shown:
    """A message as `viewer` sees it."""

    pk: int
    mine: bool
    text: str
    hidden_contacts: bool  # mine, with contacts the other side sees hidden
    created_at: datetime


def shown(message: Message, viewer_id: int) -> Shown:
    mine = message.sender_id == viewer_id
    text = message.text
    if message.masked and not mine:
        text = masking.masked(text, [masking.Span(*span) for span in message.contacts], placeholder)
    return Shown(pk=message.pk, mine=mine, text=text, hidden_contacts=mine and message.masked,
                 created_at=message.created_at)  # fmt: skip


def messages_page(conversation: Conversation, viewer_id: int, *, before: int | None = None) -> tuple[list[Shown], bool]:
    """The newest PAGE messages (before `before`), oldest first, and whether older ones exist (one query)."""
    rows = Message.objects.filter(conversation=conversation)
    if before is not None:
        rows = rows.filter(pk__lt=before)
    found = list(rows.order_by("-pk")[: PAGE + 1])
    more = len(found) > PAGE
    return [shown(message, viewer_id) for message in reversed(found[:PAGE])], more


def messages_after(conversation_id: int, viewer_id: int, after: int) -> list[Shown]:
    """The messages after `after`, in order (a poll: one query, whatever the conversation's length)."""
    rows = Message.objects.filter(conversation_id=conversation_id, pk__gt=after).order_by("pk")[:PAGE]
    return [shown(message, viewer_id) for message in rows]


def conversations_of(user) -> list[Conversation]:
    """The person's conversations, newest first (up to 100), each with `unread` (the other's messages after
    what this person read), `other` (the other party) and `last` (the newest message as this person sees
    it): three queries whatever their number."""
    mine = Q(customer=user) | Q(companion=user)
    rows = list(
        Conversation.objects.filter(mine)
        .select_related("booking", "customer", "companion")
        .annotate(
            unread_as_customer=Count(
                "messages",
                filter=Q(messages__pk__gt=F("customer_read_upto")) & ~Q(messages__sender_id=F("customer_id")),
            ),
            unread_as_companion=Count(
                "messages",
                filter=Q(messages__pk__gt=F("companion_read_upto")) & ~Q(messages__sender_id=F("companion_id")),
            ),
            last_pk=Max("messages__pk"),
        )
        .order_by("-last_message_at", "-pk")[:100]
    )
    last = {message.conversation_id: message for message in Message.objects.filter(pk__in=[r.last_pk for r in rows])}
    for conversation in rows:
        is_customer = conversation.customer_id == user.pk
        conversation.unread = conversation.unread_as_customer if is_customer else conversation.unread_as_companion
        conversation.other_party = conversation.other(user.pk)
        message = last.get(conversation.pk)
        conversation.last = shown(message, user.pk) if message else None
    return rows
