"""The personal-data registry (core/personal_data.py, issue 15): every model that holds a person's data is
declared by some app, every declaration's export runs, and an export contains every registered kind."""

import io
import json
import zipfile

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.utils import timezone

from companions.models import CompanionProfile
from core import personal_data
from privacy import export
from tests.privacy.people import seed_person

# Models without a foreign key to the user that still hold a person's data, found by other means.
ALSO_PERSONAL = {"sessions.Session"}


def personal_models() -> set[str]:
    user_model = get_user_model()
    found = set(ALSO_PERSONAL)
    for model in apps.get_models():
        if getattr(model, "PERSONAL_FIELDS", None):
            found.add(model._meta.label)
        for field in model._meta.get_fields():
            if (
                getattr(field, "concrete", False)
                and field.is_relation
                and field.related_model
                in (
                    user_model,
                    CompanionProfile,
                )
            ):
                found.add(model._meta.label)
    return found


def test_every_model_with_personal_data_is_declared():
    missing = personal_models() - personal_data.covered_models()
    assert not missing, f"declare these in an app's personal_data.py: {sorted(missing)}"


def test_declarations_name_real_models_and_personal_fields_exist():
    for declaration in personal_data.declarations():
        for label in declaration.models:
            apps.get_model(label)  # raises LookupError for a typo
    for model in apps.get_models():
        for name in getattr(model, "PERSONAL_FIELDS", ()):
            model._meta.get_field(name)


def test_the_registry_knows_each_app_that_holds_personal_data():
    apps_declared = {label.split(".")[0] for label in personal_data.covered_models()}
    assert {"accounts", "companions", "bookings", "payments", "reviews", "chat", "notifications", "safety",
            "privacy", "account", "mfa", "sessions", "admin"} <= apps_declared  # fmt: skip


@pytest.mark.django_db
def test_every_declaration_exports_json_rows_for_a_seeded_person():
    seeded = seed_person()
    ctx = personal_data.ExportContext(now=timezone.now())
    for declaration in personal_data.declarations():
        assert declaration.export is not None, declaration.kind
        rows = list(declaration.export(seeded.person, ctx))
        json.dumps(rows)  # JSON-ready: dates as strings
        assert all(isinstance(row, dict) for row in rows), declaration.kind


# Kinds the seeded person has nothing of (they are not staff).
EMPTY_FOR_THE_SEEDED_PERSON = {"admin_log"}


@pytest.mark.django_db
def test_an_export_of_a_seeded_person_contains_every_registered_kind():
    seeded = seed_person()
    out = io.BytesIO()
    manifest = export.write_archive(seeded.person, out, now=timezone.now())
    with zipfile.ZipFile(out) as archive:
        data = json.loads(archive.read("data.json"))
    kinds = {declaration.kind for declaration in personal_data.declarations()}
    assert set(data["kinds"]) == kinds == set(manifest["kinds"]) == set(data["manifest"]["kinds"])
    empty = {kind for kind, rows in data["kinds"].items() if not rows}
    assert empty <= EMPTY_FOR_THE_SEEDED_PERSON, f"the seed should give every kind a row: {sorted(empty)}"
    assert data["manifest"]["counts"] == {kind: len(rows) for kind, rows in data["kinds"].items()}
