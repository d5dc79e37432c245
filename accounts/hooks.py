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
# Staff switching a person off from outside the safety queue (the user admin, a chat report): the app that
# owns moderation does it whole (recorded, future bookings stopped with refunds, sessions ended).
_staff_deactivation: list[Callable[..., None]] = []


def register_identity_lock(check: IdentityLockCheck) -> None:
    """`check(user)` is True while the user's name and date of birth must not change."""
    if check not in _identity_lock_checks:
        _identity_lock_checks.append(check)


def register_active_changed(listener: ActiveChangedListener) -> None:
    """`listener(user)` runs after staff activate or deactivate the user."""
    if listener not in _active_changed_listeners:
        _active_changed_listeners.append(listener)


def register_staff_deactivation(handler: Callable[..., None]) -> None:
    """`handler(user=, staff=, kind="suspend"|"ban", reason=)` switches the person off as a recorded
    moderation decision (one handler: a second registration replaces the first)."""
    _staff_deactivation[:] = [handler]


def staff_deactivation(*, user: User, staff: User, kind: str, reason: str) -> bool:
    """Runs the registered handler; False when none is registered (accounts alone)."""
    if not _staff_deactivation:
        return False
    _staff_deactivation[0](user=user, staff=staff, kind=kind, reason=reason)
    return True


def identity_locked(user: User) -> bool:
    return any(check(user) for check in _identity_lock_checks)


def active_changed(user: User) -> None:
    for listener in _active_changed_listeners:
        listener(user)


# The invitation (referral) programme belongs to promotions: the sign-up form asks it here. The invitation
# link leaves its code in the session under this key; the sign-up form shows it.
INVITATION_SESSION_KEY = "invitation_code"
_invitation: dict[str, Callable[..., object]] = {}


def register_invitation(*, check: Callable[[str], str | None], signed_up: Callable[..., None]) -> None:
    """`check(code) -> error message | None` for a code typed on the sign-up form; `signed_up(user=,
    invitation_code=, request=)` inside the sign-up's transaction (one provider)."""
    _invitation.update(check=check, signed_up=signed_up)


def invitation_enabled() -> bool:
    return bool(_invitation)


def invitation_error(code: str) -> str | None:
    """Why a typed invitation code is not accepted (None: empty or valid, or no programme registered)."""
    if "check" not in _invitation:
        return None
    return _invitation["check"](code)


def signed_up(*, user: User, invitation_code: str, request=None) -> None:
    if "signed_up" in _invitation:
        _invitation["signed_up"](user=user, invitation_code=invitation_code, request=request)
