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
