from django.contrib import admin

from payments.models import Entry, Journal, LedgerAccount, Payment, PaymentNotification


class NotificationInline(admin.TabularInline):
    model = PaymentNotification
    extra = 0
    can_delete = False
    fields = ("received_at", "transaction_status", "verdict", "detail")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ("order_id", "booking", "amount", "status", "provider_status", "needs_refund", "created_at")
    list_filter = ("status", "needs_refund", "payment_type")
    search_fields = ("order_id", "booking__reference", "provider_transaction_id")
    list_select_related = ("booking",)
    readonly_fields = [field.name for field in Payment._meta.fields]
    inlines = [NotificationInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PaymentNotification)
class PaymentNotificationAdmin(admin.ModelAdmin):
    list_display = ("received_at", "order_id", "transaction_status", "verdict")
    list_filter = ("verdict", "transaction_status")
    search_fields = ("order_id",)
    readonly_fields = [field.name for field in PaymentNotification._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class EntryInline(admin.TabularInline):
    model = Entry
    extra = 0
    can_delete = False
    readonly_fields = ("account", "amount")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Journal)
class JournalAdmin(admin.ModelAdmin):
    """Read-only: the ledger is append-only (corrections are new journals, posted by services)."""

    list_display = ("created_at", "reference", "kind", "memo")
    list_filter = ("kind",)
    search_fields = ("reference", "memo")
    readonly_fields = ("reference", "kind", "memo", "created_at")
    inlines = [EntryInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(LedgerAccount)
class LedgerAccountAdmin(admin.ModelAdmin):
    list_display = ("key", "kind", "created_at")
    list_filter = ("kind",)
    search_fields = ("key",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
