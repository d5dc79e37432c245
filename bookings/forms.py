"""Forms only parse and validate what the browser sends; the rules of booking live in services.py."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bookings import rules
from companions.models import CompanionProfile
from core.forms import Form

NOTE_MAX_LENGTH = 500
# Someone typing a phone number or a link: contact details stay in Kompanion (UI.md, trust and safety).
PHONE_PATTERN = re.compile(r"(?:\+\s*62|\b62|\b0)\s*8(?:[\s.\-]*\d){7,11}")
LINK_PATTERN = re.compile(r"(?:https?://|www\.|\b[\w-]+\.(?:com|id|net|org|co|me|ly|io|link)\b)", re.IGNORECASE)


def parse_start(value: str | None, *, zone: str) -> datetime | None:
    """An ISO 8601 start from the URL or the form, as an aware datetime; None if it is not one.
    A time without an offset is read in the companion's zone. A "+" that arrived unescaped in a query
    string (and so became a space) is put back."""
    if not value:
        return None
    text = value.strip()
    if len(text) > 40:
        return None
    if "T" in text and " " in text:
        text = text.replace(" ", "+")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    # Far outside any booking horizon (and near datetime's limits, where adding hours overflows).
    now = timezone.now()
    if not now - timedelta(days=366) <= moment <= now + timedelta(days=366):
        return None
    return moment


def parse_hours(value: str | None, *, profile: CompanionProfile) -> int:
    """Hours from the URL, clamped to the companion's range (their minimum when absent or not a number)."""
    try:
        hours = int(value or profile.min_hours)
    except ValueError:
        return profile.min_hours
    return min(max(hours, profile.min_hours), profile.max_hours)


class BookingRequestForm(Form):
    start = forms.CharField(
        label=_("Time"), widget=forms.HiddenInput, error_messages={"required": _("Choose one of the free times.")}
    )
    hours = forms.TypedChoiceField(label=_("How long"), coerce=int)
    activity = forms.ModelChoiceField(
        label=_("Activity"), queryset=None, empty_label=None, widget=forms.RadioSelect, to_field_name="slug"
    )
    meeting_place = forms.CharField(
        label=_("Meeting place"),
        min_length=5,
        max_length=200,
        help_text=_(
            "A public place, with its name and area, e.g. “Kopi Tuku, Grand Indonesia”. Cafés, restaurants, "
            "malls, parks and events only: never a home, boarding house or hotel."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    note = forms.CharField(
        label=_("Note for the companion"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        help_text=_(
            "What you would like to do, e.g. “Try the new ramen place, then a walk”. Do not share phone "
            "numbers, social media or links: they stay hidden for everyone's safety."
        ),
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": NOTE_MAX_LENGTH}),
    )
    promo_code = forms.CharField(
        label=_("Promo code"),
        required=False,
        max_length=32,
        help_text=_("Optional. A code replaces the welcome discount: one discount per booking."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )
    safety = forms.BooleanField(
        label=_("I will meet in a public place and keep it platonic."),
        error_messages={"required": _("Please confirm the meeting rules to send the request.")},
    )

    def __init__(self, *args, profile: CompanionProfile, **kwargs):
        super().__init__(*args, **kwargs)
        self.profile = profile
        hours = range(profile.min_hours, profile.max_hours + 1)
        self.fields["hours"].choices = [(value, str(value)) for value in hours]
        activities = list(profile.activities.all())  # prefetched: no query
        self.fields["activity"].queryset = profile.activities.all()
        self.fields["activity"].choices = [(activity.slug, activity.name) for activity in activities]
        self._activities = {activity.slug: activity for activity in activities}

    def clean_start(self) -> datetime:
        start = parse_start(self.cleaned_data["start"], zone=self.profile.time_zone)
        if start is None:
            raise forms.ValidationError(_("This start time is not valid. Please choose a time again."))
        if start <= timezone.now():
            raise forms.ValidationError(_("This time has already passed. Please choose a later time."))
        return start

    def clean_meeting_place(self) -> str:
        place = " ".join(self.cleaned_data["meeting_place"].split())
        if PHONE_PATTERN.search(place) or LINK_PATTERN.search(place):
            raise forms.ValidationError(_("Name the place only, without phone numbers or links."))
        return place

    def clean_note(self) -> str:
        note = self.cleaned_data["note"].strip()
        if PHONE_PATTERN.search(note) or LINK_PATTERN.search(note):
            raise forms.ValidationError(
                _("Please remove phone numbers and links: contact details stay hidden until you meet.")
            )
        return note


class ReasonForm(Form):
    """A reason for declining, withdrawing or cancelling; `required_length` > 0 makes it required."""

    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 1000}),
    )

    def __init__(self, *args, required_length: int = 0, label=None, help_text=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.required_length = required_length
        field = self.fields["reason"]
        field.required = required_length > 0
        if label:
            field.label = label
        if help_text:
            field.help_text = help_text

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if self.required_length and len(reason) < self.required_length:
            raise forms.ValidationError(
                _("Please write at least %(count)d characters.") % {"count": self.required_length}
            )
        return reason


class DisputeForm(ReasonForm):
    def __init__(self, *args, **kwargs):
        super().__init__(
            *args,
            required_length=rules.DISPUTE_REASON_MIN_LENGTH,
            label=_("What happened?"),
            help_text=_("Describe what went wrong. Our team reads every dispute and may contact you both."),
            **kwargs,
        )


class InstantBookingForm(Form):
    enabled = forms.BooleanField(required=False)


class CalendarFeedForm(Form):
    action = forms.ChoiceField(choices=[("create", "create"), ("revoke", "revoke")])
