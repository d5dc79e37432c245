"""What companions' pages need to know about bookings, without importing bookings.

bookings sits above companions (a booking is of a companion profile), so companions may never import
bookings. Availability and search still need the time that bookings hold, and the admin shows a
companion's reliability. bookings registers a provider here at startup (BookingsConfig.ready()).

Without a provider (companions used alone) nothing is held and reliability is zero.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet


@dataclass(frozen=True)
class Reliability:
    paid_bookings: int
    companion_cancellations: int


@dataclass(frozen=True)
class Provider:
    # held_spans(now): a queryset of the rows that hold a companion's time at `now`, with (at least) the
    # fields companion_id, start, end and hold_until (end + the buffer at booking time). Callers filter
    # it further: by profile for the availability engine, with OuterRef("pk") inside Exists for search.
    held_spans: Callable[[datetime], QuerySet]
    # reliability(profile_id): paid bookings and cancellations by the companion among them.
    reliability: Callable[[int], Reliability]


_provider: Provider | None = None


def register(provider: Provider) -> None:
    global _provider
    _provider = provider


def registered() -> Provider | None:
    return _provider


def held_spans(now: datetime) -> QuerySet | None:
    """Rows holding time at `now` (see Provider.held_spans); None when no provider is registered."""
    return _provider.held_spans(now) if _provider is not None else None


def reliability(profile_id: int) -> Reliability:
    if _provider is None:
        return Reliability(paid_bookings=0, companion_cancellations=0)
    return _provider.reliability(profile_id)
