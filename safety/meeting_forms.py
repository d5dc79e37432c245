"""The forms of safety at meetings: the check-in code and the trusted contact."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import PhoneField
from core.forms import Form


class CheckInForm(Form):
    code = forms.CharField(
        label=_("Check-in code from the customer"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9 ]*", "class": "input w-40"}
        ),
    )


class TrustedContactForm(Form):
    name = forms.CharField(label=_("Name"), max_length=80, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    phone = PhoneField(
        label=_("WhatsApp number"),
        help_text=_("For example 0812-3456-7890."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
