"""Export my data (privacy/export.py, issue 15): the ZIP's contents, the request (once a day), the Celery
task that builds it (once), the download (the person's own, for 48 hours, 404 for anything else), the
notification (never the token), and the files deleted after expiry."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.files.storage import storages
from django.urls import reverse
from django.utils import timezone

from notifications.models import Delivery, Notification
from privacy import export
from privacy.models import ExportRequest, ExportStatus, PendingShred
from privacy.tasks import build_export_task, export_sweep_task
from tests.factories import CustomerFactory
from tests.privacy.people import DISPLAY_NAME, HOSTILE, NAME, NIK, seed_person

pytestmark = pytest.mark.django_db


def archive_of(row: ExportRequest) -> zipfile.ZipFile:
    with row.file.storage.open(row.file.name, "rb") as file:
        return zipfile.ZipFile(io.BytesIO(file.read()))


def ask(client, user):
    client.force_login(user)
    return client.post(reverse("privacy:export_request"))


def test_asking_builds_the_export_with_every_kind_readable_and_escaped(client, django_capture_on_commit_callbacks):
    seeded = seed_person()
    with django_capture_on_commit_callbacks(execute=True):
        response = ask(client, seeded.person)

    assert (response.status_code, response["Location"]) == (302, reverse("privacy:centre"))
    row = ExportRequest.objects.filter(user=seeded.person).latest("requested_at")
    assert row.status == ExportStatus.READY and row.size > 0
    assert row.expires_at - row.ready_at == timedelta(hours=48)
    archive = archive_of(row)
    names = set(archive.namelist())
    assert {"data.json", "index.html"} <= names
    data = json.loads(archive.read("data.json"))
    assert data["manifest"]["counts"]["messages"] == 3
    # Their avatar and profile photo are in it; the KTP and selfie images are not.
    assert any(name.startswith("files/avatar") for name in names)
    assert any(name.startswith("files/photos/") for name in names)
    assert len([name for name in names if name.startswith("files/")]) == 2
    assert data["kinds"]["identity_verifications"][0]["nik"].endswith(NIK[-4:])
    assert NIK not in archive.read("data.json").decode()
    # Every time staff opened the KTP or the selfie: which, when, by whom (a staff number, not a name).
    views = data["kinds"]["identity_file_views"]
    assert {view["file"] for view in views} == {"ktp", "selfie"}
    assert all(f"#{seeded.staff.pk}" in view["viewed_by"] for view in views)
    assert seeded.staff.full_name not in archive.read("data.json").decode()
    # Reports made by the person, never one about them.
    reports = data["kinds"]["person_reports"]
    assert len(reports) == 1 and reports[0]["about"] == seeded.other_companion.user.get_short_name()
    assert "not theirs to see" not in archive.read("data.json").decode()
    # The readable page: in Indonesian (the person's language), every value escaped.
    page = archive.read("index.html").decode()
    assert '<html lang="id">' in page
    assert "<script>" not in page and "onerror=alert(1)>" not in page
    assert "&lt;script&gt;" in page
    assert NAME in page
    assert "http://" not in page.replace("http://testserver", "") and "https://" not in page


def test_a_review_about_the_person_shows_only_as_the_rules_let_them_read_it():
    seeded = seed_person()
    rows = json.loads(json.dumps(export.rows_of(seeded.person, "reviews")))
    about_them = [row for row in rows if not row["written_by_you"]]
    # The customer's published review of them is there; nothing the rules hide from them.
    assert [row["text"] for row in about_them] == [f"{DISPLAY_NAME} ramah sekali"]


def test_the_messages_are_as_shown_to_the_person():
    seeded = seed_person()
    rows = export.rows_of(seeded.person, "messages")
    mine = [row for row in rows if row["from"] == "you"]
    assert len(mine) == 1 and HOSTILE in mine[0]["text"]


def test_one_request_a_day_with_a_clear_message(client):
    person = CustomerFactory()
    ask(client, person)
    response = client.post(reverse("privacy:export_request"), follow=True)

    assert ExportRequest.objects.filter(user=person).count() == 1
    text = response.content.decode()
    assert "satu ekspor sehari" in text or "one export a day" in text
    # The next day they may ask again.
    ExportRequest.objects.filter(user=person).update(requested_at=timezone.now() - timedelta(days=1, minutes=1))
    ask(client, person)
    assert ExportRequest.objects.filter(user=person).count() == 2


def test_the_task_builds_once_and_a_rerun_changes_nothing():
    person = CustomerFactory()
    row = export.export_request(person)  # eager: built on commit (none here: the test's transaction)
    assert build_export_task.delay(row.pk).get() == "built"
    row.refresh_from_db()
    first = (row.file.name, row.ready_at, row.size)

    assert build_export_task.delay(row.pk).get() == "already ready"
    row.refresh_from_db()
    assert (row.file.name, row.ready_at, row.size) == first
    assert Notification.objects.filter(recipient=person, event="export_ready").count() == 1


def test_the_notification_links_to_the_centre_and_never_carries_the_token():
    person = CustomerFactory()
    row = export.export_request(person)
    export.build(row.pk)
    token = export.token_for(row)

    notification = Notification.objects.get(recipient=person, event="export_ready")
    assert token not in json.dumps(notification.context)
    for delivery in Delivery.objects.filter(recipient=person):
        assert token not in delivery.body + delivery.subject + json.dumps(delivery.variables)
        assert reverse("privacy:centre") in delivery.body


def test_the_download_is_the_person_s_own_and_private(client):
    person = CustomerFactory()
    row = export.export_request(person)
    export.build(row.pk)
    row.refresh_from_db()
    url = export.download_path(row)

    assert client.get(url).status_code == 302  # anonymous: log in first
    client.force_login(CustomerFactory())
    assert client.get(url).status_code == 404  # someone else
    client.force_login(person)
    response = client.get(url)
    assert response.status_code == 200
    assert {"no-store", "private"} <= set(response["Cache-Control"].replace(" ", "").split(","))
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    assert zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).read("data.json")
    # A wrong token, a token cut short, garbage: the same 404.
    for bad in ("0" * 64, export.token_for(row)[:-1], "x" * 500, "%00"):
        assert client.get(reverse("privacy:export_download", args=[bad])).status_code == 404
    # The centre shows the button to the person.
    assert url in client.get(reverse("privacy:centre")).content.decode()


def test_after_48_hours_the_link_is_gone_and_the_file_deleted(client, django_capture_on_commit_callbacks):
    person = CustomerFactory()
    row = export.export_request(person)
    export.build(row.pk)
    row.refresh_from_db()
    url, name = export.download_path(row), row.file.name
    client.force_login(person)
    ExportRequest.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert client.get(url).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        assert export.expire(timezone.now()) == 1
    assert not storages["private"].exists(name)
    assert not PendingShred.objects.exists()
    row.refresh_from_db()
    assert row.status == ExportStatus.EXPIRED and not row.file
    assert export.expire(timezone.now()) == 0  # idempotent
    assert export_sweep_task.delay().get() == {"requeued": 0, "expired": 0}


def test_a_pending_request_the_worker_never_got_is_queued_again():
    person = CustomerFactory()
    row = export.export_request(person)
    ExportRequest.objects.filter(pk=row.pk).update(requested_at=timezone.now() - timedelta(minutes=30))

    assert export_sweep_task.delay().get() == {"requeued": 1, "expired": 0}
    row.refresh_from_db()
    assert row.status == ExportStatus.READY


def test_the_centre_shows_the_state():
    person = CustomerFactory()
    assert export.export_state(person).status == "none"
    row = export.export_request(person)
    state = export.export_state(person)
    assert (state.status, state.can_request, state.download_url) == ("pending", False, "")
    export.build(row.pk)
    state = export.export_state(person)
    assert state.status == "ready" and state.download_url == export.download_path(row)


def test_the_centre_page_says_where_the_export_stands(client):
    person = CustomerFactory()
    client.force_login(person)
    page = client.get(reverse("privacy:centre")).content.decode()
    assert 'data-export-status="none"' in page and reverse("privacy:export_request") in page

    row = export.export_request(person)
    page = client.get(reverse("privacy:centre")).content.decode()
    assert 'data-export-status="pending"' in page and reverse("privacy:export_request") not in page

    ExportRequest.objects.filter(pk=row.pk).update(status=ExportStatus.FAILED)
    page = client.get(reverse("privacy:centre")).content.decode()
    assert 'data-export-status="failed"' in page
    assert "satu ekspor sehari" in page  # asked today: when they can ask again
