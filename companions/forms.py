from datetime import time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.forms import DateInput
from companions.models import Activity, City, CompanionProfile, Gender, MarketplaceSettings, SpokenLanguage
from companions.selectors import SearchQuery, Sort
from companions.services import BIO_MIN_LENGTH

HALF_HOURS = [time(minute // 60, minute % 60) for minute in range(0, 24 * 60, 30)]
TIME_CHOICES = [(moment.strftime("%H:%M"), moment.strftime("%H.%M")) for moment in HALF_HOURS]
WEEKDAY_CHOICES = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]
HOUR_CHOICES = [(hours, hours) for hours in range(1, 13)]


class SlugChoiceField(forms.ModelChoiceField):
    """Shareable URLs use slugs (?city=bandung), not database ids."""

    def __init__(self, queryset, *, to_field_name="slug", **kwargs):
        super().__init__(queryset, to_field_name=to_field_name, required=False, **kwargs)


class SearchForm(forms.Form):
    """Every parameter optional; an invalid one (price=abc) is dropped, never an error page."""

    city = SlugChoiceField(City.objects.all(), label=_("City"), empty_label=_("All cities"))
    activity = SlugChoiceField(
        Activity.objects.filter(is_active=True), label=_("Activity"), empty_label=_("Any activity")
    )
    date = forms.DateField(label=_("Date"), required=False, widget=DateInput())
    time = forms.TypedChoiceField(
        label=_("Start time"),
        required=False,
        choices=[("", _("Any time"))] + TIME_CHOICES,
        coerce=lambda value: time.fromisoformat(value),
        empty_value=None,
    )
    hours = forms.TypedChoiceField(label=_("Hours"), required=False, choices=HOUR_CHOICES, coerce=int, empty_value=2)
    price_min = forms.IntegerField(label=_("Min. price per hour"), required=False, min_value=0)
    price_max = forms.IntegerField(label=_("Max. price per hour"), required=False, min_value=0)
    gender = forms.ChoiceField(label=_("Gender"), required=False, choices=[("", _("Any"))] + Gender.choices)
    age_min = forms.IntegerField(label=_("Min. age"), required=False, min_value=18, max_value=99)
    age_max = forms.IntegerField(label=_("Max. age"), required=False, min_value=18, max_value=99)
    language = SlugChoiceField(
        SpokenLanguage.objects.all(), to_field_name="code", label=_("Language"), empty_label=_("Any language")
    )
    q = forms.CharField(label=_("Keyword"), required=False, max_length=80)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            (Sort.RECOMMENDED, _("Recommended")),
            (Sort.PRICE_ASC, _("Price: low to high")),
            (Sort.PRICE_DESC, _("Price: high to low")),
            (Sort.NEWEST, _("Newest")),
        ],
    )

    def __init__(self, data=None, **kwargs):
        if data is not None and not data.get("hours"):
            data = data.copy()
            data["hours"] = "2"  # the default duration, also shown as selected in the form
        super().__init__(data, **kwargs)

    def clean_date(self):
        day = self.cleaned_data.get("date")
        today = timezone.localdate()
        if day is not None and not today - timedelta(days=1) <= day <= today + timedelta(days=366):
            raise forms.ValidationError(_("Choose a date within the next year."), code="out_of_range")
        return day

    def to_query(self, *, viewer_time_zone: str) -> SearchQuery:
        """The valid part of the parameters: invalid fields are left out, not reported."""
        self.is_valid()
        data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        return SearchQuery(
            city=data.get("city"),
            activity=data.get("activity"),
            language=data.get("language"),
            day=data.get("date"),
            start_time=data.get("time"),
            hours=data.get("hours") or 2,
            price_min=data.get("price_min"),
            price_max=data.get("price_max"),
            gender=data.get("gender") or "",
            age_min=data.get("age_min"),
            age_max=data.get("age_max"),
            keyword=(data.get("q") or "").strip(),
            sort=data.get("sort") or Sort.RECOMMENDED,
            viewer_time_zone=viewer_time_zone,
        )


