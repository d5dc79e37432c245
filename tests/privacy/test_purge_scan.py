"""The purge after the grace period (issue 15), with a fake clock: afterwards nothing in the database (every
text, character and JSON column of every table) or in any storage holds the person's email, phone (E.164
and national), names, NIK or bank account numbers; their files are gone; the ledger still balances; the
other party's booking and reviews read "former user". A purge that fails midway changes nothing and the
next run completes; the journal replay is idempotent."""

from datetime import timedelta

import pytest
from django.core.files.storage import storages
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.models import User
from companions.models import private_storage
from core import personal_data
from payments import ledger
from privacy import deletion, journal
from privacy.models import DeletionRequest, DeletionStatus, PendingShred, PurgeRecord
from tests.bookings.helpers import NOW
from tests.privacy.people import seed_person
from tests.privacy.scan import database_hits, file_hits, stored_files

pytestmark = pytest.mark.django_db

DUE = NOW + timedelta(days=15)


def needles_of(seeded) -> list[str]:
    # The full name's parts and the display name too, not only the whole name.
    return [*seeded.needles(), "Sulastri", "Wibisono", "Lastri"]


def person_files(seeded) -> set[tuple[str, str]]:
    return {entry for entry in stored_files() if entry not in FILES_BEFORE_SEED}


FILES_BEFORE_SEED: set = set()


@pytest.fixture
def seeded():
    FILES_BEFORE_SEED.clear()
    FILES_BEFORE_SEED.update(stored_files())
    seeded = seed_person()
    # The seeded person has open reports (which block a deletion): staff close them first.
    from chat.models import Report as ChatReport
    from safety.models import PersonReport

    PersonReport.objects.update(status="dismissed")
    ChatReport.objects.update(status=ChatReport.Status.CLOSED)
    from reviews.models import SafetyReport

    SafetyReport.objects.update(handled_at=NOW)
    return seeded


def schedule(seeded) -> DeletionRequest:
    """As the deletion page does, except the blockers: the seeded companion still has earnings to be paid
    out (the purge test is about what the purge leaves, not about what blocks the request)."""
    User.objects.filter(pk=seeded.person.pk).update(is_active=False)
    return DeletionRequest.objects.create(user=seeded.person, requested_at=NOW, purge_after=NOW + timedelta(days=14))


def test_after_the_purge_nothing_in_the_database_or_the_storages_holds_the_person(
    seeded, django_capture_on_commit_callbacks
):
    needles = needles_of(seeded)
    assert database_hits(needles), "the seed must put the person's details in the database"
    files = person_files(seeded)
    assert len(files) >= 5  # avatar, photo and thumbnail, KTP and selfie
    schedule(seeded)
    # Not due yet: nothing happens.
    assert deletion.purge_due(NOW + timedelta(days=13)).purged == 0
    with django_capture_on_commit_callbacks(execute=True):
        outcome = deletion.purge_due(DUE)
    assert (outcome.purged, outcome.failed) == (1, 0)

    assert database_hits(needles) == []
    assert file_hits(needles) == []
    for alias, name in files:
        assert not storages[alias].exists(name), (alias, name)
    assert not PendingShred.objects.exists()
    from companions.models import IdentityVerification

    verification = IdentityVerification.objects.get(profile=seeded.profile)
    assert verification.nik == "" and verification.nik_last4 == seeded.needles()[6][-4:]

    person = User.objects.get(pk=seeded.person.pk)
    assert person.erased_at == DUE and not person.is_active
    assert DeletionRequest.objects.get(user=person).status == DeletionStatus.PURGED
    assert PurgeRecord.objects.filter(user_id=person.pk).exists()
    report = ledger.check()
    assert report.balanced, report

    # The other parties' pages read sensibly: "former user" where the person was.
    other = Client()
    other.force_login(seeded.other_companion.user)
    page = other.get(reverse("bookings:detail", args=[seeded.as_customer.reference]))
    assert page.status_code == 200
    assert "Mantan pengguna" in page.content.decode()
    customer = Client()
    customer.force_login(seeded.customer)
    page = customer.get(reverse("bookings:detail", args=[seeded.as_companion.reference]))
    assert page.status_code == 200
    assert "Mantan pengguna" in page.content.decode()

    page = customer.get(reverse("bookings:list") + "?tab=past")
    assert page.status_code == 200 and "Mantan pengguna" in page.content.decode()

    # The customer's notifications about the booking with them name a former user too.
    from notifications import messages as notification_messages

    facts = notification_messages.bookings_by_reference([seeded.as_companion.reference])
    assert facts[seeded.as_companion.reference].companion_name == "Mantan pengguna"

    # Their review of Ayu stays on Ayu's profile, by a former user.
    page = Client().get(reverse("companions:profile", args=[seeded.other_companion.slug]))
    assert page.status_code == 200
    assert "Mantan pengguna" in page.content.decode()

    # A second run finds nothing to do.
    assert deletion.purge_due(DUE + timedelta(hours=1)).purged == 0


