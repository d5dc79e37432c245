"""What bookings tells the layers above it, without importing them.

bookings sits below payments (payments calls booking services to confirm a paid booking), so bookings
may not import payments. Yet some booking transitions move money: a booking that stops waiting for
payment must close its open checkouts, and a completed, cancelled or resolved booking settles its escrow.
payments fills this registry at startup (PaymentsConfig.ready()) and the booking services call it.

Handlers run synchronously, inside the transaction of the transition that calls them, so the ledger
postings commit or roll back together with the booking's new status. With nothing registered (bookings
tested alone) the calls do nothing; a test asserts that the real app registers payments' handlers.

The same goes for the booking page's payment card: payments registers `payment_summary`, which gives the
customer's receipt and refunds for a booking; and for its reviews card: reviews registers `review_summary`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class Settled:
    """The kinds passed to `on_settled` handlers: how the booking ended."""

    COMPLETED = "completed"
    CANCELLED = "cancelled"
    RESOLVED = "resolved"


@dataclass
class _Registry:
    requested: list[Callable[..., None]] = field(default_factory=list)
    left_unpaid: list[Callable[..., None]] = field(default_factory=list)
    settled: list[Callable[..., None]] = field(default_factory=list)
    payment_summary: Callable[..., dict[str, Any]] | None = None
    review_summary: Callable[..., dict[str, Any] | None] | None = None
    customer_reviews: Callable[..., dict[int, Any]] | None = None
    safety_card: Callable[..., dict[str, Any] | None] | None = None
    timeline_steps: Callable[..., list[Any]] | None = None
    discount: Callable[..., Any] | None = None
    discount_quote: Callable[..., Any] | None = None
    status_changed: list[Callable[..., None]] = field(default_factory=list)
    commission_cut: Callable[..., int] | None = None
    member_discount: Callable[..., Any] | None = None
    free_cancellation_notice: Callable[..., Any] | None = None
    member_ids: Callable[..., set[int]] | None = None


_registry = _Registry()


def register(
    *,
    on_requested: Callable[..., None] | None = None,
    on_left_unpaid: Callable[..., None] | None = None,
    on_settled: Callable[..., None] | None = None,
    payment_summary: Callable[..., dict[str, Any]] | None = None,
    review_summary: Callable[..., dict[str, Any] | None] | None = None,
    customer_reviews: Callable[..., dict[int, Any]] | None = None,
    safety_card: Callable[..., dict[str, Any] | None] | None = None,
    timeline_steps: Callable[..., list[Any]] | None = None,
    discount: Callable[..., Any] | None = None,
    discount_quote: Callable[..., Any] | None = None,
    on_status_changed: Callable[..., None] | None = None,
    commission_cut: Callable[..., int] | None = None,
    member_discount: Callable[..., Any] | None = None,
    free_cancellation_notice: Callable[..., Any] | None = None,
    member_ids: Callable[..., set[int]] | None = None,
) -> None:
    """Registers handlers (once each: registering the same function again changes nothing).

    - on_requested(booking=...): a booking was just requested (its conversation opens with its note).
    - on_left_unpaid(booking=...): the booking left awaiting_payment for anything but confirmed.
    - on_settled(booking=..., kind=Settled.*): the booking completed, was cancelled or was resolved.
    - payment_summary(booking) -> {"refunds": [...], "receipt": Payment | None}: the customer's payment
      card on the booking page (one provider; a second registration replaces the first).
    - review_summary(booking, user, now) -> dict | None: the reviews card on the booking page for that
      user (one provider, like payment_summary).
    - customer_reviews(customer_ids) -> {customer_id: summary}: what companions wrote of these customers,
      for the requests in a companion's inbox (the only place a companion reads them).
    - safety_card(booking, user, now) -> dict | None: the safety card on the booking page for that user (the
      check-in code, sharing, "I'm fine", SOS; safety registers it; one provider).
    - timeline_steps(booking) -> [TimelineStep]: more steps of the booking's timeline (the safety steps),
      merged by time among the steps reached (one provider).
    - discount(customer, profile, activity, start, hours, price, code, now) -> reservation | None: the
      discount of a new request (promotions; one provider). Called inside booking_request's transaction
      before the booking is created: it reserves atomically (or raises a BookingError, and nothing is
      written) and returns an object with `discount` (whole Rupiah) and `attach(booking)`, called once the
      booking exists.
    - discount_quote(customer, profile, activity, start, hours, code, now) -> quote: what the request page
      shows before anything is reserved (promotions.services.quote: discount, total, label, reason, source;
      one provider). It may raise promotions' rate-limit error, which the page shows as a form error.
    - on_status_changed(booking=..., previous=..., to=...): any status change (transitions.change_status),
      inside its transaction (promotions consumes or releases the booking's redemption).
    - commission_cut(profile, now) -> basis points: how much lower this companion's commission is at `now`
      (a referral reward; promotions; one provider). bookings.pricing takes it off the level's commission.
    - member_discount(customer, price, now) -> perk | None: the customer's membership part of the discount
      (Kompanion Plus: half the service fee; products; one provider), taken before promotions' part, which is
      capped within what remains (the snapshot's `discount` is the sum). The perk has `discount` (whole Rupiah,
      > 0) and `attach(booking)`, called once the booking exists (it records the part); the request page
      only reads `discount`.
    - free_cancellation_notice(customer, booked_at, now) -> timedelta | None: how long before the start a
      customer's cancellation still gets everything back, when it differs from the policy's default (Plus:
      12 hours; products; one provider). bookings/policy.py asks it through `full_refund_notice`.
    - member_ids(customer_ids, now) -> set of ids: which of these customers are members now (the Plus
      badge companions see on requests; one query for a whole list; products; one provider)."""
    if on_requested is not None and on_requested not in _registry.requested:
        _registry.requested.append(on_requested)
    if on_left_unpaid is not None and on_left_unpaid not in _registry.left_unpaid:
        _registry.left_unpaid.append(on_left_unpaid)
    if on_settled is not None and on_settled not in _registry.settled:
        _registry.settled.append(on_settled)
    if payment_summary is not None:
        _registry.payment_summary = payment_summary
    if review_summary is not None:
        _registry.review_summary = review_summary
    if customer_reviews is not None:
        _registry.customer_reviews = customer_reviews
    if safety_card is not None:
        _registry.safety_card = safety_card
    if timeline_steps is not None:
        _registry.timeline_steps = timeline_steps
    if discount is not None:
        _registry.discount = discount
    if discount_quote is not None:
        _registry.discount_quote = discount_quote
    if on_status_changed is not None and on_status_changed not in _registry.status_changed:
        _registry.status_changed.append(on_status_changed)
    if commission_cut is not None:
        _registry.commission_cut = commission_cut
    if member_discount is not None:
        _registry.member_discount = member_discount
    if free_cancellation_notice is not None:
        _registry.free_cancellation_notice = free_cancellation_notice
    if member_ids is not None:
        _registry.member_ids = member_ids


def registered() -> dict[str, tuple]:
    """What is registered (for tests and checks)."""
    return {
        "requested": tuple(_registry.requested),
        "left_unpaid": tuple(_registry.left_unpaid),
        "settled": tuple(_registry.settled),
        "payment_summary": (_registry.payment_summary,) if _registry.payment_summary else (),
        "review_summary": (_registry.review_summary,) if _registry.review_summary else (),
        "customer_reviews": (_registry.customer_reviews,) if _registry.customer_reviews else (),
        "safety_card": (_registry.safety_card,) if _registry.safety_card else (),
        "timeline_steps": (_registry.timeline_steps,) if _registry.timeline_steps else (),
        "discount": (_registry.discount,) if _registry.discount else (),
        "discount_quote": (_registry.discount_quote,) if _registry.discount_quote else (),
        "status_changed": tuple(_registry.status_changed),
        "commission_cut": (_registry.commission_cut,) if _registry.commission_cut else (),
        "member_discount": (_registry.member_discount,) if _registry.member_discount else (),
        "free_cancellation_notice": (
            (_registry.free_cancellation_notice,) if _registry.free_cancellation_notice else ()
        ),
        "member_ids": (_registry.member_ids,) if _registry.member_ids else (),
    }


def requested(*, booking) -> None:
    """Call inside the transaction that created `booking`."""
    for handler in _registry.requested:
        handler(booking=booking)


def left_unpaid(*, booking) -> None:
    """Call inside the transaction that moved `booking` out of awaiting_payment (not to confirmed)."""
    for handler in _registry.left_unpaid:
        handler(booking=booking)


def settled(*, booking, kind: str) -> None:
    """Call inside the transaction that moved `booking` to completed, cancelled or resolved."""
    for handler in _registry.settled:
        handler(booking=booking, kind=kind)


def payment_summary(booking) -> dict[str, Any]:
    """The customer's receipt and refunds for the booking page; empty without a provider."""
    if _registry.payment_summary is None:
        return {"refunds": [], "receipt": None}
    return _registry.payment_summary(booking)


def review_summary(*, booking, user, now) -> dict[str, Any] | None:
    """The reviews card of the booking page for `user`, or None (nothing registered, nothing to show)."""
    if _registry.review_summary is None:
        return None
    return _registry.review_summary(booking, user, now)


def customer_reviews(customer_ids: list[int]) -> dict[int, Any]:
    """What companions wrote of these customers (see `register`); {} when nothing is registered."""
    if _registry.customer_reviews is None or not customer_ids:
        return {}
    return _registry.customer_reviews(customer_ids)


def safety_card(*, booking, user, now) -> dict[str, Any] | None:
    """The safety card of the booking page for `user`, or None (nothing registered, nothing to show)."""
    if _registry.safety_card is None:
        return None
    return _registry.safety_card(booking, user, now)


def timeline_steps(booking) -> list[Any]:
    """More timeline steps (the safety steps); [] when nothing is registered."""
    if _registry.timeline_steps is None:
        return []
    return _registry.timeline_steps(booking)


def discount(*, customer, profile, activity, start, hours, price, code: str, now):
    """The reserved discount of a new request (see `register`), or None: nothing registered, or no discount."""
    if _registry.discount is None:
        return None
    return _registry.discount(
        customer=customer, profile=profile, activity=activity, start=start, hours=hours, price=price, code=code, now=now
    )


def discount_quote(*, customer, profile, activity, start, hours, code: str, now, member_discount: int = 0):
    """The discount the request page shows (see `register`), or None when nothing is registered. With a
    `member_discount` (see `member_discount`) the quote's own part is capped within what remains and its total
    is net of both parts."""
    if _registry.discount_quote is None:
        return None
    return _registry.discount_quote(
        customer=customer,
        profile=profile,
        activity=activity,
        start=start,
        hours=hours,
        code=code,
        now=now,
        member_discount=member_discount,
    )


def status_changed(*, booking, previous: str, to: str) -> None:
    """Call inside the transaction that moved `booking` from `previous` to `to`."""
    for handler in _registry.status_changed:
        handler(booking=booking, previous=previous, to=to)


def commission_cut(*, profile, now) -> int:
    """Basis points off the companion's commission at `now` (see `register`); 0 when nothing is registered."""
    if _registry.commission_cut is None:
        return 0
    return _registry.commission_cut(profile, now)


def member_discount(*, customer, price, now):
    """The membership part of a new request's discount (see `register`), or None: nothing registered, not a
    member, or nothing to take off."""
    if _registry.member_discount is None or getattr(customer, "pk", None) is None:
        return None
    perk = _registry.member_discount(customer=customer, price=price, now=now)
    return perk if perk is not None and perk.discount > 0 else None


def free_cancellation_notice(*, customer, booked_at, now):
    """The customer's own free-cancellation notice (see `register`), or None: the policy's default applies."""
    if _registry.free_cancellation_notice is None or getattr(customer, "pk", None) is None:
        return None
    return _registry.free_cancellation_notice(customer=customer, booked_at=booked_at, now=now)


def member_ids(customer_ids, *, now) -> set[int]:
    """Which of these customers are members at `now` (see `register`); empty when nothing is registered."""
    ids = sorted({pk for pk in customer_ids if pk})
    if _registry.member_ids is None or not ids:
        return set()
    return set(_registry.member_ids(ids, now))
