from django.contrib import admin

from notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "event", "recipient", "status")
    list_filter = ("event", "status")
    search_fields = ("recipient__email", "event")
    list_select_related = ("recipient",)
    readonly_fields = ("recipient", "event", "context", "status", "created_at")
