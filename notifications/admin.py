from datetime import timedelta

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.admin_site import WorkQueue, register_work_queue
from notifications import services
from notifications.models import Delivery, InboundMessage, Notification


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ("channel", "to", "status", "attempts", "provider_id", "error_code", "last_error", "sent_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "event", "recipient", "language", "read_at")
    list_filter = ("event", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("recipient__email", "event", "dedupe_key")
    list_select_related = ("recipient",)
    readonly_fields = ("recipient", "event", "context", "language", "dedupe_key", "read_at", "created_at")
    inlines = [DeliveryInline]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "channel", "template_key", "recipient", "status", "attempts", "error_code")
    list_filter = ("status", "channel", "template_key")
    search_fields = ("recipient__email", "to", "provider_id")
    list_select_related = ("recipient",)
    readonly_fields = [field.name for field in Delivery._meta.fields]
    actions = ["retry"]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is not None and obj.sensitive:  # a live verification code is nobody's business
            return [name for name in fields if name not in ("body", "variables")]
        return fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Send the failed deliveries again"))
    def retry(self, request, queryset):
        retried = 0
        for delivery in queryset.filter(status__in=(Delivery.Status.FAILED, Delivery.Status.UNDELIVERED)):
            if services.delivery_retry(delivery_id=delivery.pk, actor=request.user).status == Delivery.Status.PENDING:
                retried += 1
        self.message_user(request, _("Deliveries queued again: %(count)d.") % {"count": retried}, messages.SUCCESS)


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = ("received_at", "sender", "body")
    search_fields = ("sender",)
    readonly_fields = ("sender", "body", "provider_id", "received_at")

    def has_add_permission(self, request) -> bool:
        return False


# Failed rows stay failed for the record; only the last week's are work (retry, or tell the person).
FAILED_DELIVERY_WINDOW = timedelta(days=7)
register_work_queue(
    WorkQueue(
        key="notifications.failed_deliveries",
        label=_("Messages not delivered (last 7 days)"),
        rows=lambda: Delivery.objects.filter(
            status__in=(Delivery.Status.FAILED, Delivery.Status.UNDELIVERED),
            updated_at__gte=timezone.now() - FAILED_DELIVERY_WINDOW,
        ),
        since_field="updated_at",
        url_name="admin:notifications_delivery_changelist",
        url_query=f"status__in={Delivery.Status.FAILED},{Delivery.Status.UNDELIVERED}",
        permission="notifications.view_delivery",
    )
)
