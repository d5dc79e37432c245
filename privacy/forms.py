from allauth.account.forms import ResetPasswordForm
from allauth.account.utils import filter_users_by_email
from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import CleanTextMixin, Form
from privacy.deletion import may_log_in_to_cancel


class DeletionConfirmForm(Form):
    confirm = forms.BooleanField(
        label=_("I understand that my account will be deleted and my personal data erased after the grace period."),
        error_messages={"required": _("Tick the box to confirm that you want to delete your account.")},
    )


class GraceResetPasswordForm(CleanTextMixin, ResetPasswordForm):
    """allauth's "forgot password", which looks up active accounts only, also finds a person whose deletion
    is scheduled: they reset the password, log in, and the login cancels the deletion. A suspended or banned
    person is still not found (the same answer as an unknown address: no enumeration)."""

    def clean_email(self) -> str:
        email = super().clean_email()
        if not self.users:
            found = filter_users_by_email(email.lower(), is_active=False, prefer_verified=True)
            self.users = [user for user in found if may_log_in_to_cancel(user)]
        return email
