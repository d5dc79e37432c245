"""The daily retention job (issue 15): every rule the apps registered (core.personal_data.register_retention,
each in `<app>/retention.py`), each period a setting in days. A failing rule is logged and the others run."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from core import personal_data

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Period:
    name: str
    text: str
    days: int


def run_all(now: datetime | None = None) -> dict[str, int]:
    """Runs every rule at `now`; returns how many rows or files each touched (-1: it failed)."""
    now = now or timezone.now()
    touched: dict[str, int] = {}
    for rule in personal_data.retention_rules():
        try:
            touched[rule.name] = rule.run(now)
        except Exception:
            logger.exception("retention rule %s failed; the next run tries again", rule.name)
            touched[rule.name] = -1
    return touched


def periods() -> list[Period]:
    """For the privacy pages: each rule's sentence and its period in days."""
    return [
        Period(rule.name, str(rule.describe()), int(getattr(settings, rule.setting, 0)))
        for rule in personal_data.retention_rules()
    ]
