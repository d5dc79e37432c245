"""What a visitor sees on the profile page stays the same while its templates are made faster.

A parser (html.parser) reads the rendered page into a flat list: each element with the attributes a
visitor or a browser acts on (links, form values, times, labels, classes, ids) and each text, whitespace
collapsed. The expected lists were generated from the templates as they were before the speed work
(issue 12) for a fixed dataset and a fixed clock, in both languages; regenerate them only for an
intended change of the page: UPDATE_RENDER_SNAPSHOTS=1 pytest tests/companions/test_profile_render.py
tests/bookings/test_slot_render.py.
"""

import json
import os
import re
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from companions.models import CompanionProfile, TimeOff
from tests.bookings.helpers import NOW, make_companion, new_customer, request

KEPT_ATTRIBUTES = (
    "id",
    "class",
    "href",
    "action",
    "method",
    "name",
    "value",
    "type",
    "selected",
    "checked",
    "disabled",
    "required",
    "datetime",
    "alt",
    "lang",
    "for",
    "role",
    "aria-label",
    "aria-labelledby",
    "aria-describedby",
    "aria-current",
    "aria-pressed",
    "hx-get",
    "hx-post",
    "hx-select",
    "hx-target",
    "data-day-tab",
    "data-day-panel",
    "data-day-strip",
)
# Decoration without content for a visitor (icons are aria-hidden; scripts and styles are not shown).
SKIPPED_TAGS = {"script", "style", "svg"}
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Extractor(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.items: list[str] = []
        self.skipping = 0
        self.text: list[str] = []

    def _flush(self) -> None:
        text = " ".join("".join(self.text).split())
        if text:
            self.items.append(text)
        self.text = []

    def handle_starttag(self, tag, attrs):
        if self.skipping or tag in SKIPPED_TAGS:
            if tag not in VOID_TAGS:
                self.skipping += 1
            return
        self._flush()
        kept = []
        for name, value in attrs:
            if name not in KEPT_ATTRIBUTES:
                continue
            if name == "class":
                value = " ".join(sorted((value or "").split()))
            if name == "value" and ("csrfmiddlewaretoken",) == tuple(v for n, v in attrs if n == "name"):
                value = "<csrf>"
            kept.append(f"{name}={value}" if value is not None else name)
        self.items.append(f"<{tag} {' '.join(sorted(kept))}>".replace(" >", ">"))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID_TAGS and (self.skipping or tag in SKIPPED_TAGS):
            self.skipping -= 1

    def handle_endtag(self, tag):
        if self.skipping:
            if tag not in VOID_TAGS:
                self.skipping -= 1
            return
        if tag in VOID_TAGS:
            return
        self._flush()
        self.items.append(f"</{tag}>")

    def handle_data(self, data):
        if not self.skipping:
            self.text.append(data)


def visible_items(html: str) -> list[str]:
    """The page's <body> as a flat list of elements (kept attributes only) and texts."""
    body = html[html.index("<body") :]
    body = re.sub(r"© \d{4} Kompanion", "© YEAR Kompanion", body)  # {% now %} reads the real clock
    extractor = _Extractor()
    extractor.feed(body)
    extractor.close()
    extractor._flush()
    return extractor.items


def check_snapshot(path: Path, pages: dict[str, str]) -> None:
    """Compare each page's visible items with the stored ones (or store them, UPDATE_RENDER_SNAPSHOTS=1)."""
    found = {case: visible_items(html) for case, html in pages.items()}
    if os.environ.get("UPDATE_RENDER_SNAPSHOTS") == "1":
        path.write_text(json.dumps(found, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert found.keys() == expected.keys()
    for case in expected:
        assert found[case] == expected[case], case


@pytest.fixture
def fixed_clock(monkeypatch):
    """The booking tests' clock (Tuesday 24 November 2026, 08:00 WIB) for the views and selectors."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    return NOW


def fixed_dataset() -> CompanionProfile:
    """A Jakarta companion (08.00-22.00 every day) with fixed slug, two bookings and a day off, so the
    strip has full days, days with gaps and an empty day; plus an unrelated companion in Bali."""
    profile = make_companion(name="Ayu", activities=("hangout", "culinary"), languages=("id", "en"))
    CompanionProfile.objects.filter(pk=profile.pk).update(slug="ayu-fixed")
    profile.refresh_from_db()
    wib = ZoneInfo("Asia/Jakarta")
    customer = new_customer()
    request(customer, profile, start=datetime(2026, 11, 25, 14, 0, tzinfo=wib), hours=3)
    request(customer, profile, start=datetime(2026, 11, 27, 10, 0, tzinfo=wib), hours=2)
    TimeOff.objects.create(profile=profile, start_date=date(2026, 11, 29), end_date=date(2026, 11, 29))
    make_companion(name="Made", city="denpasar")
    return profile


def language_cookie(client, language: str) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language


@pytest.mark.django_db
def test_profile_page_shows_the_same_as_before(client, fixed_clock):
    profile = fixed_dataset()
    url = reverse("companions:profile", args=[profile.slug])
    pages = {}
    for language in ("id", "en"):
        language_cookie(client, language)
        for case, params in (("default", {}), ("three-hours", {"hours": 3})):
            response = client.get(url, params)
            assert response.status_code == 200
            pages[f"{language}-{case}"] = response.content.decode()
    check_snapshot(Path(__file__).with_name("test_profile_render_expected.json"), pages)
