"""The staff side of reports about people (imported by safety/admin.py): the report queue with the reporter,
the reported person, the booking, the other reports about that person and the decisions already taken; each
decision (warn, suspend, ban, reinstate, dismiss) on its own page asking for the reason (safety/moderation.py
does it). Also the safety queue (SOS, welfare, reports) and the record of decisions."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.admin_site import RecordAdminMixin, WorkQueue, register_work_queue
from core.errors import add_error_to_form
from safety import moderation
from safety.alert_admin import AlertHandlingMixin
from safety.models import (
    AlertKind,
    ModerationAction,
    ModerationKind,
    PersonReport,
    ReportStatus,
    SafetyAlert,
)
from safety.report_forms import DecisionForm

DECISIONS = (ModerationKind.WARN, ModerationKind.SUSPEND, ModerationKind.BAN, ModerationKind.REINSTATE,
             ModerationKind.DISMISS)  # fmt: skip


@admin.register(PersonReport)
class PersonReportAdmin(admin.ModelAdmin):
    list_display = ("created_at", "category", "status", "reporter", "reported", "booking", "cancelled_booking")
    list_filter = ("status", "category")
    search_fields = ("reported__email", "reporter__email", "booking__reference")
    list_select_related = ("reporter", "reported", "booking")
    readonly_fields = ("reporter", "reported", "reported_account", "booking", "category", "description",
                       "cancelled_booking", "status", "created_at", "closed_at", "decisions", "other_reports",
                       "person_actions")  # fmt: skip
    fields = readonly_fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # read here; decisions go through their own pages

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        decide = self.admin_site.admin_view(self.decide_view)
        return [path("<int:report_id>/decide/<str:kind>/", decide, name="safety_personreport_decide"),
                *super().get_urls()]  # fmt: skip

    @admin.display(description=gettext_lazy("account"))
    def reported_account(self, report: PersonReport) -> str:
        person = report.reported
        standing = moderation.standing(person.pk)
        if standing:
            state = ModerationKind(standing).label
        else:
            state = _("active") if person.is_active else _("inactive")
        return format_html("{} · {}", person.email, state)

    @admin.display(description=gettext_lazy("decide"))
    def decisions(self, report: PersonReport) -> str:
        return format_html_join(
            " ",
            '<a class="button" href="{}">{}</a>',
            (
                (reverse("admin:safety_personreport_decide", args=[report.pk, kind]), ModerationKind(kind).label)
                for kind in DECISIONS
            ),
        )

    @admin.display(description=gettext_lazy("other reports about this person"))
    def other_reports(self, report: PersonReport) -> str:
        rows = (
            PersonReport.objects.filter(reported_id=report.reported_id)
            .exclude(pk=report.pk)
            .select_related("reporter")
            .order_by("-created_at")[:50]
        )
        return format_html(
            "<table><tbody>{}</tbody></table>",
            format_html_join(
                "",
                '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>',
                (
                    (reverse("admin:safety_personreport_change", args=[row.pk]), row.created_at,
                     row.get_category_display(), row.get_status_display(), row.reporter)
                    for row in rows
                ),  # fmt: skip
            ),
        ) if rows else "—"  # fmt: skip

    @admin.display(description=gettext_lazy("decisions about this person"))
    def person_actions(self, report: PersonReport) -> str:
        rows = ModerationAction.objects.filter(user_id=report.reported_id).select_related("staff")[:50]
        return format_html(
            "<table><tbody>{}</tbody></table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                ((row.created_at, row.get_kind_display(), row.staff, row.reason) for row in rows),
            ),
        ) if rows else "—"  # fmt: skip

    def decide_view(self, request, report_id: int, kind: str):
        """The intermediate page of a decision: the reason, then the service."""
        if not request.user.has_perm(moderation.PERMISSION):
            raise PermissionDenied
        if kind not in DECISIONS:
            raise Http404
        report = PersonReport.objects.select_related("reporter", "reported", "booking").filter(pk=report_id).first()
        if report is None:
            raise Http404
        form = DecisionForm(request.POST or None)
        status = 200
        if request.method == "POST":
            if form.is_valid():
                try:
                    moderation.decide(kind=kind, report=report, staff=request.user, reason=form.cleaned_data["reason"])
                except moderation.ModerationError as problem:
                    add_error_to_form(form, problem)
                else:
                    self.message_user(
                        request,
                        _("Recorded: %(decision)s.") % {"decision": ModerationKind(kind).label},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(reverse("admin:safety_personreport_change", args=[report.pk]))
            status = 422
        context = {
            **self.admin_site.each_context(request),
            "title": _("%(decision)s: %(person)s")
            % {"decision": ModerationKind(kind).label, "person": report.reported},
            "form": form,
            "report": report,
            "kind": kind,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/safety/decide.html", context, status=status)


@admin.register(ModerationAction)
class ModerationActionAdmin(RecordAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "kind", "user", "staff", "report")
    list_filter = ("kind",)
    search_fields = ("user__email",)
    list_select_related = ("user", "staff", "report")


@admin.register(SafetyAlert)
class SafetyAlertAdmin(AlertHandlingMixin, admin.ModelAdmin):
    """The safety queue: SOS first, then welfare escalations, then reports (the report's decision marks its
    alert handled; SOS and welfare alerts are marked handled here)."""

    list_display = ("created_at", "priority", "kind", "booking", "report", "raised_by", "handled_at", "handled_by")
    list_filter = ("kind", ("handled_at", admin.EmptyFieldListFilter))
    list_select_related = ("booking", "report", "raised_by", "handled_by")
    readonly_fields = ("kind", "priority", "booking", "report", "raised_by", "created_at", "handled_at", "handled_by")
    fields = (*readonly_fields, "note")
    actions = ["mark_handled"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=gettext_lazy("Mark the selected alerts handled"), permissions=["change"])
    def mark_handled(self, request, queryset):
        count = (
            queryset.filter(handled_at__isnull=True)
            .exclude(kind=AlertKind.REPORT)
            .update(handled_at=timezone.now(), handled_by=request.user)
        )
        self.message_user(request, _("%(count)d alerts marked handled (reports close with their decision).")
                          % {"count": count}, messages.SUCCESS)  # fmt: skip


register_work_queue(
    WorkQueue(
        key="safety.queue",
        label=gettext_lazy("Safety queue (SOS, welfare, reports)"),
        rows=lambda: SafetyAlert.objects.filter(handled_at__isnull=True),
        since_field="created_at",
        url_name="admin:safety_safetyalert_changelist",
        url_query="handled_at__isempty=1",
        permission="safety.view_safetyalert",
    )
)
register_work_queue(
    WorkQueue(
        key="safety.reports",
        label=gettext_lazy("Reports about people"),
        rows=lambda: PersonReport.objects.filter(status=ReportStatus.OPEN),
        since_field="created_at",
        url_name="admin:safety_personreport_changelist",
        url_query="status__exact=open",
        permission="safety.view_personreport",
    )
)
