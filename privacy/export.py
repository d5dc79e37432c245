"""Export my data (issue 15, UU PDP No. 27/2022): a person asks (once a day), a background job builds a
ZIP of everything every app declared (core/personal_data.py) and they are told in-app and by email; the
download link works for that person only, for PRIVACY_EXPORT_DAYS (48 hours), then the file is deleted.

The archive:
- `data.json`: `{"kinds": {kind: [rows]}, "manifest": {generated_at, kinds, counts, files, ...}}`, every
  registered kind present (an empty list when the person has none);
- `index.html`: the same, readable, in the person's language, every value escaped, no outside asset;
- `files/`: their avatar and profile photos. Not the KTP and selfie images: an ID card and a face are the
  most harmful data to leak, and an archive travels (mail attachments, shared computers, a forwarded
  link); the person sees them on the site's owner-only page instead, and the export lists each
  verification and every time staff opened those images.

It is written as it is read: the rows of each kind go one by one into the ZIP (on a temporary file), so
10,000 messages do not build one big string; see tests/bench/privacy_export.py.

The link: `/privacy/export/<token>/`, where the token is an HMAC of the request (its id, person and time)
with SECRET_KEY, so the privacy centre can show the button again without storing the token; only its
keyed hash (core.crypto.fingerprint) is stored, to find the request."""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from core import after_commit, crypto, formatting, locks, personal_data
from core.errors import UserFacingError
from notifications.services import notification_record
from privacy import shredding
from privacy.models import ExportRequest, ExportStatus

logger = logging.getLogger(__name__)

REQUEST_EVERY = timedelta(days=1)  # one request a day per person
MAX_ATTEMPTS = 5
# A pending request not picked up after this long is sent to the worker again by the sweep.
STALE_PENDING = timedelta(minutes=10)

# The export's kinds in the readable page, in the person's language (a kind missing here shows its name).
KIND_TITLES = {
    "profile": gettext_lazy("Your account"),
    "consents": gettext_lazy("Consents and their history"),
    "phone_verifications": gettext_lazy("Phone number checks"),
    "blocks": gettext_lazy("People you blocked"),
    "login": gettext_lazy("Sign-in records"),
    "admin_log": gettext_lazy("Your actions in the admin"),
    "companion_profile": gettext_lazy("Companion profile"),
    "identity_verifications": gettext_lazy("ID verifications"),
    "identity_file_views": gettext_lazy("When staff opened your KTP or selfie"),
    "bookings": gettext_lazy("Bookings and their history"),
    "payments": gettext_lazy("Payments"),
    "refunds": gettext_lazy("Refunds"),
    "payouts": gettext_lazy("Payouts and bank account"),
    "reviews": gettext_lazy("Reviews written and received"),
    "review_safety_reports": gettext_lazy("Safety reports sent with a review"),
    "messages": gettext_lazy("Messages"),
    "chat_reports": gettext_lazy("Chat reports you made"),
    "notifications": gettext_lazy("Notifications"),
    "deliveries": gettext_lazy("Emails and WhatsApp messages sent to you"),
    "trusted_contact": gettext_lazy("Trusted contact"),
    "share_links": gettext_lazy("Meetings shared with your trusted contact"),
    "safety_events": gettext_lazy("Safety steps of your bookings"),
    "person_reports": gettext_lazy("Reports you made about people"),
    "privacy_requests": gettext_lazy("Data exports and deletion requests"),
}


class ExportError(UserFacingError):
    pass


def export_days() -> int:
    return int(settings.PRIVACY_EXPORT_DAYS)


def token_for(request: ExportRequest) -> str:
    """The download token: derived, never stored (only its keyed hash is)."""
    value = f"{request.pk}:{request.user_id}:{request.requested_at.isoformat()}"
    return salted_hmac("privacy.export.token", value, algorithm="sha256").hexdigest()


def download_path(request: ExportRequest) -> str:
    return reverse("privacy:export_download", args=[token_for(request)])


def find(token: str, user) -> ExportRequest | None:
    """The ready, unexpired export of this token, if it is this person's; None for anything else."""
    if not token or len(token) > 128 or not user.is_authenticated:
        return None
    row = ExportRequest.objects.filter(token_hash=crypto.fingerprint(token), user_id=user.pk).first()
    now = timezone.now()
    if row is None or row.status != ExportStatus.READY or not row.file or not row.expires_at or row.expires_at <= now:
        return None
    return row


