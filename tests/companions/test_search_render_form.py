"""QuickBoundField writes exactly the HTML Django's widget templates write, and field_html exactly what
components/field.html writes (companions/search_render.py)."""

import pytest
from django import forms
from django.template.loader import get_template
from django.utils import translation

from companions.forms import SearchForm
from companions.search_render import FIELD_TEMPLATE, QuickBoundField, SearchBoundField, SearchFields, field_html

pytestmark = pytest.mark.django_db

QUERIES = [
    {},
    {"city": "bandung", "activity": "hangout", "date": "2026-12-05", "time": "10:00", "hours": "3"},
    {"price_min": "150.000", "price_max": "400000", "gender": "female", "age_min": "20", "age_max": "35"},
    {"language": "en", "sort": "price_desc", "q": 'Ayu "<b>" & co'},
    # Invalid values: the fields carry errors (aria-invalid, aria-describedby) and show what was typed.
    {"city": "atlantis", "date": "2026-13-45", "time": "25:99", "hours": "13", "price_min": "abc", "age_max": "7"},
    {"sort": "; DROP TABLE", "language": "klingon", "activity": "<script>", "q": "x" * 90},
]


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("query", QUERIES)
def test_every_search_field_renders_as_django_renders_it(query, language):
    with translation.override(language):
        django_form, quick_form = SearchForm(query), SearchForm(query, bound_field_class=QuickBoundField)
        for form in (django_form, quick_form):
            form.to_query(viewer_time_zone="Asia/Jakarta")
        for name in SearchForm.base_fields:
            assert isinstance(quick_form[name], QuickBoundField)
            assert str(quick_form[name]) == str(django_form[name]), name
        # The search page's fields: each select written once, then kept (a new form, the same value).
        for _ in range(2):
            kept_form = SearchForm(query, bound_field_class=SearchBoundField)
            kept_form.to_query(viewer_time_zone="Asia/Jakarta")
            for name in SearchForm.base_fields:
                assert str(kept_form[name]) == str(django_form[name]), name


def _included(field, label=None) -> str:
    """What `{% include "components/field.html" with field=field hide_optional=True label=label %}` writes."""
    return get_template(FIELD_TEMPLATE).render({"field": field, "hide_optional": True, "label": label})


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("query", QUERIES)
def test_every_search_field_is_written_as_the_field_template_writes_it(query, language):
    with translation.override(language):
        form = SearchForm(query, bound_field_class=QuickBoundField)
        form.to_query(viewer_time_zone="Asia/Jakarta")
        fields = SearchFields(form, labels={"hours": "How <many> hours"})
        for name in SearchForm.base_fields:
            label = "How <many> hours" if name == "hours" else None
            assert fields[name] == _included(form[name], label), name


class Widgets(forms.Form):
    grouped = forms.ChoiceField(
        choices=[("", "—"), ("Java", [("bdg", "Bandung & <Garut>"), ("jkt", "Jakarta")]), ("dps", "Denpasar")],
        widget=forms.Select(attrs={"class": "x", "data-flag": True, "data-off": False}),
    )
    several = forms.MultipleChoiceField(choices=[(1, 1000), (2, 2.5)], required=False)
    amount = forms.IntegerField(widget=forms.NumberInput(attrs={"min": 1, "placeholder": 'a "b"'}))
    email = forms.EmailField(help_text="We never share it.")
    hidden = forms.CharField(widget=forms.HiddenInput, required=False)
    secret = forms.CharField(widget=forms.PasswordInput(render_value=True), required=False)
    notes = forms.CharField(widget=forms.Textarea, required=False)  # not a quick widget: Django renders it
    agree = forms.BooleanField(required=False)  # nor is a checkbox


@pytest.mark.parametrize(
    "data",
    [None, {}, {"grouped": "bdg", "several": ["1", "2"], "amount": "x", "email": "a@", "secret": "s<"}],
)
def test_other_widgets_render_as_django_renders_them(data):
    with translation.override("id"):
        django_form, quick_form = Widgets(data), Widgets(data, bound_field_class=QuickBoundField)
        if data is not None:
            django_form.is_valid(), quick_form.is_valid()
        for name in Widgets.base_fields:
            assert str(quick_form[name]) == str(django_form[name]), name


@pytest.mark.parametrize("data", [None, {"amount": "x", "email": "a@", "grouped": "nope"}])
def test_other_fields_are_written_as_the_field_template_writes_them(data):
    """Help text, errors, and the kinds field_html hands to the template (hidden, checkbox)."""
    with translation.override("id"):
        form = Widgets(data, bound_field_class=QuickBoundField)
        if data is not None:
            form.is_valid()
        for name in Widgets.base_fields:
            assert field_html(form[name]) == _included(form[name]), name


def test_search_forms_share_their_fields_but_not_their_reference_choices():
    """A search form's fields are the declared ones, not deep copies, except the reference choices: each
    form's own, reading its own lists, whose options the widget shows."""
    first = SearchForm({"city": "bandung"}, reference={"city": [], "activity": [], "language": []})
    second = SearchForm({"city": "bandung"})
    assert first.fields["hours"] is second.fields["hours"] is SearchForm.base_fields["hours"]
    for name in ("city", "activity", "language"):
        mine, theirs = first.fields[name], second.fields[name]
        assert mine is not theirs and mine.widget is not theirs.widget
        assert list(mine.widget.choices) == [("", mine.empty_label)]
    first.to_query(viewer_time_zone="Asia/Jakarta")
    assert "city" in first.errors  # no such city in its (empty) list
    second.to_query(viewer_time_zone="Asia/Jakarta")
    city = second.fields["city"]
    assert [str(value) for value, _label in city.widget.choices][1:] == [row.slug for row in city.listed()]
    assert SearchForm.base_fields["city"].queryset._result_cache is None
