"""What accounts asks of the apps above it, answered by them at startup (their AppConfig.ready()).

accounts sits low in the layering and never imports companions; yet a companion's name and date of
birth, once checked against their KTP, must stay as checked, and a deactivated companion must leave
search at once. Those rules belong to companions, so companions registers them here. Registering the
same function twice (ready() can run more than once in tests) keeps one copy."""

from collections.abc import Callable

from accounts.models import User

IdentityLockCheck = Callable[[User], bool]
ActiveChangedListener = Callable[[User], None]

_identity_lock_checks: list[IdentityLockCheck] = []
_active_changed_listeners: list[ActiveChangedListener] = []


def register_identity_lock(check: IdentityLockCheck) -> None:
    """`check(user)` is True while the user's name and date of birth must not change."""
    if check not in _identity_lock_checks:
        _identity_lock_checks.append(check)


def register_active_changed(listener: ActiveChangedListener) -> None:
    """`listener(user)` runs after staff activate or deactivate the user."""
    if listener not in _active_changed_listeners:
        _active_changed_listeners.append(listener)


def identity_locked(user: User) -> bool:
    return any(check(user) for check in _identity_lock_checks)


def active_changed(user: User) -> None:
    for listener in _active_changed_listeners:
        listener(user)
