import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from chat.models import MESSAGE_MAX_LENGTH, ReportCategory
from core.forms import Form


class MessageForm(Form):
    text = forms.CharField(
        label=_("Message"),
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": MESSAGE_MAX_LENGTH}),
        error_messages={
            "required": _("Write a message first."),
            "max_length": _("A message can be at most %(limit_value)d characters."),
        },
    )
    # A new key for every form shown: the same key twice (a double click, a replayed POST) is one message.
    client_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)


class ReportForm(Form):
    category = forms.ChoiceField(label=_("What happened?"), choices=ReportCategory.choices, widget=forms.RadioSelect)
    details = forms.CharField(
        label=_("Details for our team (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000}),
    )
    message = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
