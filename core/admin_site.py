"""The admin site: only active staff with two-factor login (TOTP) get in.

Also what every admin page shares:
- times in WIB: each admin view runs with Asia/Jakarta as the current zone (lists, read-only fields, date
  filters and the date inputs alike), and the datetime format carries the zone ("2 Des 2026, 19.30 WIB",
  core/formats/);
- amounts as Rupiah: `RupiahAdminMixin` shows integer Rupiah fields as "Rp 275.000" in lists and read-only
  fields;
- the work that waits for staff on the index page, counted through a registry: each app's admin.py
  registers its queues with `register_work_queue` (core imports no app; the apps import core).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from zoneinfo import ZoneInfo

from allauth.account.decorators import secure_admin_login
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import admin, messages
from django.db.models import Count, Min, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.formatting import format_rupiah

# Staff work from Jakarta; the zone's abbreviation (WIB) is printed with every time.
ADMIN_TIME_ZONE = ZoneInfo("Asia/Jakarta")


def rupiah(amount: int | None) -> str:
    """ "Rp 275.000" in the active language's grouping; an empty value stays empty."""
    if amount is None:
        return "—"
    return format_rupiah(int(amount), language=get_language() or "id")


# --- Work queues --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkQueue:
    """Something that waits for staff: the rows (a queryset factory, so each request reads afresh), the
    field whose minimum is the oldest item's age, where staff handle it, and who may see it."""

    key: str
    label: str
    rows: Callable[[], QuerySet]
    since_field: str
    url_name: str
    url_query: str = ""
    permission: str = ""


@dataclass(frozen=True)
class WorkQueueStatus:
    label: str
    count: int
    oldest: datetime | None
    url: str

    @property
    def age(self) -> str:
        return timesince(self.oldest) if self.oldest else ""


_work_queues: dict[str, WorkQueue] = {}


def register_work_queue(queue: WorkQueue) -> None:
    """Called from an app's admin.py (imported once by admin autodiscovery). Re-registering a key
    replaces it, so a reloaded module never doubles a line."""
    _work_queues[queue.key] = queue


def work_queues() -> list[WorkQueue]:
    return list(_work_queues.values())


def work_queue_status(request: HttpRequest) -> list[WorkQueueStatus]:
    """One aggregate query per queue the user may see: the count and the oldest item's time."""
    statuses = []
    for queue in _work_queues.values():
        if queue.permission and not request.user.has_perm(queue.permission):
            continue
        figures = queue.rows().aggregate(count=Count("pk"), oldest=Min(queue.since_field))
        try:
            url = reverse(queue.url_name) + (f"?{queue.url_query}" if queue.url_query else "")
        except NoReverseMatch:
            url = ""
        statuses.append(WorkQueueStatus(queue.label, figures["count"], figures["oldest"], url))
    return statuses


# --- Records staff read and never write ------------------------------------------------------------------


class RecordAdminMixin:
    """An append-only record (consents, level history): staff list and read it; nobody adds, edits or
    deletes it in the admin. Put it before admin.ModelAdmin or an inline (whose has_add_permission also
    takes the parent object)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# --- Rupiah columns -----------------------------------------------------------------------------------------


class RupiahAdminMixin:
    """Shows the integer Rupiah fields named in `rupiah_fields` as "Rp 275.000" in list_display and in
    read-only fields (an editable field keeps its number input). Put it before admin.ModelAdmin."""

    rupiah_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)  # a ModelAdmin or an inline: self.model is the rows' model
        for name in self.rupiah_fields:
            field = self.model._meta.get_field(name)
            setattr(self, self._rupiah_name(name), self._rupiah_display(name, field.verbose_name))

    @staticmethod
    def _rupiah_name(name: str) -> str:
        return f"{name}_rupiah"

    @staticmethod
    def _rupiah_display(name: str, label):
        @admin.display(description=label, ordering=name)
        def display(obj) -> str:
            return rupiah(getattr(obj, name))

        return display

    def _swap(self, names, only=None) -> list:
        return [
            self._rupiah_name(name)
            if isinstance(name, str) and name in self.rupiah_fields and (only is None or name in only)
            else name
            for name in names
        ]

    def get_list_display(self, request):
        return self._swap(super().get_list_display(request))

    def get_readonly_fields(self, request, obj=None):
        # The model field stays read-only (so the form leaves it out); its Rupiah twin is shown instead.
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly + [self._rupiah_name(name) for name in self.rupiah_fields if name in readonly]

    def get_fields(self, request, obj=None):
        readonly = set(super().get_readonly_fields(request, obj))
        fields = self._swap(super().get_fields(request, obj), only=readonly)
        # get_fields adds the read-only names at the end: keep each Rupiah twin once, where its field was.
        seen = set()
        return [name for name in fields if not (name in seen or seen.add(name))]

    def get_fieldsets(self, request, obj=None):
        if not self.fieldsets:
            return super().get_fieldsets(request, obj)
        readonly = set(super().get_readonly_fields(request, obj))
        return [
            (title, {**options, "fields": self._swap(options["fields"], only=readonly)})
            for title, options in super().get_fieldsets(request, obj)
        ]


# --- The site -----------------------------------------------------------------------------------------------


class KompanionAdminSite(admin.AdminSite):
    site_header = "Kompanion admin"
    site_title = "Kompanion admin"
    index_title = "Kompanion"
    index_template = "admin/kompanion_index.html"

    def has_permission(self, request: HttpRequest) -> bool:
        from allauth.mfa.models import Authenticator

        user = request.user
        return bool(user.is_active and user.is_staff and is_mfa_enabled(user, [Authenticator.Type.TOTP]))

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        """Signing in happens in allauth (password, then the TOTP code); staff who have not turned
        on two-factor login are sent to set it up; anyone else gets 403."""
        user = request.user
        if user.is_authenticated and user.is_active and user.is_staff and not self.has_permission(request):
            messages.warning(request, _("Turn on two-factor login before opening the admin."))
            return redirect("mfa_activate_totp")
        return secure_admin_login(super().login)(request, extra_context)

    def admin_view(self, view, cacheable=False):
        """Every admin page in WIB. A TemplateResponse renders after the view returns, so it is rendered
        here, while the zone is still active."""
        inner = super().admin_view(view, cacheable)

        @wraps(inner)
        def in_admin_time_zone(request, *args, **kwargs):
            with timezone.override(ADMIN_TIME_ZONE):
                response = inner(request, *args, **kwargs)
                if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                    response.render()
            return response

        return in_admin_time_zone

    def index(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "work_queues": work_queue_status(request)}
        return super().index(request, extra_context)
