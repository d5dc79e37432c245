"""The companion's forms: database constraints answered as translated field errors (defect 2), the
hourly rate in Rupiah formats (defect 3), and weekly hours that never turn 10.00–10.00 into 24 hours
(defect 6)."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from companions.forms import ProfileForm, TimeOffForm, WeeklyHoursForm
from companions.models import Activity, City, CompanionProfile, SpokenLanguage, TimeOff, WeeklyHours
from companions.services import profile_get_or_create
from tests.factories import CompanionFactory

pytestmark = pytest.mark.django_db

BIO = "Suka ngopi dan jalan-jalan keliling kota. Senang menemani acara dan ngobrol santai."


@pytest.fixture
def profile():
    return profile_get_or_create(user=CompanionFactory())


def profile_data(**changes) -> dict:
    data = {
        "display_name": "Ayu",
        "bio": BIO,
        "city": City.objects.get(slug="bandung").pk,
        "gender": "female",
        "hourly_rate": "150000",
        "min_hours": "2",
        "max_hours": "6",
        "activities": [Activity.objects.get(slug="hangout").pk],
        "languages": [SpokenLanguage.objects.get(code="id").pk],
    }
    return {**data, **changes}


def edit(client, profile, **changes):
    client.force_login(profile.user)
    client.cookies["kompanion_language"] = "id"
    return client.post(reverse("companions:profile_edit"), profile_data(**changes))


def test_min_hours_above_max_is_a_translated_field_error_not_the_constraint_name(client, profile):
    """Defect 2: "Batasan “companions_profile_hours_valid” dilanggar" was shown."""
    response = edit(client, profile, min_hours="8", max_hours="3")
    assert response.status_code == 200
    form = response.context["form"]
    assert form.non_field_errors() == []
    with translation.override("id"):
        assert [str(error) for error in form.errors["max_hours"]] == [
            str(translation.gettext("The maximum hours must be at least the minimum hours (%(hours)d).") % {"hours": 8})
        ]
    assert "companions_profile_hours_valid" not in response.content.decode()
    profile.refresh_from_db()
    assert (profile.hourly_rate, profile.bio) == (None, "")  # nothing saved


@pytest.mark.parametrize("rate", ["175000", "175.000", "Rp 175.000", "Rp175.000", "175,000", "rp 175.000,-"])
def test_the_hourly_rate_accepts_rupiah_as_people_write_it(client, profile, rate):
    """Defect 3: "175.000" was refused as an hourly rate while the payout accepted "50.000"."""
    response = edit(client, profile, hourly_rate=rate)
    assert response.status_code == 302, response.context["form"].errors
    profile.refresh_from_db()
    assert profile.hourly_rate == 175_000


@pytest.mark.parametrize("rate", ["175.000,50", "1.75", "-175000", "", "abc", "99999999999999999"])
def test_a_wrong_hourly_rate_is_a_field_error_and_stays_as_typed(client, profile, rate):
    response = edit(client, profile, hourly_rate=rate)
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["hourly_rate"]
    assert form["hourly_rate"].value() == rate
    assert f'value="{rate}"' in response.content.decode() or rate == ""
    profile.refresh_from_db()
    assert profile.hourly_rate is None


def test_a_rate_outside_the_marketplace_bounds_is_a_field_error(client, profile):
    with translation.override("en"):
        form = ProfileForm(profile_data(hourly_rate="10.000"), instance=profile)
        assert not form.is_valid()
        assert form.errors["hourly_rate"] == ["The amount must be at least Rp\u00a050,000."]


def test_the_saved_rate_is_shown_grouped(profile):
    CompanionProfile.objects.filter(pk=profile.pk).update(hourly_rate=175_000)
    profile.refresh_from_db()
    with translation.override("id"):
        assert 'value="175.000"' in str(ProfileForm(instance=profile)["hourly_rate"])


def test_the_profile_page_takes_the_rate_as_text_and_shows_it_grouped(client, profile):
    CompanionProfile.objects.filter(pk=profile.pk).update(hourly_rate=175_000)
    client.force_login(profile.user)
    client.cookies["kompanion_language"] = "id"
    html = client.get(reverse("companions:profile_edit")).content.decode()
    assert re.search(r'<input type="text" inputmode="numeric"[^>]*name="hourly_rate"[^>]*value="175.000"', html)


def constraints_of(model) -> list[str]:
    return [constraint.name for constraint in model._meta.constraints]


def test_every_constraint_behind_a_companion_form_is_known_here():
    """A new constraint on a model behind a form fails here until it gets a form error (and a row in
    the tests below)."""
    # companions_profile_rating_valid is behind no form: only services.profile_rating_change writes the rating.
    assert constraints_of(CompanionProfile) == [
        "companions_profile_hours_valid",
        "companions_profile_rate_positive",
        "companions_profile_rating_valid",
    ]
    assert constraints_of(WeeklyHours) == ["companions_hours_weekday_valid", "companions_hours_range_valid"]
    assert constraints_of(TimeOff) == ["companions_time_off_order"]


def test_a_zero_rate_is_a_field_error(profile):
    form = ProfileForm(profile_data(hourly_rate="0"), instance=profile)
    assert not form.is_valid() and list(form.errors) == ["hourly_rate"]


def test_time_off_ending_before_it_starts_is_a_field_error():
    form = TimeOffForm({"start_date": "2027-01-10", "end_date": "2027-01-05", "note": ""})
    assert not form.is_valid()
    assert list(form.errors) == ["end_date"]


def hours_form(start, end, *, overnight=False, weekday="0"):
    data = {"weekday": weekday, "start": start, "end": end}
    if overnight:
        data["overnight"] = "on"
    return WeeklyHoursForm(data)


def test_equal_start_and_end_is_an_error_not_24_hours():
    """Defect 6: 10.00–10.00 was saved silently as a 24-hour range."""
    form = hours_form("10:00", "10:00")
    assert not form.is_valid()
    assert list(form.errors) == ["end"]


def test_an_end_before_the_start_needs_the_box_ticked():
    form = hours_form("20:00", "02:00")
    assert not form.is_valid() and list(form.errors) == ["end"]
    form = hours_form("20:00", "02:00", overnight=True)
    assert form.is_valid(), form.errors
    assert form.as_range() == (0, 20 * 60, 6 * 60)


def test_a_range_shorter_than_an_hour_is_an_error_on_its_row():
    # The database refuses it too (companions_hours_range_valid): said on the row, not as a raw error.
    form = hours_form("10:00", "10:30")
    assert not form.is_valid() and list(form.errors) == ["end"]
    for start, end, overnight in (("23:30", "00:00", False), ("23:30", "00:15", True), ("23:30", "00:00", True)):
        form = hours_form(start, end, overnight=overnight)
        assert not form.is_valid() and list(form.errors) == ["end"], (start, end)


def test_ticking_next_day_with_an_end_after_the_start_is_an_error():
    form = hours_form("10:00", "18:00", overnight=True)
    assert not form.is_valid() and list(form.errors) == ["overnight"]


@pytest.mark.parametrize(
    ("start", "end", "overnight", "expected"),
    [
        ("10:00", "18:00", False, (0, 600, 480)),
        ("18:00", "00:00", False, (0, 1080, 360)),  # until midnight: not into the next day
        ("10:00", "10:00", True, (0, 600, 1440)),  # 24 hours, only when meant
        ("00:00", "00:00", True, (0, 0, 1440)),
    ],
)
def test_valid_ranges(start, end, overnight, expected):
    form = hours_form(start, end, overnight=overnight)
    assert form.is_valid(), form.errors
    assert form.as_range() == expected


def formset_post(rows) -> dict:
    data = {"form-TOTAL_FORMS": str(len(rows)), "form-INITIAL_FORMS": "0", "form-MAX_NUM_FORMS": "35"}
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"form-{index}-{key}"] = value
    return data


def test_the_schedule_page_refuses_equal_times_and_saves_nothing(client, profile):
    client.force_login(profile.user)
    response = client.post(
        reverse("companions:schedule"), formset_post([{"weekday": "0", "start": "10:00", "end": "10:00"}])
    )
    assert response.status_code == 422
    assert not WeeklyHours.objects.filter(profile=profile).exists()


def test_the_schedule_page_saves_an_overnight_range_and_shows_it_ticked(client, profile):
    client.force_login(profile.user)
    response = client.post(
        reverse("companions:schedule"),
        formset_post([{"weekday": "4", "start": "20:00", "end": "02:00", "overnight": "on"}]),
    )
    assert response.status_code == 302
    assert list(
        WeeklyHours.objects.filter(profile=profile).values_list("weekday", "start_minute", "length_minutes")
    ) == [(4, 1200, 360)]
    page = client.get(reverse("companions:schedule"))
    formset = page.context["formset"]
    assert [form.initial for form in formset.initial_forms] == [
        {"weekday": 4, "start": "20:00", "end": "02:00", "overnight": True}
    ]
    assert 'name="form-0-overnight" id="id_form-0-overnight" class="checkbox" checked' in page.content.decode()


def test_more_rows_keeps_the_tick(client, profile):
    client.force_login(profile.user)
    data = formset_post([{"weekday": "4", "start": "20:00", "end": "02:00", "overnight": "on"}])
    response = client.post(reverse("companions:schedule"), {**data, "add_rows": "1"})
    assert response.status_code == 200
    assert response.context["formset"].initial[0]["overnight"] is True
