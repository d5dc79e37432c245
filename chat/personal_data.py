"""What chat holds about a person (issue 15, core/personal_data.py): the messages of their conversations as
they were shown to them (contact details the other side hid stay hidden), and the chat reports they made
(the reporter's side only: never a report about them, never the frozen evidence)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.personal_data import identifiers, iso
from chat import selectors
from chat.models import Conversation, Message, Report, ReportAction
from core import personal_data
from core.redact import ERASED_TEXT, redact, redact_json


def conversations_of(user: User):
    return Conversation.objects.filter(Q(customer_id=user.pk) | Q(companion_id=user.pk))


def iter_messages(user: User) -> Iterator[dict]:
    """One row per message, conversation by conversation, read in chunks (10,000 messages stay cheap)."""
    conversations = {
        conversation.pk: conversation
        for conversation in conversations_of(user).select_related("booking", "customer", "companion")
    }
    rows = Message.objects.filter(conversation_id__in=list(conversations)).order_by("conversation_id", "pk")
    for message in rows.iterator(chunk_size=2000):
        conversation = conversations[message.conversation_id]
        seen = selectors.shown(message, user.pk)
        yield {
            "booking": conversation.booking.reference,
            "from": "you" if seen.mine else conversation.other(user.pk).get_short_name(),
            "sent": iso(message.created_at),
            "text": seen.text,
        }


def export_messages(user: User, ctx: personal_data.ExportContext) -> Iterator[dict]:
    """An iterator, not a list (the one kind that runs to thousands of rows): the export writes each row as
    it comes, so memory stays flat however long the person's conversations are."""
    return iter_messages(user)


def purge_messages(user: User, ctx: personal_data.PurgeContext) -> None:
    """What they wrote goes (the row stays as "[deleted]", so the other side's conversation still reads in
    order); their names and number go from what the other side wrote to them."""
    Message.objects.filter(sender_id=user.pk).exclude(text=ERASED_TEXT).update(
        text=ERASED_TEXT, contacts=[], masked=False, concerns=[]
    )
    needles = identifiers(user)
    if not needles:
        return
    others = Message.objects.filter(conversation__in=conversations_of(user)).exclude(sender_id=user.pk)
    for message in others.only("pk", "text", "contacts").iterator(chunk_size=2000):
        text = redact(message.text, needles, ctx.pseudonym)
        if text != message.text:
            # The contact spans pointed into the old text: the number they marked is the one replaced.
            Message.objects.filter(pk=message.pk).update(text=text, contacts=[], masked=False)


def export_reports(user: User, ctx: personal_data.ExportContext) -> list[dict]:
    return [
        {
            "booking": report.conversation.booking.reference,
            "category": report.category,
            "details": report.details,
            "status": report.status,
            "reported_at": iso(report.created_at),
        }
        for report in Report.objects.filter(reporter_id=user.pk)
        .select_related("conversation__booking")
        .order_by("created_at")
    ]


def _scrub_evidence(evidence: list, user_id: int, needles: list[str], replacement: str) -> list:
    cleaned = []
    for item in evidence:
        if isinstance(item, dict) and item.get("sender_id") == user_id:
            item = {**item, "text": ERASED_TEXT}
        cleaned.append(redact_json(item, needles, replacement))
    return cleaned


def purge_reports(user: User, ctx: personal_data.PurgeContext) -> None:
    """Reports stay for the safety record (made by or about the person); the person's own messages in the
    frozen evidence go like the messages themselves, and their names and number from every text."""
    needles = identifiers(user)
    reports = Report.objects.filter(Q(reporter_id=user.pk) | Q(reported_id=user.pk))
    for report in reports.only("pk", "details", "evidence"):
        details = redact(report.details, needles, ctx.pseudonym)
        evidence = _scrub_evidence(report.evidence or [], user.pk, needles, ctx.pseudonym)
        if (details, evidence) != (report.details, report.evidence):
            Report.objects.filter(pk=report.pk).update(details=details, evidence=evidence)
    for action in ReportAction.objects.filter(report__in=reports).only("pk", "note"):
        note = redact(action.note, needles, ctx.pseudonym)
        if note != action.note:
            ReportAction.objects.filter(pk=action.pk).update(note=note)


def register() -> None:
    personal_data.register(
        "messages",
        # StaffRead: which staff member opened a conversation (their work record, kept).
        models=("chat.Conversation", "chat.Message", "chat.StaffRead"),
        export=export_messages,
        purge=purge_messages,
        kept=_(
            "Conversations stay for the other person with your messages shown as “[deleted]”, until they are "
            "removed one year after the booking."
        ),
    )
    personal_data.register(
        "chat_reports",
        models=("chat.Report", "chat.ReportAction"),
        export=export_reports,
        purge=purge_reports,
        kept=_("Reports stay for our safety records, without your messages, name or number."),
    )
