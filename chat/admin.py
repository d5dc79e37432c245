from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from chat import selectors, services
from chat.models import Conversation, Message, Report, ReportAction, StaffRead
from core.admin_site import RecordAdminMixin, WorkQueue, register_work_queue
from core.errors import UserFacingError
from core.forms import ModelForm


@admin.register(Conversation)
class ConversationAdmin(RecordAdminMixin, admin.ModelAdmin):
    """Staff read a conversation only here, and each opening is logged (StaffRead): the text as written
    beside what the recipient saw."""

    list_display = ("booking", "customer", "companion", "last_message_at", "flagged_at")
    list_filter = (("flagged_at", admin.EmptyFieldListFilter),)
    search_fields = ("booking__reference",)
    list_select_related = ("booking", "customer", "companion")
    readonly_fields = ("booking", "customer", "companion", "created_at", "flagged_at", "flag_reasons", "transcript")
    fields = readonly_fields

    @admin.display(description=_("messages: as written | as the recipient saw them"))
    def transcript(self, conversation: Conversation) -> str:
        rows = Message.objects.filter(conversation=conversation).select_related("sender").order_by("pk")
        recipient_of = {
            conversation.customer_id: conversation.companion_id,
            conversation.companion_id: conversation.customer_id,
        }
        lines = (
            (
                message.created_at.strftime("%Y-%m-%d %H:%M"),
                message.sender.get_short_name(),
                message.text,
                selectors.shown(message, recipient_of.get(message.sender_id, 0)).text,
                ", ".join(message.concerns),
            )
            for message in rows
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("sent"),
            _("by"),
            _("as written"),
            _("as the recipient saw it"),
            _("concerns"),
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", lines),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        # Logged once the admin has found the conversation and let this staff member see it.
        if request.method == "GET" and response.status_code == 200:
            conversation = self.get_object(request, object_id)
            if conversation is not None:
                StaffRead.objects.create(conversation=conversation, staff=request.user)
        return response


class ReportActionForm(ModelForm):
    action = forms.ChoiceField(label=_("Action"), choices=[("", "—"), *ReportAction.Kind.choices], required=False)
    note = forms.CharField(label=_("Note (recorded)"), max_length=500, required=False)

    class Meta:
        model = Report
        fields = ()

    def clean(self):
        data = super().clean()
        if data.get("action") and not (data.get("note") or "").strip():
            self.add_error("note", _("Say what you did and why: the note is recorded."))
        return data


class ReportActionInline(RecordAdminMixin, admin.TabularInline):
    model = ReportAction
    fields = ("created_at", "kind", "note", "staff")
    readonly_fields = fields
    extra = 0


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """The report queue: open, in review, closed. Actions (warn, suspend, ban, close) are recorded; suspend
    and ban deactivate the reported account."""

    form = ReportActionForm
    list_display = ("created_at", "category", "status", "reporter", "reported", "conversation")
    list_filter = ("status", "category")
    search_fields = ("conversation__booking__reference",)
    list_select_related = ("reporter", "reported", "conversation__booking")
    readonly_fields = ("conversation", "reporter", "reported", "message", "category", "details", "evidence_table",
                       "status", "created_at")  # fmt: skip
    fields = (*readonly_fields, "action", "note")
    inlines = [ReportActionInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("evidence (as written when reported)"))
    def evidence_table(self, report: Report) -> str:
        return format_html(
            "<table><tbody>{}</tbody></table>",
            format_html_join(
                "", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                ((row.get("sent", ""), row.get("sender_id", ""), row.get("text", "")) for row in report.evidence),
            ),
        )  # fmt: skip

    def save_model(self, request, obj, form, change):
        kind = form.cleaned_data.get("action")
        if not kind:
            return
        try:
            services.report_act(report=obj, kind=kind, note=form.cleaned_data.get("note", ""), staff=request.user)
        except UserFacingError as problem:  # ChatError, or the safety decision refused (e.g. its permission)
            messages.error(request, problem.message)


@admin.register(StaffRead)
class StaffReadAdmin(RecordAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "staff", "conversation")
    list_select_related = ("staff", "conversation__booking")


register_work_queue(
    WorkQueue(
        key="chat.reports",
        label=_("Chat reports"),
        rows=lambda: Report.objects.exclude(status=Report.Status.CLOSED),
        since_field="created_at",
        url_name="admin:chat_report_changelist",
        url_query="status__exact=open",
        permission="chat.view_report",
    )
)
register_work_queue(
    WorkQueue(
        key="chat.flagged",
        label=_("Flagged conversations"),
        rows=lambda: Conversation.objects.filter(flagged_at__isnull=False),
        since_field="flagged_at",
        url_name="admin:chat_conversation_changelist",
        url_query="flagged_at__isempty=0",
        permission="chat.view_conversation",
    )
)
