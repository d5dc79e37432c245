from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from bookings import services
from bookings.errors import BookingError
from bookings.models import Booking, BookingEvent, BookingStatus, CalendarFeed
from core.admin_site import RupiahAdminMixin, WorkQueue, register_work_queue
from core.errors import add_error_to_form
from core.forms import Form as CleanForm

MONEY_FIELDS = (
    "hourly_rate",
    "subtotal",
    "service_fee",
    "discount",
    "total",
    "commission",
    "companion_earnings",
    "refund_amount",
    "settled_companion_earnings",
)


class EventInline(admin.TabularInline):
    model = BookingEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "from_status", "to_status", "actor", "reason")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ResolveForm(CleanForm):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (services.Resolution.RELEASE, _("Release to the companion (no refund)")),
            (services.Resolution.FULL_REFUND, _("Full refund to the customer")),
            (services.Resolution.PARTIAL_REFUND, _("Partial refund")),
        ],
        widget=forms.RadioSelect,
    )
    refund = forms.IntegerField(label=_("Partial refund (Rp)"), required=False, min_value=1)
    note = forms.CharField(label=_("Note for the record"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


@admin.register(Booking)
class BookingAdmin(RupiahAdminMixin, admin.ModelAdmin):
    list_display = ("reference", "status", "start", "end", "customer", "companion", "total", "created_at")
    list_filter = ("status", ("start", admin.DateFieldListFilter), "companion__city")
    search_fields = ("reference", "customer__email", "companion__display_name", "companion__user__email")
    list_select_related = ("customer", "companion")
    date_hierarchy = "start"
    inlines = [EventInline]
    actions = ["resolve_dispute"]
    readonly_fields = [field.name for field in Booking._meta.fields]
    rupiah_fields = MONEY_FIELDS

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Resolve the selected dispute"))
    def resolve_dispute(self, request, queryset):
        disputed = list(queryset.filter(status=BookingStatus.DISPUTED))
        if len(disputed) != 1:
            self.message_user(request, _("Select exactly one disputed booking."), messages.ERROR)
            return None
        booking = disputed[0]
        form = ResolveForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            try:
                services.booking_resolve(
                    booking_id=booking.pk,
                    actor=request.user,
                    decision=form.cleaned_data["decision"],
                    refund=form.cleaned_data.get("refund") or 0,
                    note=form.cleaned_data["note"],
                )
            except BookingError as error:
                add_error_to_form(form, error)
            else:
                self.message_user(request, _("Dispute resolved."), messages.SUCCESS)
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Resolve dispute %(reference)s") % {"reference": booking.reference},
            "form": form,
            "booking": booking,
            "events": booking.events.select_related("actor"),
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/bookings/resolve_dispute.html", context)


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ("profile", "created_at")
    readonly_fields = ("profile", "created_at")
    exclude = ("token",)


register_work_queue(
    WorkQueue(
        key="bookings.open_disputes",
        label=_("Open disputes"),
        # Each dispute's age counts from the moment it was opened (its audit row).
        rows=lambda: BookingEvent.objects.filter(
            to_status=BookingStatus.DISPUTED, booking__status=BookingStatus.DISPUTED
        ),
        since_field="created_at",
        url_name="admin:bookings_booking_changelist",
        url_query="status__exact=disputed",
        permission="bookings.view_booking",
    )
)
