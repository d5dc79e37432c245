import copy
import functools
from collections.abc import Callable
from datetime import time, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.forms import DateInput
from companions import page_cache
from companions.models import Activity, City, CompanionProfile, Gender, MarketplaceSettings, SpokenLanguage
from companions.selectors import SearchQuery, Sort
from companions.services import BIO_MIN_LENGTH
from core import formatting
from core.forms import Form, ModelForm, RupiahField

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


class _ListedChoiceIterator(forms.models.ModelChoiceIterator):
    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.field.listed():
            yield self.choice(obj)

    def __len__(self):
        return len(self.field.listed()) + (self.field.empty_label is not None)

    def __bool__(self):
        return self.field.empty_label is not None or bool(self.field.listed())


class ReferenceChoiceField(SlugChoiceField):
    """A choice of reference data for the search form: its options and its validation read one list of
    the rows (`listed`, set by the form: a process's copy, see `reference_lists`), not a query each."""

    iterator = _ListedChoiceIterator
    listed: Callable[[], list]

    def to_python(self, value):
        if value in self.empty_values:
            return None
        self.validate_no_null_characters(value)
        # As ModelChoiceField: the same lookup (exact, on the field named), the same error.
        key = self.to_field_name
        found = next((obj for obj in self.listed() if getattr(obj, key) == value), None)
        if found is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})
        return found

    def for_form(self) -> "ReferenceChoiceField":
        """This field for one form (its `listed` is the form's): a shallow copy with its own widget, whose
        options read the copy. The queryset is shared, never evaluated itself (`reference_lists` reads a
        clone of it)."""
        field = copy.copy(self)
        field.widget = copy.copy(self.widget)
        field.widget.choices = field.choices
        return field


class _SharedFields(dict):
    """The search form's declared fields, given to each form as they are (Django deep-copies a form's
    fields for every form: for the search page, on every request), except its reference choices, each
    copied shallowly for the form's own `listed`. Nothing changes a search form's fields after they are
    declared: neither the form, its views nor its rendering."""

    def __deepcopy__(self, memo) -> dict:
        return {
            name: field.for_form() if isinstance(field, ReferenceChoiceField) else field for name, field in self.items()
        }


# (global version, {field name: rows}): this process's copy of the search form's reference lists.
_reference_lists: tuple[int, dict[str, list]] | None = None


def reference_copy() -> tuple[int, dict[str, list]] | None:
    """This process's copy of the reference lists and the global version it was read at, without asking
    the cache whether that version still stands: whoever uses it must compare the version with the
    current one afterwards (the search view: in the same round trip as its cards) and start again with
    `reference_lists` when they differ. None while versions are not tracked: a copy left from when they were
    could never be confirmed, so the caller would build its page twice."""
    if not page_cache.versions_tracked():
        return None
    return _reference_lists


def forget_reference_copy() -> None:
    """Drops this process's copy (tests: it belongs to the database and cache of the test that read it)."""
    global _reference_lists
    _reference_lists = None


def reference_lists(fields) -> dict[str, list]:
    """The rows of each reference choice among `fields` (name -> field), in its queryset's order: this
    process's copy while the global version (bumped when the admin edits a city, an activity or a
    language: page_cache.everything_changed) is the one it was read at; read again otherwise, and on
    every call while versions are not tracked or the cache is down."""
    global _reference_lists
    version = page_cache.reference_version()
    if version is not None and _reference_lists is not None and _reference_lists[0] == version:
        return _reference_lists[1]
    lists = {
        name: list(field.queryset.all()) for name, field in fields.items() if isinstance(field, ReferenceChoiceField)
    }
    # No version (not tracked, or the cache down): no copy kept, nor the one before (reference_copy).
    _reference_lists = None if version is None else (version, lists)
    return lists


DEFAULT_HOURS = 2
# The filters inside "More filters": that panel opens only when one of them differs from its default.
MORE_FILTERS = ("activity", "hours", "price_min", "price_max", "gender", "age_min", "age_max", "language", "rating")
SEARCH_DEFAULTS = {"hours": DEFAULT_HOURS, "sort": Sort.RECOMMENDED}