def test_a_purge_that_fails_midway_changes_nothing_and_the_next_run_completes(
    seeded, django_capture_on_commit_callbacks
):
    needles = needles_of(seeded)
    schedule(seeded)
    before = sorted(database_hits(needles))
    files = person_files(seeded)
    calls = []

    def failing_purge(user, ctx):
        calls.append(user.pk)
        raise RuntimeError("the storage went away midway")

    # Registered like any app's declaration, last in order, so every real purge has run before it raises.
    personal_data.register("zz_failing", models=(), export=None, purge=failing_purge, order=10_000)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            outcome = deletion.purge_due(DUE)
        assert (outcome.purged, outcome.failed) == (0, 1) and calls == [seeded.person.pk]
        assert sorted(database_hits(needles)) == before
        for alias, name in files:
            assert storages[alias].exists(name), (alias, name)
        assert not PendingShred.objects.exists()
        assert not PurgeRecord.objects.exists()
        person = User.objects.get(pk=seeded.person.pk)
        assert person.erased_at is None and person.email == seeded.needles()[1]
        assert DeletionRequest.objects.get(user=person).status == DeletionStatus.SCHEDULED
    finally:
        personal_data._registry.declarations.pop("zz_failing")
    with django_capture_on_commit_callbacks(execute=True):
        assert deletion.purge_due(DUE + timedelta(hours=1)).purged == 1
    assert database_hits(needles) == []
    for alias, name in files:
        assert not storages[alias].exists(name)


def test_a_deletion_cancelled_before_the_purge_runs_is_not_purged(seeded):
    schedule(seeded)
    assert deletion.deletion_cancel(seeded.person, NOW + timedelta(days=3))
    assert deletion.purge_due(DUE).purged == 0
    person = User.objects.get(pk=seeded.person.pk)
    assert person.is_active and person.erased_at is None


def test_a_storage_outage_after_the_commit_is_left_to_the_sweep(
    seeded, django_capture_on_commit_callbacks, monkeypatch
):
    files = person_files(seeded)
    schedule(seeded)
    private = storages["private"]
    real_delete = private.delete

    def down(name):
        raise OSError("S3 unreachable")

    monkeypatch.setattr(private, "delete", down)
    with django_capture_on_commit_callbacks(execute=True):
        assert deletion.purge_due(DUE).purged == 1
    left = set(PendingShred.objects.values_list("storage", "name"))
    assert left and all(alias == "private" for alias, _name in left)
    assert all(private.exists(name) for _alias, name in left)
    monkeypatch.setattr(private, "delete", real_delete)
    from privacy import shredding

    assert shredding.sweep() == len(left)
    assert not PendingShred.objects.exists()
    for alias, name in files:
        assert not storages[alias].exists(name)


@pytest.fixture
def empty_journal():
    """The in-memory storage lives as long as the test process: earlier tests' journal copies go first."""
    storage = private_storage()
    for user_id in journal.stored_ids():
        storage.delete(f"{journal.FOLDER}/{user_id}")


def test_replaying_the_journal_after_a_restore_purges_again_and_is_idempotent(
    seeded, django_capture_on_commit_callbacks, empty_journal
):
    needles = needles_of(seeded)
    schedule(seeded)
    with django_capture_on_commit_callbacks(execute=True):
        deletion.purge_due(DUE)
    assert journal.stored_ids() == {seeded.person.pk}  # the journal's copy outside the database
    # A backup from before the deletion was asked for is restored: the person's row is back, active, and the
    # database's journal and deletion request are gone with the restore.
    User.objects.filter(pk=seeded.person.pk).update(
        email=seeded.needles()[1],
        full_name=seeded.needles()[0],
        phone=seeded.needles()[2],
        erased_at=None,
        is_active=True,
    )
    PurgeRecord.objects.all().delete()
    DeletionRequest.objects.all().delete()
    assert database_hits(needles)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("replay_purge_journal")
    assert database_hits(needles) == []
    row = User.objects.filter(pk=seeded.person.pk).values().get()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("replay_purge_journal")
    again = User.objects.filter(pk=seeded.person.pk).values().get()
    # The unusable password's random suffix is drawn again; everything else is exactly as after the first replay.
    assert again.pop("password").startswith("!") and row.pop("password").startswith("!")
    assert again == row
    assert database_hits(needles) == []
    assert PurgeRecord.objects.count() == 1
    assert not User.objects.get(pk=seeded.person.pk).is_active


def test_a_journal_copy_the_storage_missed_is_written_by_the_sweep(seeded, empty_journal):
    schedule(seeded)
    deletion.purge_due(DUE)  # on-commit callbacks not run: as if the storage write failed
    assert journal.stored_ids() == set()
    assert journal.sync() == 1
    assert journal.stored_ids() == {seeded.person.pk}
    assert journal.sync() == 0
