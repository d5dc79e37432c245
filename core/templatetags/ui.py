"""Indonesian display formats (UI.md): money, phones, dates and times. Filters, not locale defaults."""

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import lru_cache
from urllib.parse import quote
from zoneinfo import ZoneInfo

from django import template
from django.conf import settings
from django.utils import dateformat, timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, get_language_info, gettext, ngettext

from core import formatting
from core.i18n import TIME_ZONE_ABBREVIATIONS

register = template.Library()


def _language() -> str:
    return get_language() or "id"


@register.filter
def rating(value) -> str:
    """Decimal("4.8") -> "4,8" ("4.8" on English pages)."""
    if value in (None, ""):
        return ""
    return formatting.format_rating(value, language=_language())


@register.filter
def rupiah(amount) -> str:
    """150000 -> "Rp 150.000" (no-break space; English pages use "Rp 150,000")."""
    if amount in (None, ""):
        return ""
    return formatting.format_rupiah(int(amount), language=_language())


@register.filter
def basis_points(value) -> str:
    """A commission in basis points as a percentage: 1500 -> "15%", 1250 -> "12,5%"."""
    if value in (None, ""):
        return ""
    return formatting.format_basis_points(int(value), language=_language())


@register.filter
def phone_display(e164: str) -> str:
    """+6281234567890 -> 0812-3456-7890."""
    return formatting.format_phone_national(e164) if e164 else ""


@register.filter
def local_time(moment: datetime, zone: str = "Asia/Jakarta") -> str:
    """An aware datetime as wall-clock time in `zone`: "19.00" / "7:00 PM"."""
    if not moment:
        return ""
    return formatting.format_time(moment.astimezone(ZoneInfo(zone)), language=_language())


@register.filter
def local_date(value, zone: str = "Asia/Jakarta") -> str:
    """ "Sabtu, 28 Nov 2026" for an aware datetime (in `zone`) or a date."""
    if not value:
        return ""
    day = value.astimezone(ZoneInfo(zone)).date() if isinstance(value, datetime) else value
    return formatting.format_date(day, language=_language())


@register.filter
def day_label(day: date, zone: str = "Asia/Jakarta") -> str:
    """ "Hari ini", "Besok", else "Sab, 28 Nov" (today as seen in `zone`)."""
    if not day:
        return ""
    today = timezone.localdate(timezone=ZoneInfo(zone))
    return formatting.format_day_short(day, today=today, language=_language())


@register.filter
def zone_abbr(zone: str) -> str:
    """ "Asia/Makassar" -> "WITA"."""
    return TIME_ZONE_ABBREVIATIONS.get(zone, "")