class SearchForm(Form):
    """Every parameter optional. An invalid one (hours=13, price=abc, an unknown city) is dropped from
    the search and listed in `dropped` for a visible note, never an error page."""

    city = ReferenceChoiceField(City.objects.all(), label=_("City"), empty_label=_("All cities"))
    activity = ReferenceChoiceField(
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
    hours = forms.TypedChoiceField(
        label=_("Duration"), required=False, choices=HOUR_CHOICES, coerce=int, empty_value=None
    )
    price_min = RupiahField(label=_("Min. price per hour"), required=False, max_value=100_000_000)
    price_max = RupiahField(label=_("Max. price per hour"), required=False, max_value=100_000_000)
    gender = forms.ChoiceField(label=_("Gender"), required=False, choices=[("", _("Any"))] + Gender.choices)
    age_min = forms.IntegerField(label=_("Min. age"), required=False, min_value=18, max_value=99)
    age_max = forms.IntegerField(label=_("Max. age"), required=False, min_value=18, max_value=99)
    language = ReferenceChoiceField(
        SpokenLanguage.objects.all(), to_field_name="code", label=_("Language"), empty_label=_("Any language")
    )
    rating = forms.TypedChoiceField(
        label=_("Rating"),
        required=False,
        choices=[("", _("Any rating")), ("4", _("4 stars and up"))],
        coerce=int,
        empty_value=None,
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
            (Sort.BEST_RATED, _("Best rated")),
        ],
    )

    def __init__(self, data=None, *, reference: dict[str, list] | None = None, **kwargs):
        """`reference`: the reference lists to use (forms.reference_copy(), checked by the caller), else
        read when first needed (`reference_lists`)."""
        if data is not None and not data.get("hours"):
            data = data.copy()
            data["hours"] = str(DEFAULT_HOURS)  # the default duration, also shown as selected in the form
        super().__init__(data, **kwargs)
        self.dropped: list[tuple[str, str]] = []
        lists: dict[str, list] = dict(reference or {})

        def listed(name: str) -> list:
            # Read once per form, when validation or rendering first needs one (an HTMX answer renders no form).
            if not lists:
                lists.update(reference_lists(self.fields))
            return lists[name]

        for name, field in self.fields.items():
            if isinstance(field, ReferenceChoiceField):
                field.listed = functools.partial(listed, name)

    def clean_date(self):
        day = self.cleaned_data.get("date")
        today = timezone.localdate()
        if day is not None and not today - timedelta(days=1) <= day <= today + timedelta(days=366):
            raise forms.ValidationError(_("Choose a date within the next year."), code="out_of_range")
        return day

    def clean(self):
        cleaned = super().clean()
        # A reversed range ("from 500.000 to 100.000") means the range between the two.
        for low, high in (("price_min", "price_max"), ("age_min", "age_max")):
            if cleaned.get(low) is not None and cleaned.get(high) is not None and cleaned[low] > cleaned[high]:
                cleaned[low], cleaned[high] = cleaned[high], cleaned[low]
        return cleaned

    def to_query(self, *, viewer_time_zone: str) -> SearchQuery:
        """The valid part of the parameters. Invalid fields are left out of the search, listed in
        `dropped` (label, reason) and reset in the form, so the form shows what was searched."""
        self.is_valid()
        data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        if self.errors:
            self.dropped = [
                (str(self.fields[name].label), " ".join(str(message) for message in errors))
                for name, errors in self.errors.items()
                if name in self.fields
            ]
            shown = self.data.copy()
            for name in self.errors:
                if name in self.fields:
                    shown.pop(self.add_prefix(name), None)
            if "hours" in self.errors:
                shown["hours"] = str(DEFAULT_HOURS)
            self.data = shown
        return SearchQuery(
            city=data.get("city"),
            activity=data.get("activity"),
            language=data.get("language"),
            day=data.get("date"),
            start_time=data.get("time"),
            hours=data.get("hours") or DEFAULT_HOURS,
            price_min=data.get("price_min"),
            price_max=data.get("price_max"),
            gender=data.get("gender") or "",
            age_min=data.get("age_min"),
            age_max=data.get("age_max"),
            keyword=(data.get("q") or "").strip(),
            min_rating=data.get("rating"),
            sort=data.get("sort") or Sort.RECOMMENDED,
            viewer_time_zone=viewer_time_zone,
        )

    def differs_from_default(self, name: str) -> bool:
        """Whether the valid value of `name` is set and not its default (call after `to_query`)."""
        if name in self.errors:
            return False
        value = self.cleaned_data.get(name)
        return value not in (None, "") and value != SEARCH_DEFAULTS.get(name)

    def more_filters_open(self) -> bool:
        return any(self.differs_from_default(name) for name in MORE_FILTERS)

    def chips(self, *, viewer_time_zone: str) -> list[tuple[str, str]]:
        """(field name, label) of each active filter, for the removable chips above the results. Hours
        count only with a date (without one they filter nothing)."""
        language = get_language() or "id"
        data = self.cleaned_data
        labels: dict[str, str] = {}
        for name in self.fields:
            if name == "sort" or not self.differs_from_default(name):
                continue
            value = data[name]
            if name in ("city", "activity", "language"):
                labels[name] = value.name
            elif name == "date":
                today = timezone.localdate(timezone=ZoneInfo(viewer_time_zone))
                labels[name] = formatting.format_day_short(value, today=today, language=language)
            elif name == "time":
                labels[name] = _("from %(time)s") % {"time": formatting.format_time(value, language=language)}
            elif name == "hours":
                if data.get("date"):
                    labels[name] = ngettext("%(count)d hour", "%(count)d hours", value) % {"count": value}
            elif name == "price_min":
                labels[name] = _("from %(amount)s") % {"amount": formatting.format_rupiah(value, language=language)}
            elif name == "price_max":
                labels[name] = _("up to %(amount)s") % {"amount": formatting.format_rupiah(value, language=language)}
            elif name == "gender":
                labels[name] = str(dict(Gender.choices).get(value, value))
            elif name == "age_min":
                labels[name] = _("age %(age)s+") % {"age": value}
            elif name == "age_max":
                labels[name] = _("age up to %(age)s") % {"age": value}
            elif name == "rating":
                labels[name] = _("rating %(stars)s+") % {"stars": value}
            else:
                labels[name] = f"“{value}”"
        if "hours" in labels and "date" not in labels:
            del labels["hours"]
        return list(labels.items())


