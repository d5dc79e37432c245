from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.models import ConsentRecord, User
from core.admin_site import RecordAdminMixin
from core.errors import UserFacingError


class ConsentRecordInline(admin.TabularInline):
    model = ConsentRecord
    extra = 0
    can_delete = False
    fields = ("created_at", "document", "version", "granted", "ip_address", "user_agent")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("-date_joined",)
    list_display = ("email", "full_name", "role", "phone", "is_active", "is_staff", "date_joined")
    list_filter = ("role", "is_active", "is_staff", "whatsapp_opt_in", "time_zone")
    search_fields = ("email", "full_name", "phone")
    readonly_fields = ("date_joined", "last_login")
    inlines = [ConsentRecordInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            _("Profile"),
            {"fields": ("full_name", "phone", "date_of_birth", "role", "preferred_language", "time_zone", "avatar")},
        ),
        (_("Consent"), {"fields": ("whatsapp_opt_in",)}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),)

    def save_model(self, request, obj, form, change):
        switched_off = change and "is_active" in form.changed_data and not obj.is_active
        if switched_off:
            # The switch itself is the moderation decision below (recorded, bookings stopped, sessions ended).
            obj.is_active = True
        super().save_model(request, obj, form, change)
        if switched_off:
            try:
                services.user_deactivate_by_staff(
                    user=obj, staff=request.user, kind="suspend", reason=str(_("Deactivated in the user admin."))
                )
            except UserFacingError as error:
                messages.error(request, _("Not deactivated: %(reason)s") % {"reason": error.message})
        elif change and "is_active" in form.changed_data:
            services.user_active_changed(user=obj)  # e.g. a reinstated companion is listed again


@admin.register(ConsentRecord)
class ConsentRecordAdmin(RecordAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "user", "document", "version", "granted", "ip_address")
    list_filter = ("document", "granted", "version")
    search_fields = ("user__email",)
    list_select_related = ("user",)
    readonly_fields = ("user", "document", "version", "granted", "ip_address", "user_agent", "created_at")
