"""What a companion's profile shows of their reviews, without importing reviews.

reviews sits above companions (a review is of a booking), so companions may never import it. The profile
page still lists the customers' published reviews: reviews registers a provider here at startup
(ReviewsConfig.ready()). Without one (companions used alone) the list is empty. The profile's rating
itself is on the profile row (rating_count, rating_total)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class PublicReview:
    """A customer's published review as anyone may read it; `removed`: hidden by Kompanion (no stars,
    no text: the page says so)."""

    author_name: str  # the customer's first name only
    published_at: datetime
    overall: int
    text: str
    reply: str
    removed: bool


_provider: Callable[[int, int], list[PublicReview]] | None = None


def register(provider: Callable[[int, int], list[PublicReview]]) -> None:
    global _provider  # noqa: PLW0603 - set once at startup
    _provider = provider


def public_reviews(profile_id: int, *, limit: int) -> list[PublicReview]:
    """The newest `limit` published reviews of the companion (one query), or [] without a provider."""
    return _provider(profile_id, limit) if _provider is not None else []
