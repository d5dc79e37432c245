"""The dashboard's filters: a date range (capped), a city and an activity. Bad input never raises: the
form reports it and the dashboard falls back to the default range."""

from datetime import date, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from companions.models import Activity, City
from core.forms import Form

DEFAULT_DAYS = 30
MAX_DAYS = 731  # two years, a leap day included
EARLIEST = date(2020, 1, 1)


def default_range(today: date) -> tuple[date, date]:
    """The last 30 days, ending yesterday (today is not rolled up yet)."""
    last = today - timedelta(days=1)
    return last - timedelta(days=DEFAULT_DAYS - 1), last


class DashboardFilterForm(Form):
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    city = forms.ModelChoiceField(
        label=_("City"), queryset=City.objects.order_by("position", "name"), to_field_name="slug", required=False
    )
    activity = forms.ModelChoiceField(
        label=_("Activity"),
        queryset=Activity.objects.order_by("position", "slug"),
        to_field_name="slug",
        required=False,
    )

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.note = ""
        self.fields["city"].empty_label = _("All cities")
        self.fields["activity"].empty_label = _("All activities")

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        first, last = default_range(self.today)
        start, end = cleaned.get("start"), cleaned.get("end")
        if end is None:
            end = last if start is None or start <= last else self.today
        if start is None:
            start = end - timedelta(days=DEFAULT_DAYS - 1)
        if end > self.today:
            raise forms.ValidationError(_("The end date is in the future; choose today or an earlier day."))
        if start < EARLIEST:
            raise forms.ValidationError(
                _("There are no figures before %(day)s.") % {"day": EARLIEST.strftime("%d-%m-%Y")}
            )
        if end < start:
            raise forms.ValidationError(_("The end date is before the start date."))
        if (end - start).days + 1 > MAX_DAYS:
            start = end - timedelta(days=MAX_DAYS - 1)
            self.note = _("A range is at most two years: showing the two years ending on the end date.")
        cleaned["start"], cleaned["end"] = start, end
        return cleaned