# --- Asking -------------------------------------------------------------------------------------------------


def next_allowed_at(user: User) -> datetime | None:
    last = (
        ExportRequest.objects.filter(user_id=user.pk).order_by("-requested_at").values_list("requested_at", flat=True)
    )
    latest = last.first()
    return latest + REQUEST_EVERY if latest else None


def export_request(user: User, now: datetime | None = None) -> ExportRequest:
    """Records a request and queues its build; raises ExportError (a translated sentence saying when they may
    ask again) when the person already asked in the last 24 hours. Under the person's row lock, so two
    clicks at once make one request."""
    now = now or timezone.now()
    with transaction.atomic():
        if locks.lock_one(User, user.pk) is None:
            raise ExportError(_("Your account could not be found."))
        allowed = next_allowed_at(user)
        if allowed is not None and allowed > now:
            when = formatting.format_datetime(allowed, zone=user.time_zone, language=translation.get_language() or "id")
            raise ExportError(_("You can ask for one export a day. You can ask again from %(when)s.") % {"when": when})
        row = ExportRequest.objects.create(user=user, requested_at=now, token_hash=f"new:{user.pk}:{now.timestamp()}")
        row.token_hash = crypto.fingerprint(token_for(row))
        row.save(update_fields=["token_hash"])
        after_commit.enqueue(build_export_task, row.pk)
    return row


# --- What the privacy centre shows ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportState:
    request: ExportRequest | None
    status: str  # "none", "pending", "ready", "failed", "expired"
    download_url: str
    expires_at: datetime | None
    can_request: bool
    next_allowed_at: datetime | None
    expires_display: str = ""  # in the person's zone and the page's language
    next_allowed_display: str = ""


def export_state(user: User, now: datetime | None = None) -> ExportState:
    """The person's latest export for templates/privacy/_export.html (the privacy centre includes it)."""
    now = now or timezone.now()
    latest = ExportRequest.objects.filter(user_id=user.pk).order_by("-requested_at").first()
    allowed = latest.requested_at + REQUEST_EVERY if latest else None
    can_request = allowed is None or allowed <= now
    if latest is None:
        return ExportState(None, "none", "", None, True, None)
    status = latest.status
    url = ""
    if status == ExportStatus.READY:
        if latest.expires_at and latest.expires_at > now and latest.file:
            url = download_path(latest)
        else:
            status = ExportStatus.EXPIRED
    language = translation.get_language() or "id"

    def shown(moment: datetime | None) -> str:
        return formatting.format_datetime(moment, zone=user.time_zone, language=language) if moment else ""

    next_allowed = None if can_request else allowed
    return ExportState(
        latest,
        str(status),
        url,
        latest.expires_at,
        can_request,
        next_allowed,
        expires_display=shown(latest.expires_at) if url else "",
        next_allowed_display=shown(next_allowed),
    )


# --- Building -----------------------------------------------------------------------------------------------


def _json_default(value):
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def _cell(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict | list):
        return f"<pre>{escape(json.dumps(value, ensure_ascii=False, indent=1, default=_json_default))}</pre>"
    return escape(str(value))


_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;color:#1c1917;line-height:1.4}"
    "table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:.875rem}"
    "th,td{border:1px solid #d6d3d1;padding:.25rem .5rem;text-align:left;vertical-align:top}"
    "th{background:#f5f5f4}pre{margin:0;white-space:pre-wrap;font-size:.75rem}"
    "td{max-width:40rem;overflow-wrap:anywhere}"
)


