"""Taking a person's identifiers (names, email, phone) out of text that others wrote or that was rendered
for others (a notification naming them, a staff note, a report): used by the apps' purges (issue 15).

Pure Python, no app: each app's `personal_data.purge` collects the identifiers once (before the accounts
purge blanks them, which runs last) and passes them here."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

# The marker that replaces a text the person wrote where the column cannot be empty (a chat message).
ERASED_TEXT = "[deleted]"

# Shorter needles (a two-letter first name) would cut words out of unrelated text.
MIN_NEEDLE_LENGTH = 3


def _pattern(needles: Iterable[str]) -> re.Pattern[str] | None:
    usable = sorted({needle.strip() for needle in needles if needle and len(needle.strip()) >= MIN_NEEDLE_LENGTH},
                    key=len, reverse=True)  # fmt: skip
    if not usable:
        return None
    # Whole words only (a name inside another word stays), case-insensitive.
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(needle) for needle in usable) + r")(?!\w)", re.IGNORECASE)


def redact(text: str, needles: Iterable[str], replacement: str) -> str:
    """`text` with every needle (as a whole word) replaced."""
    if not text:
        return text
    pattern = _pattern(needles)
    return pattern.sub(replacement, text) if pattern else text


def redact_json(value: Any, needles: Iterable[str], replacement: str) -> Any:
    """Every string inside a JSON value (dicts, lists), redacted."""
    pattern = _pattern(needles)
    if pattern is None:
        return value

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            return pattern.sub(replacement, item)
        if isinstance(item, list):
            return [walk(part) for part in item]
        if isinstance(item, dict):
            return {key: walk(part) for key, part in item.items()}
        return item

    return walk(value)


def contains(value: Any, needles: Iterable[str]) -> bool:
    """Whether any needle occurs (as a whole word) in a text or a JSON value."""
    pattern = _pattern(needles)
    if pattern is None or value in (None, "", [], {}):
        return False
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return pattern.search(text) is not None