SearchForm.base_fields = _SharedFields(SearchForm.base_fields)


class ProfileForm(ModelForm):
    activities = forms.ModelMultipleChoiceField(
        Activity.objects.filter(is_active=True), widget=forms.CheckboxSelectMultiple, label=_("Activities")
    )
    languages = forms.ModelMultipleChoiceField(
        SpokenLanguage.objects.all(), widget=forms.CheckboxSelectMultiple, label=_("Languages you speak")
    )
    hourly_rate = RupiahField(
        label=_("Hourly rate (Rp)"), min_value=1, widget=forms.TextInput(attrs={"placeholder": "150.000"})
    )
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
        rate = self.fields["hourly_rate"]
        rate.min_value, rate.max_value = bounds.min_hourly_rate, bounds.max_hourly_rate
        rate.help_text = _("Between Rp %(min)s and Rp %(max)s.") % {
            "min": f"{bounds.min_hourly_rate:,}".replace(",", "."),
            "max": f"{bounds.max_hourly_rate:,}".replace(",", "."),
        }

    def clean(self):
        cleaned = super().clean()
        # The database refuses it too (companions_profile_hours_valid); say it on the field, translated.
        low, high = cleaned.get("min_hours"), cleaned.get("max_hours")
        if low is not None and high is not None and low > high:
            self.add_error(
                "max_hours",
                forms.ValidationError(
                    _("The maximum hours must be at least the minimum hours (%(hours)d)."),
                    code="hours_order",
                    params={"hours": low},
                ),
            )
        return cleaned

    def clean_bio(self):
        bio = self.cleaned_data["bio"].strip()
        if len(bio) < BIO_MIN_LENGTH:
            raise forms.ValidationError(
                _("Write at least %(count)d characters about yourself."), params={"count": BIO_MIN_LENGTH}
            )
        return bio


