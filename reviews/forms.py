from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import Form
from reviews.models import TEXT_MAX_LENGTH, Direction

STAR_CHOICES = [(value, f"{value} ★") for value in range(5, 0, -1)]


def _stars(label) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=STAR_CHOICES,
        coerce=int,
        widget=forms.RadioSelect(attrs={"class": "star-choice"}),
        error_messages={"required": _("Choose 1 to 5 stars."), "invalid_choice": _("Choose 1 to 5 stars.")},
    )


class ReviewForm(Form):
    overall = _stars(_("Overall"))
    punctuality = _stars(_("Punctuality"))
    communication = _stars(_("Communication"))
    as_described = _stars(_("As described"))
    respected_boundaries = _stars(_("Respected my boundaries"))
    text = forms.CharField(
        label=_("Your review"),
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": TEXT_MAX_LENGTH}),
    )

    def __init__(self, *args, direction: str = Direction.OF_COMPANION, **kwargs):
        super().__init__(*args, **kwargs)
        if direction == Direction.OF_COMPANION:
            self.fields["as_described"].label = _("As described on the profile")
            self.fields["text"].help_text = _("Other customers read it on the companion's profile.")
        else:
            self.fields["as_described"].label = _("The request was as described")
            self.fields["text"].help_text = _(
                "Never public: only companions this customer asks to book later can read it."
            )


class ReplyForm(Form):
    reply = forms.CharField(
        label=_("Your public answer"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": TEXT_MAX_LENGTH}),
        help_text=_("Shown under the review on your profile. You can answer once; it cannot be changed."),
        error_messages={"required": _("Write your answer.")},
    )


class SafetyReportForm(Form):
    details = forms.CharField(
        label=_("Report a safety problem"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": TEXT_MAX_LENGTH}),
        help_text=_(
            "Only Kompanion's safety team reads this, never the other side. Your stars stay as you gave them. "
            "If you are in danger now, call 112."
        ),
        error_messages={"required": _("Tell us what happened.")},
    )
