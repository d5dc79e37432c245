"""core.bulk.update_rows: many rows' new values in one statement per batch (PostgreSQL: arrays through
unnest), nulls, dates and big integers included, and only the given rows and fields touched."""

from datetime import date

import pytest

from companions.models import LevelStanding
from core import bulk
from tests.companions.helpers import listed_companion

pytestmark = pytest.mark.django_db


def test_each_row_gets_its_own_values_in_batches_and_nothing_else_changes(monkeypatch, django_assert_num_queries):
    profiles = [listed_companion() for _ in range(5)]
    for profile in profiles:
        LevelStanding.objects.create(profile=profile, override_reason="kept")
    monkeypatch.setattr(bulk, "BATCH", 2)
    rows = [(profile.pk, index, None if index % 2 else index, 10**12 + index, date(2026, 12, index + 1))
            for index, profile in enumerate(profiles[:4])]  # fmt: skip
    with django_assert_num_queries(2 if bulk.connection.vendor == "postgresql" else 1):
        bulk.update_rows(LevelStanding, ("completed", "cancellation_rate", "recent_subtotal", "computed_on"), rows)
    found = {
        row[0]: row[1:]
        for row in LevelStanding.objects.values_list(
            "pk", "completed", "cancellation_rate", "recent_subtotal", "computed_on", "override_reason"
        )
    }
    for pk, *values in rows:
        assert found[pk] == (*values, "kept")
    assert found[profiles[4].pk] == (0, None, 0, None, "kept")
    assert bulk.update_rows(LevelStanding, ("completed",), []) == 0