class _HtmlWriter:
    """index.html, written as the rows come (a temporary file beside the ZIP)."""

    def __init__(self, out, *, user: User, now: datetime, language: str) -> None:
        self.out = out
        self.columns: list[str] = []
        self.open_table = False
        generated = formatting.format_datetime(now, zone=user.time_zone, language=language)
        made = _("Made on %(when)s. The same data, for computers, is in data.json.") % {"when": generated}
        not_here = _("Your KTP and selfie images are not in this file: they are shown only on the site, to you.")
        title = escape(_("Your Kompanion data"))
        self.out.write(
            f'<!DOCTYPE html><html lang="{escape(language)}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title}</title><style>{_STYLE}</style></head><body><h1>{title}</h1>"
            f"<p>{escape(made)}</p><p>{escape(not_here)}</p>"
        )

    def start_kind(self, kind: str) -> None:
        self.columns = []
        self.open_table = False
        title = KIND_TITLES.get(kind, kind)
        self.out.write(f'<section id="{escape(kind)}"><h2>{escape(str(title))}</h2>')

    def row(self, item: dict) -> None:
        if not self.open_table:
            self.columns = list(item)
            header = "".join(f"<th>{escape(column)}</th>" for column in self.columns)
            self.out.write(f"<table><thead><tr>{header}</tr></thead><tbody>")
            self.open_table = True
        extra = [key for key in item if key not in self.columns]
        cells = "".join(f"<td>{_cell(item.get(column))}</td>" for column in self.columns)
        if extra:  # a row with other keys than the first: shown in a last cell, nothing dropped
            cells += f"<td>{_cell({key: item[key] for key in extra})}</td>"
        self.out.write(f"<tr>{cells}</tr>")

    def end_kind(self, count: int, kept: str) -> None:
        if self.open_table:
            self.out.write("</tbody></table>")
        else:
            nothing = _("Nothing of this kind.")
            self.out.write(f"<p>{escape(nothing)}</p>")
        if kept:
            lead = _("If you delete your account:")
            self.out.write(f"<p><small>{escape(lead)} {escape(kept)}</small></p>")
        self.out.write("</section>")

    def close(self) -> None:
        self.out.write("</body></html>")


def rows_of(user: User, kind: str, now: datetime | None = None) -> list[dict]:
    """One kind's rows as the archive has them (tests, support)."""
    declaration = next(item for item in personal_data.declarations() if item.kind == kind)
    return list(declaration.export(user, personal_data.ExportContext(now=now or timezone.now())))


def write_archive(user: User, out, *, now: datetime) -> dict:
    """Writes the person's ZIP to the binary file `out`; returns the manifest."""
    language = user.preferred_language or settings.LANGUAGE_CODE
    ctx = personal_data.ExportContext(now=now)
    counts: dict[str, int] = {}
    with (
        translation.override(language),
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        tempfile.TemporaryFile("w+", encoding="utf-8") as html_file,
    ):
        html = _HtmlWriter(html_file, user=user, now=now, language=language)
        with archive.open("data.json", "w", force_zip64=True) as raw:
            write = raw.write
            write(b'{"kinds":{')
            for declaration in personal_data.declarations():
                if declaration.export is None:
                    continue
                if counts:
                    write(b",")
                write(_dumps(declaration.kind).encode() + b":[")
                html.start_kind(declaration.kind)
                count = 0
                for item in declaration.export(user, ctx):
                    write((b"," if count else b"") + _dumps(item).encode())
                    html.row(item)
                    count += 1
                write(b"]")
                counts[declaration.kind] = count
                html.end_kind(count, str(declaration.kept))
            names = []
            for name, _file in ctx.files:
                names.append(f"files/{name}")
            manifest = {
                "generated_at": now.isoformat(),
                "person": user.pk,
                "language": language,
                "kinds": sorted(counts),
                "counts": counts,
                "files": names,
                "not_included": ["KTP and selfie images (shown only on the site, to you)"],
            }
            write(b'},"manifest":' + _dumps(manifest).encode() + b"}")
        missing = []
        for name, file in ctx.files:
            try:
                with file.open("rb") as source, archive.open(f"files/{name}", "w", force_zip64=True) as target:
                    shutil.copyfileobj(source, target, 1024 * 1024)
            except (FileNotFoundError, OSError):
                logger.warning("export of user %s: a stored file is missing", user.pk)
                missing.append(f"files/{name}")
        html.close()
        html_file.seek(0)
        with archive.open("index.html", "w") as target:
            shutil.copyfileobj(html_file, _Utf8Writer(target), 1024 * 1024)
        if missing:
            manifest["missing_files"] = missing
    return manifest


class _Utf8Writer:
    def __init__(self, target) -> None:
        self.target = target

    def write(self, text: str) -> None:
        self.target.write(text.encode("utf-8"))


