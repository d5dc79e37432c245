"""The admin site: only active staff with two-factor login (TOTP) get in."""

from allauth.account.decorators import secure_admin_login
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _


class KompanionAdminSite(admin.AdminSite):
    site_header = "Kompanion admin"
    site_title = "Kompanion admin"
    index_title = "Kompanion"

    def has_permission(self, request: HttpRequest) -> bool:
        from allauth.mfa.models import Authenticator

        user = request.user
        return bool(user.is_active and user.is_staff and is_mfa_enabled(user, [Authenticator.Type.TOTP]))

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        """Signing in happens in allauth (password, then the TOTP code); staff who have not turned
        on two-factor login are sent to set it up; anyone else gets 403."""
        user = request.user
        if user.is_authenticated and user.is_active and user.is_staff and not self.has_permission(request):
            messages.warning(request, _("Turn on two-factor login before opening the admin."))
            return redirect("mfa_activate_totp")
        return secure_admin_login(super().login)(request, extra_context)
