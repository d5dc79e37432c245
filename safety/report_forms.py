"""The report form (a person, from a profile or a booking) and the staff's decision form (the admin's
intermediate page): both clean their text through core.forms."""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import Form
from safety.models import ReportCategory
from safety.reports import DESCRIPTION_MAX_LENGTH


class PersonReportForm(Form):
    category = forms.ChoiceField(
        label=_("What happened?"),
        choices=ReportCategory.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what happened."), "invalid_choice": _("Choose what happened.")},
    )
    description = forms.CharField(
        label=_("Tell us more"),
        help_text=_("What happened, when and where. Only Kompanion's safety team reads it."),
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": DESCRIPTION_MAX_LENGTH}),
        error_messages={
            "required": _("Tell us what happened."),
            "max_length": _("Write at most %(limit_value)d characters."),
        },
    )
    stop_booking = forms.BooleanField(required=False)

    def __init__(self, *args, stop_label=None, **kwargs):
        super().__init__(*args, **kwargs)
        if stop_label is None:
            del self.fields["stop_booking"]
        else:
            self.fields["stop_booking"].label = stop_label


class DecisionForm(Form):
    """The admin's intermediate page: the reason for a decision (recorded, never shown to the reporter)."""

    reason = forms.CharField(
        label=_("Reason (recorded)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 2000}),
        error_messages={"required": _("Say why: the reason is recorded.")},
    )
