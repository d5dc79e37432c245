"""The booking page's timeline: the steps reached (from the audit events), then those still ahead."""

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _

from bookings import hooks
from bookings.models import Booking, BookingStatus


@dataclass(frozen=True)
class TimelineStep:
    key: str
    label: str
    at: datetime | None
    state: str  # "done", "current", "upcoming", "stopped" (a side branch that ended the booking)
    note: str = ""


MAIN_PATH = (
    BookingStatus.REQUESTED,
    BookingStatus.AWAITING_PAYMENT,
    "paid",
    BookingStatus.CONFIRMED,
    BookingStatus.COMPLETED,
)


def _main_labels() -> dict[str, str]:
    return {
        BookingStatus.REQUESTED: _("Requested"),
        BookingStatus.AWAITING_PAYMENT: _("Accepted"),
        "paid": _("Paid"),
        BookingStatus.CONFIRMED: _("Confirmed"),
        BookingStatus.COMPLETED: _("Completed"),
    }


def _branch_label(event) -> tuple[str, str]:
    to = event.to_status
    if to == BookingStatus.DECLINED:
        if event.actor_id is None:
            return _("Declined automatically"), _("No answer before the deadline.")
        return _("Declined"), event.reason
    labels = {
        BookingStatus.WITHDRAWN: _("Withdrawn"),
        BookingStatus.EXPIRED: _("Expired"),
        BookingStatus.CANCELLED: _("Cancelled"),
        BookingStatus.DISPUTED: _("Dispute opened"),
        BookingStatus.RESOLVED: _("Dispute resolved"),
    }
    notes = {BookingStatus.EXPIRED: _("Not paid before the deadline.")}
    return labels.get(to, to), notes.get(to, event.reason if to == BookingStatus.CANCELLED else "")


def timeline(booking: Booking) -> list[TimelineStep]:
    """Steps reached (from the audit events, oldest first), then the main-path steps still ahead. The
    step matching the current status is `aria-current="step"`."""
    labels = _main_labels()
    steps: list[TimelineStep] = []
    reached: set[str] = set()
    events = list(booking.events.all())
    for index, event in enumerate(events):
        last = index == len(events) - 1
        to = event.to_status
        if to == BookingStatus.AWAITING_PAYMENT and not event.from_status:
            # Instant booking: requested and accepted in one go.
            steps.append(
                TimelineStep(BookingStatus.REQUESTED, labels[BookingStatus.REQUESTED], event.created_at, "done")
            )
            reached.add(BookingStatus.REQUESTED)
        if to == BookingStatus.CONFIRMED:
            steps.append(TimelineStep("paid", labels["paid"], booking.paid_at or event.created_at, "done"))
            reached.add("paid")
        if to in labels:
            note = _("Instant booking") if to == BookingStatus.AWAITING_PAYMENT and not event.from_status else ""
            steps.append(TimelineStep(to, labels[to], event.created_at, "current" if last else "done", note))
            reached.add(to)
        else:
            label, note = _branch_label(event)
            steps.append(TimelineStep(to, label, event.created_at, "stopped" if last else "done", note))
    extra = hooks.timeline_steps(booking)  # the safety steps (safety registers them), merged by time
    if extra:
        steps = sorted(steps + list(extra), key=lambda step: step.at)
    if booking.status in (BookingStatus.REQUESTED, BookingStatus.AWAITING_PAYMENT, BookingStatus.CONFIRMED):
        steps += [TimelineStep(key, labels[key], None, "upcoming") for key in MAIN_PATH if key not in reached]
    return steps
