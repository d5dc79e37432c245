"""Blocks between two people: the one rule ("either blocked the other") every app asks."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q

from accounts.models import Block, User


def between(first_id: int | None, second_id: int | None) -> bool:
    """Whether either of the two blocked the other (one query)."""
    if not first_id or not second_id:
        return False
    return Block.objects.filter(
        Q(blocker_id=first_id, blocked_id=second_id) | Q(blocker_id=second_id, blocked_id=first_id)
    ).exists()


def blocked_with(user_id: int, user_ref: str = "user_id"):
    """An Exists() expression for a queryset whose `user_ref` column is a user: true where that user and
    `user_id` blocked each other either way (search leaves such companions out)."""
    return Exists(
        Block.objects.filter(
            Q(blocker_id=user_id, blocked_id=OuterRef(user_ref)) | Q(blocker_id=OuterRef(user_ref), blocked_id=user_id)
        )
    )


def block(*, blocker: User, blocked: User) -> bool:
    """Returns whether a new block was made (blocking twice changes nothing)."""
    if blocker.pk == blocked.pk:
        raise ValueError("nobody blocks themselves")
    try:
        with transaction.atomic():
            Block.objects.create(blocker=blocker, blocked=blocked)
            User.objects.filter(pk__in=[blocker.pk, blocked.pk]).update(has_blocks=True)
    except IntegrityError:
        return False
    return True


def unblock(*, blocker: User, blocked_id: int) -> bool:
    with transaction.atomic():
        removed = Block.objects.filter(blocker=blocker, blocked_id=blocked_id).delete()[0] > 0
        if removed:
            for user_id in (blocker.pk, blocked_id):
                still = Block.objects.filter(Q(blocker_id=user_id) | Q(blocked_id=user_id)).exists()
                User.objects.filter(pk=user_id).update(has_blocks=still)
    return removed


def blocked_by(user: User) -> list[Block]:
    """The people this person blocked (settings, to undo), newest first."""
    return list(Block.objects.filter(blocker=user).select_related("blocked").order_by("-created_at"))
