"""What reviews holds about a person (issue 15, core/personal_data.py): the reviews they wrote and those
about them, each as reviews/rules.py lets the person read it (double-blind, hidden, reviews of a customer
never shown to them); the confidential safety reports they sent (never the staff's note)."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.personal_data import identifiers, iso
from core import personal_data
from core.redact import redact
from reviews import rules
from reviews.models import STAR_FIELDS, Review, SafetyReport


def _review(review: Review, user: User) -> dict:
    written = review.author_id == user.pk
    hidden = review.hidden_at is not None
    row = {
        "booking": review.booking.reference,
        "written_by_you": written,
        "about": (review.subject if written else review.author).get_short_name(),
        "direction": review.direction,
        **{name: getattr(review, name) for name in STAR_FIELDS},
        # A hidden review's text is shown to nobody, its author neither (rules.may_read).
        "text": "" if hidden else review.text,
        "removed_by_kompanion": hidden,
        "written_at": iso(review.created_at),
        "published_at": iso(review.published_at),
        "reply": "" if hidden else review.reply,
        "replied_at": iso(review.replied_at),
    }
    return row


def export_reviews(user: User, ctx: personal_data.ExportContext) -> list[dict]:
    rows = []
    reviews = (
        Review.objects.filter(Q(author_id=user.pk) | Q(subject_id=user.pk))
        .select_related("booking", "author", "subject")
        .order_by("created_at", "pk")
    )
    for review in reviews:
        if review.author_id == user.pk:
            rows.append(_review(review, user))
        elif review.hidden_at is not None and review.published_at is not None:
            # About the person, published but removed: they may know it existed, not what it said.
            rows.append(_review(review, user))
        elif rules.may_read(review, user):
            # About the person: only once published (double-blind), and a review of a customer never.
            rows.append(_review(review, user))
    return rows


def purge_reviews(user: User, ctx: personal_data.PurgeContext) -> None:
    """Reviews stay (a companion's rating and a booking's history rest on them), the author shown as
    "former user" (User.erased_at); the person's names and number go from every text of or about them."""
    needles = identifiers(user)
    if not needles:
        return
    for review in Review.objects.filter(Q(author_id=user.pk) | Q(subject_id=user.pk)).only(
        "pk", "text", "reply", "hidden_reason"
    ):
        text, reply = redact(review.text, needles, ctx.pseudonym), redact(review.reply, needles, ctx.pseudonym)
        reason = redact(review.hidden_reason, needles, ctx.pseudonym)
        if (text, reply, reason) != (review.text, review.reply, review.hidden_reason):
            Review.objects.filter(pk=review.pk).update(text=text, reply=reply, hidden_reason=reason)
    for report in SafetyReport.objects.filter(Q(review__author_id=user.pk) | Q(review__subject_id=user.pk)):
        details, note = (
            redact(report.details, needles, ctx.pseudonym),
            redact(report.staff_note, needles, ctx.pseudonym),
        )
        if (details, note) != (report.details, report.staff_note):
            SafetyReport.objects.filter(pk=report.pk).update(details=details, staff_note=note)


def export_safety_reports(user: User, ctx: personal_data.ExportContext) -> list[dict]:
    # The reporter's side only: what they sent and whether staff handled it (never the staff's note, and
    # never a report about them).
    return [
        {
            "booking": report.review.booking.reference,
            "details": report.details,
            "reported_at": iso(report.created_at),
            "handled": report.handled_at is not None,
        }
        for report in SafetyReport.objects.filter(review__author_id=user.pk)
        .select_related("review__booking")
        .order_by("created_at")
    ]


def register() -> None:
    personal_data.register(
        "reviews",
        # hidden_by: the staff member who hid a review (their work record, kept).
        models=("reviews.Review",),
        export=export_reviews,
        purge=purge_reviews,
        kept=_(
            "Reviews you wrote stay with their stars and text, shown as written by “former user”, without your "
            "name or number: the companion's rating rests on them."
        ),
    )
    personal_data.register(
        "review_safety_reports",
        # handled_by: the staff member who handled it (their work record, kept).
        models=("reviews.SafetyReport",),
        export=export_safety_reports,
        purge=None,
        kept=_("Safety reports you sent with a review stay for our safety records, without your name or number."),
    )
