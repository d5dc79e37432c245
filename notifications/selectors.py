from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import get_language

from notifications import messages
from notifications.models import Notification


def notifications_for(user) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).exclude(event="phone_code").order_by("-created_at", "-pk")


def unread_count(user) -> int:
    """What the bell shows: exactly the unread rows the list shows."""
    return notifications_for(user).filter(read_at__isnull=True).count()


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
