from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import Form


class DeletionConfirmForm(Form):
    confirm = forms.BooleanField(
        label=_("I understand that my account will be deleted and my personal data erased after the grace period."),
        error_messages={"required": _("Tick the box to confirm that you want to delete your account.")},
    )
