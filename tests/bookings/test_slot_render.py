"""What a customer sees on the slot picker (booking step 1) and on step 2 stays the same while the
templates are made faster: see tests/companions/test_profile_render.py for how the pages are read."""

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from accounts.models import User
from tests.companions.test_profile_render import check_snapshot, fixed_clock, fixed_dataset, language_cookie

__all__ = ["fixed_clock"]  # the fixture, imported for the tests below

WIB = ZoneInfo("Asia/Jakarta")


@pytest.mark.django_db
def test_slot_picker_and_step_two_show_the_same_as_before(client, fixed_clock):
    profile = fixed_dataset()
    viewer = User.objects.get(pk=profile.bookings.first().customer_id)
    # Fixed name and address (the factory's vary), and a zone other than the meeting's.
    User.objects.filter(pk=viewer.pk).update(
        full_name="Sari Wulandari", email="sari@example.id", time_zone="Asia/Makassar"
    )
    client.force_login(viewer)
    url = reverse("bookings:new", args=[profile.slug])
    free = datetime(2026, 11, 26, 19, 0, tzinfo=WIB).isoformat()
    taken = datetime(2026, 11, 25, 15, 0, tzinfo=WIB).isoformat()
    cases = {
        "picker": ({}, 200),
        "picker-three-hours": ({"hours": 3}, 200),
        "picker-bad-start": ({"start": "yesterday"}, 400),
        "step-two": ({"start": free, "hours": 2}, 200),
        "step-two-taken": ({"start": taken, "hours": 2}, 409),
    }
    pages = {}
    for language in ("id", "en"):
        language_cookie(client, language)
        for case, (params, status) in cases.items():
            response = client.get(url, params)
            assert response.status_code == status, case
            pages[f"{language}-{case}"] = response.content.decode()
    check_snapshot(Path(__file__).with_name("test_slot_render_expected.json"), pages)
