from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from django import forms
from django.conf import settings
from django.shortcuts import render


class AccountAdapter(DefaultAccountAdapter):
    def get_from_email(self) -> str:
        return settings.DEFAULT_FROM_EMAIL

    def pre_authenticate(self, request, **credentials) -> None:
        """Too many failed logins answer HTTP 429 (allauth shows a form error with 200), so clients,
        proxies and monitoring see the throttle for what it is."""
        try:
            super().pre_authenticate(request, **credentials)
        except forms.ValidationError as error:
            if error.code == "too_many_login_attempts":
                raise ImmediateHttpResponse(render(request, "429.html", status=429)) from error
            raise
