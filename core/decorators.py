from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.views.decorators.cache import never_cache


def role_required(role: str):
    """Signed-in users with `role` only: visitors are sent to log in, other roles get 403. Pages are
    personal, so never cached."""

    def decorator(view):
        @login_required
        @never_cache
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.user.role != role:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def is_trusted_staff(user) -> bool:
    """Staff who may see other people's data outside the admin: active, staff, and signed in with
    two-factor login (the same bar as the admin itself)."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.utils import is_mfa_enabled

    return bool(
        user.is_authenticated and user.is_active and user.is_staff and is_mfa_enabled(user, [Authenticator.Type.TOTP])
    )