class ProfileForm(forms.ModelForm):
    activities = forms.ModelMultipleChoiceField(
        Activity.objects.filter(is_active=True), widget=forms.CheckboxSelectMultiple, label=_("Activities")
    )
    languages = forms.ModelMultipleChoiceField(
        SpokenLanguage.objects.all(), widget=forms.CheckboxSelectMultiple, label=_("Languages you speak")
    )
    hourly_rate = forms.IntegerField(label=_("Hourly rate (Rp)"), min_value=1)
    min_hours = forms.TypedChoiceField(label=_("Minimum hours per booking"), choices=HOUR_CHOICES, coerce=int)
    max_hours = forms.TypedChoiceField(label=_("Maximum hours per booking"), choices=HOUR_CHOICES, coerce=int)

    class Meta:
        model = CompanionProfile
        fields = [
            "display_name",
            "bio",
            "city",
            "gender",
            "hourly_rate",
            "min_hours",
            "max_hours",
            "activities",
            "languages",
        ]
        widgets = {"bio": forms.Textarea(attrs={"rows": 6, "maxlength": 1500}), "gender": forms.RadioSelect}
        help_texts = {
            "display_name": _("Your first name or a nickname. Shown to customers."),
            "bio": _(
                "Plain text, at least 50 characters: what you enjoy, what a meeting with you is like. "
                "No phone numbers, social media or links."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("display_name", "bio", "city", "gender"):
            self.fields[name].required = True
        self.fields["city"].empty_label = _("Choose your city")
        self.fields["gender"].choices = Gender.choices
        bounds = MarketplaceSettings.load()
        self.fields["hourly_rate"].help_text = _("Between Rp %(min)s and Rp %(max)s.") % {
            "min": f"{bounds.min_hourly_rate:,}".replace(",", "."),
            "max": f"{bounds.max_hourly_rate:,}".replace(",", "."),
        }

    def clean_bio(self):
        bio = self.cleaned_data["bio"].strip()
        if len(bio) < BIO_MIN_LENGTH:
            raise forms.ValidationError(
                _("Write at least %(count)d characters about yourself."), params={"count": BIO_MIN_LENGTH}
            )
        return bio


class PhotoForm(forms.Form):
    photo = forms.FileField(
        label=_("Add a photo"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=_("JPEG, PNG or WebP, at most 10 MB. We remove location data from every photo."),
    )


class VerificationForm(forms.Form):
    nik = forms.CharField(
        label=_("NIK (16 digits on your KTP)"),
        max_length=24,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    ktp_image = forms.FileField(
        label=_("Photo of your KTP"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    selfie_image = forms.FileField(
        label=_("Selfie holding your KTP"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )


BLANK = [("", "—")]


class WeeklyHoursForm(forms.Form):
    """One range. Blank choices let an untouched extra row count as "not filled in"."""

    weekday = forms.TypedChoiceField(label=_("Day"), choices=BLANK + WEEKDAY_CHOICES, coerce=int)
    start = forms.ChoiceField(label=_("From"), choices=BLANK + TIME_CHOICES)
    end = forms.ChoiceField(
        label=_("Until"),
        choices=BLANK + TIME_CHOICES,
        help_text=_("An end at or before the start means past midnight."),
    )

    def as_range(self) -> tuple[int, int, int]:
        start = time.fromisoformat(self.cleaned_data["start"])
        end = time.fromisoformat(self.cleaned_data["end"])
        start_minute = start.hour * 60 + start.minute
        end_minute = end.hour * 60 + end.minute
        length = end_minute - start_minute if end_minute > start_minute else end_minute - start_minute + 24 * 60
        return self.cleaned_data["weekday"], start_minute, length


def weekly_hours_formset(*, extra: int = 2):
    return forms.formset_factory(WeeklyHoursForm, extra=extra, can_delete=True, max_num=35, validate_max=True)


WeeklyHoursFormSet = weekly_hours_formset()


class CopyDayForm(forms.Form):
    weekday = forms.TypedChoiceField(label=_("Copy the hours of"), choices=WEEKDAY_CHOICES, coerce=int)


class ScheduleRulesForm(forms.ModelForm):
    min_notice_minutes = forms.TypedChoiceField(
        label=_("Minimum notice"),
        coerce=int,
        choices=[
            (180, _("3 hours")),
            (360, _("6 hours")),
            (720, _("12 hours")),
            (1440, _("1 day")),
            (2880, _("2 days")),
        ],
    )
    horizon_days = forms.TypedChoiceField(
        label=_("How far ahead people can book"),
        coerce=int,
        choices=[(14, _("2 weeks")), (30, _("30 days")), (60, _("60 days")), (90, _("90 days"))],
    )
    buffer_minutes = forms.TypedChoiceField(
        label=_("Break between bookings"),
        coerce=int,
        choices=[
            (0, _("None")),
            (30, _("30 minutes")),
            (60, _("1 hour")),
            (90, _("1 hour 30 minutes")),
            (120, _("2 hours")),
        ],
    )

    class Meta:
        model = CompanionProfile
        fields = ["min_notice_minutes", "horizon_days", "buffer_minutes"]


class TimeOffForm(forms.Form):
    start_date = forms.DateField(label=_("From"), widget=DateInput())
    end_date = forms.DateField(label=_("Until (inclusive)"), widget=DateInput())
    note = forms.CharField(label=_("Note (only you see it)"), required=False, max_length=120)
