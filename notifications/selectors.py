import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils.translation import get_language

from core import cache as core_cache
from notifications import messages
from notifications.models import Notification

# The bell's count, cached per user while the fragment cache is on: stored with the user's unread
# version, which `unread_changed` moves after every commit that adds or reads notifications, so a count
# made before a change is never served after it (like companions.page_cache's versions).
UNREAD_VERSION_KEY = "notifications:unread-version:{user_id}"
UNREAD_COUNT_KEY = "notifications:unread-count:{user_id}"


def _bell_cached() -> bool:
    """The bell's count is cached on the same switch as the marketplace's per-companion fragments."""
    return settings.COMPANION_FRAGMENT_CACHE_SECONDS > 0


def notifications_for(user) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).exclude(event="phone_code").order_by("-created_at", "-pk")


# Unread notifications of these events are also counted apart, for a badge of their own in the header (a
# "new message" is recorded once per conversation until read: its count is the conversations to read).
BADGE_EVENTS = ("message_new",)


def unread_count(user) -> int:
    """What the bell shows: exactly the unread rows the list shows."""
    return notifications_for(user).filter(read_at__isnull=True).count()


def unread_counts(user) -> tuple[int, int]:
    """(the bell's count, the unread BADGE_EVENTS among them): one query."""
    found = (
        notifications_for(user)
        .filter(read_at__isnull=True)
        .aggregate(total=Count("pk"), badge=Count("pk", filter=Q(event__in=BADGE_EVENTS)))
    )
    return found["total"], found["badge"]


def bell_count(user) -> int:
    return bell_counts(user)[0]


def bell_counts(user) -> tuple[int, int]:
    """`unread_counts`, from the cache when it has them at the user's current unread version (one round
    trip); counted in the database while the fragment cache is off or down."""
    if not _bell_cached():
        return unread_counts(user)
    version_key = UNREAD_VERSION_KEY.format(user_id=user.pk)
    count_key = UNREAD_COUNT_KEY.format(user_id=user.pk)
    try:
        with core_cache.unguarded():
            found = cache.get_many([version_key, count_key])
            version = found.get(version_key)
            if version is None:
                cache.add(version_key, time.time_ns() // 1000, timeout=None)
                version = cache.get(version_key)
    except core_cache.CacheUnavailable:
        return unread_counts(user)
    entry = found.get(count_key)
    if entry is not None and len(entry) == 3 and entry[0] == version:
        return entry[1], entry[2]
    counts = unread_counts(user)
    cache.set(count_key, (version, *counts), timeout=settings.COMPANION_FRAGMENT_CACHE_SECONDS)
    return counts


def unread_changed(user_id: int) -> None:
    """Call inside the transaction that adds or reads the user's notifications: after commit the bell
    counts again (a version that cannot be moved is deleted later, as the page cache's are)."""
    if not _bell_cached():
        return
    key = UNREAD_VERSION_KEY.format(user_id=user_id)

    def recount_the_bell() -> None:
        try:
            with core_cache.unguarded():
                try:
                    cache.incr(key)
                except ValueError:  # not there: the next read starts a new version
                    pass
        except core_cache.CacheUnavailable:
            core_cache.delete_later([key])

    transaction.on_commit(recount_the_bell, robust=True)


@dataclass(frozen=True)
class Item:
    notification: Notification
    title: str
    body: str
    path: str

    @property
    def unread(self) -> bool:
        return self.notification.read_at is None


def rendered(notifications, *, user) -> list[Item]:
    """In the language the user reads the page in, in their time zone."""
    language = get_language() or user.preferred_language
    notifications = list(notifications)
    bookings = messages.bookings_by_reference(str(item.context.get("reference") or "") for item in notifications)
    items = []
    for notification in notifications:
        if notification.event not in messages.CATALOGUE:
            continue
        text = messages.render(
            notification.event, notification.context, language=language, zone=user.time_zone, bookings=bookings
        )
        items.append(Item(notification=notification, title=text.title, body=text.body, path=text.path))
    return items
