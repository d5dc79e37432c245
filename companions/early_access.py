"""Early access (issue 17, Kompanion Plus): a newly verified companion, first listed within the last
EARLY_ACCESS, shows only to members, in search and on the profile page; everyone else gets what they would
get for an unlisted profile (no result, a 404).

companions sits below products, so it asks this registry, which products fills at startup
(ProductsConfig.ready(): `register(member=...)`). With nothing registered (companions tested alone) nobody is
held back: every listed companion shows to everyone.

The pages cache what they render (page_cache.py): the search's key carries the viewer's `sees_new`, and a
profile that is still new is never stored in the page cache (members and non-members get different answers
for it), so no viewer is ever served another's page. The early window ends with the clock, not with a write:
the search pages' half-hour bucket re-renders them (a non-member may see a companion up to 30 minutes after
the 48 hours, never before)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

EARLY_ACCESS = timedelta(hours=48)


@dataclass
class _Registry:
    member: Callable[..., bool] | None = None


_registry = _Registry()


def register(*, member: Callable[..., bool]) -> None:
    """member(user, now) -> bool: whether this viewer (possibly anonymous) has early access at `now` (one
    provider; a second registration replaces the first). It should answer without a query for viewers who
    cannot be members (anonymous, companions)."""
    _registry.member = member


def registered() -> tuple:
    return (_registry.member,) if _registry.member else ()


def active() -> bool:
    """Whether early access holds anyone back (a provider is registered)."""
    return _registry.member is not None


def sees_new(viewer, now: datetime) -> bool:
    """Whether `viewer` sees companions still in their early window (always, with nothing registered)."""
    if _registry.member is None:
        return True
    if not getattr(viewer, "is_authenticated", False):
        return False
    return bool(_registry.member(viewer, now))


def listed_by(now: datetime) -> datetime:
    """Companions first listed at or before this moment are out of their early window at `now`."""
    return now - EARLY_ACCESS


def is_new(profile, now: datetime) -> bool:
    """Still in its early window at `now` (only while early access is active)."""
    return active() and profile.listed_at is not None and profile.listed_at > listed_by(now)


def hidden_from(profile, viewer, now: datetime) -> bool:
    """A new companion that `viewer` may not see yet (asks about the viewer only for a new companion)."""
    return is_new(profile, now) and not sees_new(viewer, now)
