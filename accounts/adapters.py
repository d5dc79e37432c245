from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from django import forms
from django.conf import settings
from django.shortcuts import render


class AccountAdapter(DefaultAccountAdapter):
    def get_from_email(self) -> str:
        return settings.DEFAULT_FROM_EMAIL

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        """The per-account failed-login limit is keyed on the account alone (its normalised email).
        allauth keys it with the current site's domain, which without a fixed site is the Host header
        as sent, port included: Django accepts any port for an allowed host, so changing the port
        made a fresh budget. The per-address limit (10/m/ip) is separate and unchanged. allauth reads
        this key both when counting failures and when a password reset clears them."""
        login = credentials.get("email") or credentials.get("username") or ""
        return "account:" + login.strip().lower()

    def pre_authenticate(self, request, **credentials) -> None:
        """Too many failed logins answer HTTP 429 (allauth shows a form error with 200), so clients,
        proxies and monitoring see the throttle for what it is."""
        try:
            super().pre_authenticate(request, **credentials)
        except forms.ValidationError as error:
            if error.code == "too_many_login_attempts":
                raise ImmediateHttpResponse(render(request, "429.html", status=429)) from error
            raise
