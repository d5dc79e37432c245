"""`manage.py rotate_encryption_keys`: every encrypted field re-encrypted with the new key, so the old
key can be dropped (core/crypto.py promised rotation; nothing re-encrypted old rows)."""

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db.models import TextField
from django.db.models.functions import Cast
from django.test import override_settings

from companions.models import IdentityVerification, VerificationStatus
from tests.companions.helpers import listed_companion

pytestmark = pytest.mark.django_db

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
NIKS = ["3174016104960001", "3273015507890002", "3578016512000003"]


def stored() -> dict[int, str]:
    """The ciphertext as stored, by primary key."""
    return dict(IdentityVerification.objects.annotate(raw=Cast("nik", TextField())).values_list("pk", "raw"))


def plain() -> dict[int, str]:
    return dict(IdentityVerification.objects.values_list("pk", "nik"))


@pytest.fixture
def old_rows():
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD_KEY]):
        rows = [
            IdentityVerification.objects.create(
                profile=listed_companion(name=f"Ayu{index}"),
                status=VerificationStatus.APPROVED,
                ktp_image="identity/ktp.jpg",
                selfie_image="identity/selfie.jpg",
                nik=nik,
                nik_last4=nik[-4:],
                nik_fingerprint=f"fingerprint-{index}",
            )
            for index, nik in enumerate(NIKS)
        ]
    return {row.pk: nik for row, nik in zip(rows, NIKS, strict=True)}


def run(*arguments: str) -> str:
    out = StringIO()
    call_command("rotate_encryption_keys", *arguments, stdout=out)
    return out.getvalue()


def line_for(output: str, label: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(label + ":"))


def test_rotation_lets_the_old_key_go(old_rows):
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]):
        with pytest.raises(ValueError, match="cannot decrypt"):
            plain()  # the precondition: without the old key the rows are unreadable

    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
        before = stored()
        dry = run("--dry-run")
        assert line_for(dry, "companions.IdentityVerification.nik") == (
            "companions.IdentityVerification.nik: 3 would rotate, 0 already current, 0 changed meanwhile, 0 unreadable"
        )
        assert stored() == before  # a dry run writes nothing

        output = run("--batch-size", "2")  # two batches
        assert line_for(output, "companions.IdentityVerification.nik") == (
            "companions.IdentityVerification.nik: 3 rotated, 0 already current, 0 changed meanwhile, 0 unreadable"
        )
        # Every encrypted field of every app is visited, also the empty tables.
        for label in ("payments.Refund.account_number",):
            assert line_for(output, label).startswith(f"{label}: 0 rotated")
        after = stored()
        assert all(after[pk] != before[pk] for pk in before)

        again = run()  # idempotent: nothing left under the old key
        assert line_for(again, "companions.IdentityVerification.nik") == (
            "companions.IdentityVerification.nik: 0 rotated, 3 already current, 0 changed meanwhile, 0 unreadable"
        )
        assert stored() == after

    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]):
        assert plain() == old_rows


def test_a_value_no_key_opens_is_reported_and_left_alone(old_rows):
    stranger = Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[stranger]):
        IdentityVerification.objects.filter(pk=min(old_rows)).update(nik="3174016104960009")  # encrypted now
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
        before = stored()
        out = StringIO()
        with pytest.raises(CommandError, match="1 value"):
            call_command("rotate_encryption_keys", stdout=out)
        assert line_for(out.getvalue(), "companions.IdentityVerification.nik") == (
            "companions.IdentityVerification.nik: 2 rotated, 0 already current, 0 changed meanwhile, 1 unreadable"
        )
        assert stored()[min(old_rows)] == before[min(old_rows)]


def test_a_row_saved_meanwhile_is_not_overwritten(old_rows, monkeypatch):
    from core import crypto

    target = min(old_rows)
    original_rotate = crypto.rotate

    def rotate_while_someone_saves(token: str) -> str:
        rotated = original_rotate(token)
        if token == before[target]:
            IdentityVerification.objects.filter(pk=target).update(nik="3174016104960042")
        return rotated

    monkeypatch.setattr(crypto, "rotate", rotate_while_someone_saves)
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
        before = stored()
        output = run()
        assert line_for(output, "companions.IdentityVerification.nik") == (
            "companions.IdentityVerification.nik: 2 rotated, 0 already current, 1 changed meanwhile, 0 unreadable"
        )
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]):
        assert plain() == {**old_rows, target: "3174016104960042"}