def build(request_id: int, now: datetime | None = None) -> str:
    """Builds one request's ZIP; idempotent: a request already ready (or expired) is left as it is, and one
    being built by another worker (its row locked) is skipped. Returns what happened."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = ExportRequest.objects.select_for_update(skip_locked=True).filter(pk=request_id)
        row = rows.select_related("user").first()
        if row is None:
            return "busy or gone"
        if row.status != ExportStatus.PENDING:
            return f"already {row.status}"
        storage = row.file.storage
        name = f"exports/{row.token_hash[:32]}.zip"
        with tempfile.TemporaryFile() as out:
            manifest = write_archive(row.user, out, now=now)
            size = out.tell()
            out.seek(0)
            storage.delete(name)  # a retry after a rolled-back run replaces its file, never "name_xyz.zip"
            saved = storage.save(name, File(out, name="export.zip"))
        row.file.name = saved
        row.size = size
        row.status = ExportStatus.READY
        row.ready_at = now
        row.expires_at = now + timedelta(days=export_days())
        row.save(update_fields=["file", "size", "status", "ready_at", "expires_at"])
        # The link goes to the privacy centre (where the signed-in person downloads it), never the token.
        notification_record(recipient=row.user, event="export_ready", context={}, dedupe_key=f"export_ready:{row.pk}")
        logger.info("export %s built: %s kinds, %s bytes", row.pk, len(manifest["kinds"]), size)
    return "built"


def build_failed(request_id: int) -> None:
    """After the last retry: marked failed, so the person can ask again (the next day) and staff see it."""
    ExportRequest.objects.filter(pk=request_id, status=ExportStatus.PENDING).update(status=ExportStatus.FAILED)


def stale_pending(now: datetime) -> list[int]:
    return list(
        ExportRequest.objects.filter(status=ExportStatus.PENDING, requested_at__lte=now - STALE_PENDING)
        .order_by("requested_at")
        .values_list("pk", flat=True)[:100]
    )


# --- Retention: files deleted once the link has expired -----------------------------------------------------

RETENTION_SETTING = "PRIVACY_EXPORT_DAYS"


def describe_retention() -> str:
    return _("Data export files are deleted %(hours)d hours after they are ready.") % {"hours": export_days() * 24}


def expire(now: datetime) -> int:
    """Ready exports past their expiry: the file is deleted (after commit) and the request marked expired."""
    touched = 0
    with transaction.atomic():
        rows = list(
            ExportRequest.objects.select_for_update(skip_locked=True).filter(
                status=ExportStatus.READY, expires_at__lte=now
            )
        )
        files = []
        for row in rows:
            if row.file:
                files.append((row.file.storage, row.file.name))
            touched += 1
        ExportRequest.objects.filter(pk__in=[row.pk for row in rows]).update(status=ExportStatus.EXPIRED, file="")
        shredding.shred_after_commit(files)
    return touched


def register_retention() -> None:
    personal_data.register_retention("exports", setting=RETENTION_SETTING, describe=describe_retention, run=expire)


# --- The tasks (named in privacy.tasks, where Celery finds them) ---------------------------------------------


@shared_task(name="privacy.tasks.build_export_task", bind=True, max_retries=MAX_ATTEMPTS, soft_time_limit=600,
             time_limit=660, acks_late=True)  # fmt: skip
def build_export_task(self, request_id: int) -> str:
    """Builds one export. Retry-safe: a request already ready is not rebuilt, one being built elsewhere is
    skipped, a failed run rolls back whole (its file is replaced by the next try); after the last retry the
    request is marked failed."""
    ExportRequest.objects.filter(pk=request_id, status=ExportStatus.PENDING).update(attempts=F("attempts") + 1)
    try:
        return build(request_id)
    except Exception as error:
        if self.request.called_directly or self.request.is_eager or self.request.retries >= self.max_retries:
            logger.exception("export %s failed", request_id)
            build_failed(request_id)
            if self.request.is_eager or self.request.called_directly:
                raise
            return "failed"
        raise self.retry(exc=error, countdown=30 * 2**self.request.retries) from error


@shared_task(name="privacy.tasks.export_sweep_task")
def export_sweep_task() -> dict:
    """Every 15 minutes: pending exports no worker picked up (the broker was down) are queued again, and
    expired export files are deleted (their link has stopped working already)."""
    now = timezone.now()
    requeued = stale_pending(now)
    for request_id in requeued:
        build_export_task.delay(request_id)
    return {"requeued": len(requeued), "expired": expire(now)}
