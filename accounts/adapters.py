from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.core.exceptions import ImmediateHttpResponse
from django import forms
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.sites.shortcuts import get_current_site
from django.shortcuts import render
from django.utils.crypto import get_random_string

from accounts.tasks import email_as_dict, send_email_task


class AccountAdapter(DefaultAccountAdapter):
    def get_from_email(self) -> str:
        return settings.DEFAULT_FROM_EMAIL

    def send_mail(self, template_prefix: str, email: str, context_data: dict) -> None:
        """Rendered here (it needs the request), sent by a task after the response: a sign-up (and a
        password reset) answers in the same time whether or not the address has an account, instead
        of waiting for SMTP on one path only. In-process (make run, tests) the task runs at once."""
        request = context.request
        values = {"request": request, "email": email, "current_site": get_current_site(request)}
        values.update(context_data)
        send_email_task.delay(email_as_dict(self.render_mail(template_prefix, email, values)))

    def send_account_already_exists_mail(self, email: str) -> None:
        """A sign-up with an address that has an account creates nothing, yet hashes a password as a
        new account does (the hashing is most of a sign-up's time), so the answer takes as long."""
        make_password(get_random_string(32))
        super().send_account_already_exists_mail(email)

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
