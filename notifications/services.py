from accounts.models import User
from notifications.models import Notification


def notification_record(*, recipient: User, event: str, context: dict | None = None) -> Notification:
    """Call inside the transaction of the change it reports: it commits or rolls back with it."""
    return Notification.objects.create(recipient=recipient, event=event, context=context or {})
