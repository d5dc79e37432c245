"""The login that cancels a scheduled deletion (privacy/backends.py lets it through)."""

from django.contrib import messages
from django.contrib.auth import logout
from django.utils.translation import gettext as _

from privacy.deletion import deletion_cancel


def cancel_deletion_on_login(sender, request, user, **kwargs) -> None:
    if user.is_active:
        return
    if deletion_cancel(user):
        if request is not None:
            messages.success(request, _("Your account deletion is cancelled. Welcome back!"))
    elif request is not None:
        logout(request)  # inactive for another reason (suspended meanwhile): no session
