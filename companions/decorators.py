from functools import wraps

from django.http import HttpRequest

from accounts.models import Role
from companions import services
from core.decorators import role_required


def companion_required(view):
    """Signed-in companions only (others get 403); passes the companion's profile to the view. Any app's
    companion pages use this (views never import another app's views)."""

    @role_required(Role.COMPANION)
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        return view(request, services.profile_get_or_create(user=request.user), *args, **kwargs)

    return wrapper