@register.filter
def time_left(moment: datetime, now: datetime | None = None) -> str:
    """Time from `now` until `moment`, rounded down to the minute: "5 jam 12 menit" (UI.md), never
    Django's "5 jam, 12 menit"."""
    if not moment:
        return ""
    minutes = int((moment - (now or timezone.now())).total_seconds() // 60)
    return formatting.format_duration(minutes, language=_language())


# --- The date strip of free times (components/date_strip.html) --------------------------------------
# A profile or slot picker shows up to a few hundred free start times. Through template filters each
# cost several lookups (the date filter alone reads formats and translations per call), which made these
# pages ~20x a page with no work. So the strip's labels are computed here, once per request, from
# formatters cached per (moment, zone, language): the same times recur on every companion's page.


@lru_cache(maxsize=256)
def _date_text(day: date, format_string: str, language: str) -> str:
    """Django's `date` filter for a date (its translated names: "Sel", "24 Nov"), cached per language."""
    return dateformat.format(day, format_string)


@lru_cache(maxsize=8192)
def _start_texts(start: datetime, zone: str, language: str, shown_in: tzinfo) -> tuple[str, str, str]:
    """(ISO 8601 as `date:'c'` writes it in the active zone, the same URL-encoded, "19.00"), escaped."""
    iso = start.astimezone(shown_in).isoformat()
    label = formatting.format_time(start.astimezone(ZoneInfo(zone)), language=language)
    return escape(iso), escape(quote(iso, safe="")), escape(label)


@dataclass(frozen=True)
class StripDay:
    anchor: str  # "day-2026-11-28": the day panel's id
    weekday: str  # "Sab"
    number: int  # 28
    count: int  # free start times that day
    heading: str  # "Hari ini", "Besok", "Sab, 28 Nov"
    date_text: str  # "Sab, 28 Nov" beside "Hari ini" and "Besok", else ""
    slots: SafeString  # the day's <li> items


@register.simple_tag
def strip_days(days, zone: str, book_url: str = "", hours: int | None = None) -> list[StripDay]:
    """The date strip's days (each `.day`, `.starts`) with every label ready: see date_strip.html.

    With `book_url`, each free time links to book_url?start=<ISO 8601>&hours=<hours>."""
    language = _language()
    shown_in = timezone.get_current_timezone()
    today = timezone.localdate(timezone=ZoneInfo(zone))
    if book_url:
        link = escape(book_url) + "?start={}" + (f"&amp;hours={escape(hours)}" if hours else "")
        item = '<li><a class="slot slot--link" href="' + link + '"><time datetime="{}">{}</time></a></li>'
    else:
        item = '<li><span class="slot"><time datetime="{}">{}</time></span></li>'
    result = []
    for position, entry in enumerate(days):
        day = entry.day
        items = []
        for start in entry.starts:
            iso, quoted, label = _start_texts(start, zone, language, shown_in)
            items.append(item.format(quoted, iso, label) if book_url else item.format(iso, label))
        result.append(
            StripDay(
                anchor=f"day-{day.isoformat()}",
                weekday=_date_text(day, "D", language),
                number=day.day,
                count=len(entry.starts),
                heading=formatting.format_day_short(day, today=today, language=language),
                date_text=_date_text(day, "D, j M", language) if position < 2 else "",
                slots=mark_safe("".join(items)),  # noqa: S308 - every value above is escaped
            )
        )
    return result


@lru_cache(maxsize=8)
def _strip_words(language: str) -> tuple[str, str, str]:
    """("free times", "No free times", "Choose a day") in `language`, escaped (the template's strings)."""
    return escape(gettext("free times")), escape(gettext("No free times")), escape(gettext("Choose a day"))


@register.simple_tag
def date_strip(days, zone: str, book_url: str = "", hours: int | None = None) -> SafeString:
    """The whole date strip (components/date_strip.html) written here rather than by two template loops
    over 14 days: the same HTML, from the labels `strip_days` computes."""
    free_times, no_free_times, choose_a_day = _strip_words(_language())
    tabs = []
    panels = []
    for d in strip_days(days, zone, book_url, hours):
        if d.count:
            count = f'{d.count}<span class="sr-only"> {free_times}</span>'
            body = f'<ul class="slot-grid" role="list">{d.slots}</ul>'
            empty = ""
        else:
            count = f'–<span class="sr-only"> {no_free_times}</span>'
            body = (
                '<p class="rounded-field border border-dashed border-line/50 px-4 py-3 text-sm text-muted">'
                f"{no_free_times}</p>"
            )
            empty = " date-strip__day--empty"
        date_text = f' <span class="font-normal text-muted">· {escape(d.date_text)}</span>' if d.date_text else ""
        tabs.append(
            f'<li><a class="date-strip__day{empty}" href="#{d.anchor}" data-day-tab="{d.anchor}">'
            f'<span class="text-xs font-semibold uppercase">{escape(d.weekday)}</span>'
            f'<span class="text-lg/6 font-bold">{d.number}</span>'
            f'<span class="text-xs">{count}</span></a></li>'
        )
        panels.append(
            f'<section id="{d.anchor}" class="scroll-mt-24" data-day-panel aria-labelledby="{d.anchor}-title">'
            f'<h3 id="{d.anchor}-title" class="mb-2 text-base font-semibold" tabindex="-1">{escape(d.heading)}'
            f"{date_text}</h3>{body}</section>"
        )
    html = (
        f'<div data-day-strip><ul class="date-strip" aria-label="{choose_a_day}">{"".join(tabs)}</ul>'
        f'<div class="mt-4 space-y-6">{"".join(panels)}</div></div>'
    )
    return mark_safe(html)  # noqa: S308 - every value above is escaped or built by strip_days from escaped parts


@lru_cache(maxsize=256)
def _hours_options(choices: tuple[int, ...], selected: int, language: str) -> str:
    return "".join(
        f'<option value="{choice}"{" selected" if choice == selected else ""}>'
        f"{escape(ngettext('%(hours)s hour', '%(hours)s hours', choice) % {'hours': choice})}</option>"
        for choice in choices
    )


@register.simple_tag
def hours_options(choices, selected) -> SafeString:
    """The <option>s of the "For how long" select (components/slot_hours_form.html): "1 jam" ... "12 jam",
    the one shown selected; the template's plural strings, written once per language and range."""
    return mark_safe(_hours_options(tuple(choices), selected, _language()))  # noqa: S308 - escaped above


# --- The language switch (components/language_switch.html, up to three times a page) ---------------


@dataclass(frozen=True)
class LanguageChoice:
    code: str  # "id"
    label: str  # "ID"
    name_local: str  # "Bahasa Indonesia": always in its own language
    current: bool


@lru_cache(maxsize=8)
def _language_choices(current: str) -> tuple[LanguageChoice, ...]:
    return tuple(
        LanguageChoice(code, code.upper(), get_language_info(code)["name_local"], code == current)
        for code, _name in settings.LANGUAGES
    )


@register.simple_tag
def language_choices() -> tuple[LanguageChoice, ...]:
    """The languages to switch to, the current one marked: what {% get_language_info_list %} gives, once
    per process instead of per switch."""
    return _language_choices(_language())