class PhotoForm(Form):
    photo = forms.FileField(
        label=_("Add a photo"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=_("JPEG, PNG or WebP, at most 10 MB. We remove location data from every photo."),
    )


class VerificationForm(Form):
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


class WeeklyHoursForm(Form):
    """One range. Blank choices let an untouched extra row count as "not filled in". A range past
    midnight is allowed only when "ends the next day" is ticked: an end at or before the start is
    otherwise a mistake (10.00–10.00 is not silently 24 hours)."""

    weekday = forms.TypedChoiceField(label=_("Day"), choices=BLANK + WEEKDAY_CHOICES, coerce=int)
    start = forms.ChoiceField(label=_("From"), choices=BLANK + TIME_CHOICES)
    end = forms.ChoiceField(label=_("Until"), choices=BLANK + TIME_CHOICES)
    overnight = forms.BooleanField(label=_("Ends the next day"), required=False)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if not start or not end:
            return cleaned
        overnight = cleaned.get("overnight", False)
        if end == "00:00" and start != "00:00":
            overnight = True  # "until 00.00" is until midnight: nothing runs into the next day
        if end == start and not overnight:
            self.add_error(
                "end",
                forms.ValidationError(
                    _("The end is the same as the start. Choose a later end, or tick “Ends the next day”."),
                    code="empty_range",
                ),
            )
        elif end < start and not overnight:
            self.add_error(
                "end",
                forms.ValidationError(
                    _("The end is before the start. If these hours run past midnight, tick “Ends the next day”."),
                    code="reversed_range",
                ),
            )
        elif end > start and overnight:
            self.add_error(
                "overnight",
                forms.ValidationError(
                    _("A range that ends the next day must end at or before its start time (at most 24 hours)."),
                    code="too_long",
                ),
            )
        elif ((_minutes(end) - _minutes(start)) % (24 * 60) or 24 * 60) < 60:
            # The database refuses it too (companions_hours_range_valid): say it on the row.
            self.add_error(
                "end", forms.ValidationError(_("Each range must be at least 1 hour long."), code="too_short")
            )
        return cleaned

    def as_range(self) -> tuple[int, int, int]:
        start = time.fromisoformat(self.cleaned_data["start"])
        end = time.fromisoformat(self.cleaned_data["end"])
        start_minute = start.hour * 60 + start.minute
        end_minute = end.hour * 60 + end.minute
        length = end_minute - start_minute
        if length <= 0:  # clean() let it through: ticked "ends the next day", or ends at midnight
            length += 24 * 60
        return self.cleaned_data["weekday"], start_minute, length


def _minutes(value: str) -> int:
    moment = time.fromisoformat(value)
    return moment.hour * 60 + moment.minute


def weekly_hours_formset(*, extra: int = 2):
    return forms.formset_factory(WeeklyHoursForm, extra=extra, can_delete=True, max_num=35, validate_max=True)


WeeklyHoursFormSet = weekly_hours_formset()


class CopyDayForm(Form):
    weekday = forms.TypedChoiceField(label=_("Copy the hours of"), choices=WEEKDAY_CHOICES, coerce=int)


class ScheduleRulesForm(ModelForm):
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


class TimeOffForm(Form):
    start_date = forms.DateField(label=_("From"), widget=DateInput())
    end_date = forms.DateField(label=_("Until (inclusive)"), widget=DateInput())
    note = forms.CharField(label=_("Note (only you see it)"), required=False, max_length=120)

    def clean(self):
        cleaned = super().clean()
        # The database refuses it too (companions_time_off_order); say it on the field, translated.
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error(
                "end_date",
                forms.ValidationError(_("The end date must be on or after the start date."), code="order"),
            )
        return cleaned
