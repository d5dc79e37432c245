"""Rendering the search page with less template work (issue 12).

Django renders a form widget through its template engine: a <select> is one template plus one
`{% include %}` of select_option.html and attrs.html per option, so the search form's eight controls
(about a hundred options: the cities, the times of day...) cost more than everything else on the page.
`QuickBoundField` writes the same HTML for plain inputs and selects in Python, from the same widget
context (attributes, ids, aria-invalid / aria-describedby, the selected option); any other widget, and
any case it does not know, goes through Django's own rendering. tests/companions/test_search_render_form.py
compares both outputs character for character.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.forms import BoundField
from django.forms.widgets import Input, Select, Widget
from django.template.loader import get_template
from django.urls import reverse
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from companions import page_cache
from companions.models import CompanionProfile, Level, VerificationStatus
from core import formatting

# The templates whose output `_input` and `_select` reproduce (each of these input templates only
# includes django/forms/widgets/input.html).
INPUT_TEMPLATES = {
    f"django/forms/widgets/{name}.html"
    for name in ("input", "text", "number", "date", "email", "search", "url", "time", "tel", "hidden")
}
SELECT_TEMPLATE = "django/forms/widgets/select.html"
OPTION_TEMPLATE = "django/forms/widgets/select_option.html"


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html: True -> a bare name, False -> left out, else name="value"."""
    return "".join(
        f" {conditional_escape(name)}"
        if value is True
        else f' {conditional_escape(name)}="{conditional_escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _text(value) -> str:
    """`{{ value }}` in a template: numbers and dates localized, then escaped."""
    return conditional_escape(value if isinstance(value, str) else str(localize(value)))


# Both write what the templates write, after the form renderer's strip() (no trailing newline).
def _input(widget: dict) -> str:
    value = "" if widget["value"] is None else f' value="{conditional_escape(widget["value"])}"'
    name = conditional_escape(widget["name"])
    return f'<input type="{conditional_escape(widget["type"])}" name="{name}"{value}{_attrs(widget["attrs"])}>'


def _select(widget: dict) -> str:
    parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in options:
            parts.append(
                f'\n  <option value="{conditional_escape(option["value"])}"{_attrs(option["attrs"])}>'
                f"{_text(option['label'])}</option>\n"
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _quick_renderer(widget: Widget):
    if type(widget).render is not Widget.render or widget.is_localized:
        return None  # a widget with its own render(): only Django knows what it writes
    if isinstance(widget, Input) and widget.template_name in INPUT_TEMPLATES:
        return _input
    if isinstance(widget, Select) and widget.template_name == SELECT_TEMPLATE:
        if widget.option_template_name == OPTION_TEMPLATE:
            return _select
    return None


class QuickBoundField(BoundField):
    """A BoundField whose plain inputs and selects render without the template engine (same HTML)."""

    def as_widget(self, widget=None, attrs=None, only_initial=False) -> SafeString:
        widget = widget or self.field.widget
        render = None if only_initial or self.field.localize else _quick_renderer(widget)
        if render is None:
            return super().as_widget(widget=widget, attrs=attrs, only_initial=only_initial)
        attrs = self.build_widget_attrs(attrs or {}, widget)
        if self.auto_id and "id" not in widget.attrs:
            attrs.setdefault("id", self.auto_id)
        context = widget.get_context(self.html_name, self.value(), attrs)
        return mark_safe(render(context["widget"]))  # noqa: S308 (every value above is escaped)


# (field name, language, its attributes, the value shown) -> (the list of rows its options come from, or
# None for a fixed choice list, and the <select> written): the search form's selects as written before.
_selects: dict[tuple, tuple[list | None, str]] = {}
MAX_KEPT_SELECTS = 2000


class SearchBoundField(QuickBoundField):
    """The search form's fields: a select is written once per process for each value and language, then
    kept. Its options are the form's fixed choices (the same for every SearchForm) or the rows of a
    reference list (ReferenceChoiceField.listed()): a kept select is used only for that same list object,
    so a list read again (its global version moved) writes its selects again."""

    def as_widget(self, widget=None, attrs=None, only_initial=False) -> SafeString:
        field = self.field
        if widget is not None or attrs or only_initial or _quick_renderer(field.widget) is not _select:
            return super().as_widget(widget=widget, attrs=attrs, only_initial=only_initial)
        rows = field.listed() if hasattr(field, "listed") else None
        attrs = self.build_widget_attrs({}, field.widget)
        if self.auto_id and "id" not in field.widget.attrs:
            attrs.setdefault("id", self.auto_id)
        key = (self.html_name, get_language(), tuple(attrs.items()), str(self.value()))
        kept = _selects.get(key)
        if kept is not None and kept[0] is rows:
            return mark_safe(kept[1])  # noqa: S308 (written by _select)
        html = super().as_widget()
        if len(_selects) >= MAX_KEPT_SELECTS:
            _selects.clear()
        _selects[key] = (rows, str(html))
        return html


FIELD_TEMPLATE = "components/field.html"
ICON_ALERT_TEMPLATE = "components/icon_alert.html"


def field_html(field: BoundField, *, label: str | None = None) -> SafeString:
    """`{% include "components/field.html" with field=field hide_optional=True label=label %}`, written
    in Python: the same HTML, whitespace included, for a field that is neither hidden, a checkbox nor a
    fieldset (any other goes through the template). tests/companions/test_search_render_form.py compares
    both outputs character for character."""
    if field.is_hidden or field.widget_type == "checkbox" or field.use_fieldset:
        context = {"field": field, "hide_optional": True, "label": label}
        return get_template(FIELD_TEMPLATE).render(context)
    auto_id = conditional_escape(field.auto_id)
    errors = field.errors
    parts = [
        f'\n\n  <div class="form-field form-field--{conditional_escape(field.widget_type)}'
        f'{" form-field--invalid" if errors else ""}">\n'
        f'    <label class="field-label" for="{conditional_escape(field.id_for_label)}">'
        f"{conditional_escape(label or field.label)}</label>\n    "
    ]
    if field.help_text:
        parts.append(f'\n      <div class="field-help" id="{auto_id}_helptext">{field.help_text}</div>\n    ')
    parts.append("\n    ")
    if errors:
        items = "".join(f"<li>{conditional_escape(error)}</li>" for error in errors)
        icon = get_template(ICON_ALERT_TEMPLATE).render({})
        parts.append(f'\n      <div class="field-error" id="{auto_id}_error">{icon}<ul>{items}</ul></div>\n    ')
    parts.append(f"\n    {field}\n  </div>\n\n")
    return mark_safe("".join(parts))  # noqa: S308 (every value above is escaped, help text is trusted as in the template)


class SearchFields:
    """The search form's fields as components/field.html writes them (hide_optional), each rendered when
    the template first reads it: `{{ fields.city }}`."""

    def __init__(self, form, *, labels: dict[str, str] | None = None):
        self.form, self.labels = form, labels or {}

    def __getitem__(self, name: str) -> SafeString:
        return field_html(self.form[name], label=self.labels.get(name))


# --- Result cards ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    """One search result with its labels computed once, in Python, as text (components/companion_card.html
    only places them)."""

    profile: CompanionProfile
    href: str
    name: str
    initial: str
    age: str
    city: str
    price: str
    min_hours: str
    verified: bool
    thumbnail_url: str
    activities: list[str]
    more_activities: int
    rating: str = ""  # "4,8" from RATING_SHOWN_FROM published reviews on, else empty
    reviews: str = ""  # "12 ulasan"
    level: str = Level.BARU  # the level's value; level_name its name (the same in every language)
    level_name: str = Level.BARU.label
    promoted: bool = False  # lifted to the top of the page by a Sorotan promotion: labelled "Promoted"


SHOWN_ACTIVITIES = 3
# Part of every card's cache key: bump when the card's HTML changes, so a deploy never serves old cards.
CARD_FORMAT = 4
CARD_TEMPLATE = "components/companion_card.html"
PROFILE_URL_SLUG = "slug-placeholder"


class CardMaker:
    """Builds the page's cards: what is the same for every card (the translated labels, the profile URL
    pattern) is looked up once per request."""

    def __init__(self, *, today: date, language: str):
        self.today, self.language = today, language
        self.labels = {
            "verified": _("KTP verified"),
            "hour": _("hour"),
            "activities": _("Activities"),
            "level": _("Level"),
            "promoted": _("Promoted"),
        }
        # One reverse() for the page: a slug is URL-safe as it is ([-a-zA-Z0-9_]), so it is put in as is.
        self.profile_url = reverse("companions:profile", args=[PROFILE_URL_SLUG])
        self.min_hours: dict[int, str] = {}

    def card(self, profile: CompanionProfile, *, promoted: bool = False) -> Card:
        """Needs the profile's user and city selected and its cover photos and activities prefetched."""
        activities = [activity.name for activity in profile.activities.all()]
        age = profile.user.age_on(self.today)
        return Card(
            profile=profile,
            href=self.profile_url.replace(PROFILE_URL_SLUG, profile.slug),
            name=profile.display_name,
            initial=profile.display_name[:1].upper(),
            age=str(age) if age else "",
            city=profile.city.name if profile.city else "",
            price=formatting.format_rupiah(profile.hourly_rate, language=self.language),
            min_hours=self._min_hours(profile.min_hours),
            verified=profile.verification_status == VerificationStatus.APPROVED,
            thumbnail_url=profile.cover_photos[0].thumbnail.url if profile.cover_photos else "",
            activities=activities[:SHOWN_ACTIVITIES],
            more_activities=max(0, len(activities) - SHOWN_ACTIVITIES),
            level=profile.level,
            level_name=profile.get_level_display(),
            promoted=promoted,
            **self._rating(profile),
        )

    def _rating(self, profile: CompanionProfile) -> dict[str, str]:
        if profile.rating is None:
            return {}
        count = profile.rating_count
        return {
            "rating": formatting.format_rating(profile.rating, language=self.language),
            "reviews": ngettext("%(count)s review", "%(count)s reviews", count) % {"count": count},
        }

    def _min_hours(self, hours: int) -> str:
        if hours not in self.min_hours:
            self.min_hours[hours] = ngettext("min. %(hours)s hour", "min. %(hours)s hours", hours) % {"hours": hours}
        return self.min_hours[hours]

    def shown(
        self,
        rows: list[tuple[int, str]],
        *,
        load: Callable[[list[int]], dict],
        seen: dict | None = None,
        promoted: set[int] | frozenset[int] = frozenset(),
    ) -> list["Shown"]:
        """The page's results, (id, slug) in order, with their cards' HTML: from the card cache where a
        companion is unchanged since it was rendered (page_cache.cached_many: keyed by the companion's
        version, the language and the day, for the age), else rendered now from the profiles that
        `load(ids)` returns (id -> profile, loaded only for the cards missed). A result whose profile is
        no longer listed by then is left out. `seen`: see page_cache.cached_many. `promoted`: the ids whose
        card is labelled "Promoted" (selectors.promoted_on_page); the label is part of the card's key."""
        template = get_template(CARD_TEMPLATE)
        cards: dict[int, Card] = {}

        def render(indexes: list[int]) -> list[str | None]:
            profiles = load([rows[index][0] for index in indexes])
            rendered = []
            for index in indexes:
                profile = profiles.get(rows[index][0])
                if profile is None:
                    rendered.append(None)
                    continue
                cards[index] = card = self.card(profile, promoted=profile.pk in promoted)
                rendered.append(template.render({"card": card, "labels": self.labels}))
            return rendered

        html = page_cache.cached_many(
            "card",
            [(slug, (slug, self.language, self.today.isoformat(), CARD_FORMAT, pk in promoted)) for pk, slug in rows],
            render=render,
            seen=seen,
        )
        return [
            Shown(pk=pk, slug=slug, html=mark_safe(text), card=cards.get(index))  # noqa: S308
            for index, ((pk, slug), text) in enumerate(zip(rows, html, strict=True))
            if text is not None
        ]


@dataclass(frozen=True)
class Shown:
    """One result on the page: its card's HTML, and the Card when it was rendered for this request (None
    when the HTML came from the card cache: nothing of the profile was loaded)."""

    pk: int
    slug: str
    html: SafeString
    card: Card | None

    @property
    def profile(self) -> CompanionProfile | None:
        return self.card.profile if self.card else None
