"""Demo data for `make run` (composed by web's seed_demo): one history customer has asked for their account
to be deleted, so the admin lists a scheduled deletion and logging in as them (demo password) cancels it.
Idempotent: a customer who already has a deletion request (scheduled, cancelled or purged) is left as is."""

from django.utils import timezone

from accounts.models import User
from privacy import deletion
from privacy.models import DeletionRequest

DELETING_EMAIL = "gilang.ramadhan@kompanion.test"


def seed_deletion() -> int:
    """Returns 1 when a deletion was requested now, else 0."""
    user = User.objects.filter(email=DELETING_EMAIL).first()
    if user is None or DeletionRequest.objects.filter(user=user).exists():
        return 0
    try:
        deletion.deletion_request(user, timezone.now())
    except deletion.DeletionError:
        return 0  # something of theirs still holds time or money: no demo deletion
    return 1
