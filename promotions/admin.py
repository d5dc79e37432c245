"""Promotions in the admin (issue 16): codes with their rules, what each cost (consumed discounts, in
Rupiah), the first bookings it brought, uses and budget left, and its redemptions; the welcome discount's
redemptions in the redemption list. Pausing or resuming a code asks for a reason, recorded in the admin's
history (LogEntry) with who and when; the `paused` flag is not editable in the form, so the action is the
only way. Counters are never edited by hand (promotions/services.py changes them atomically)."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Exists, OuterRef, Q
from django.template.response import TemplateResponse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from bookings.models import Booking
from core.admin_site import RupiahAdminMixin, rupiah
from core.formatting import format_basis_points
from core.forms import Form, ModelForm
from promotions import selectors, services
from promotions.models import Promotion, Redemption


class PromotionForm(ModelForm):
    class Meta:
        model = Promotion
        exclude = ("paused",)

    def clean_code(self) -> str:
        return services.normalize_code(self.cleaned_data.get("code"))

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == Promotion.Kind.PERCENT and not data.get("basis_points"):
            self.add_error("basis_points", _("A percentage code needs its percentage (basis points)."))
        if kind == Promotion.Kind.FIXED and not data.get("amount"):
            self.add_error("amount", _("A fixed code needs its amount."))
        if data.get("basis_points", 0) > 10_000:
            self.add_error("basis_points", _("At most 10000 (100%)."))
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end <= start:
            self.add_error("valid_until", _("The end must be after the start."))
        return data


class ReasonForm(Form):
    reason = forms.CharField(label=_("Reason"), min_length=5, max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


class RedemptionInline(RupiahAdminMixin, admin.TabularInline):
    model = Redemption
    fields = ("booking", "customer", "discount", "status", "reserved_at", "consumed_at", "released_at")
    readonly_fields = fields
    rupiah_fields = ("discount",)
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ("-reserved_at",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


def first_bookings(promotion: Promotion) -> int:
    """Paid bookings with this code that were the customer's first paid booking."""
    made = OuterRef("booking__created_at")
    earlier = Booking.objects.filter(customer=OuterRef("customer"), paid_at__isnull=False).filter(
        Q(created_at__lt=made) | Q(created_at=made, pk__lt=OuterRef("booking_id"))
    )
    return (
        Redemption.objects.filter(promotion=promotion, status=Redemption.Status.CONSUMED)
        .exclude(Exists(earlier))
        .count()
    )


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin):
    form = PromotionForm
    list_display = (
        "code",
        "name",
        "value",
        "paused",
        "uses",
        "budget_left",
        "cost",
        "first_bookings_brought",
        "valid_until",
    )
    list_filter = ("paused", "kind", "first_booking_only")
    search_fields = ("code", "name")
    filter_horizontal = ("cities", "activities")
    readonly_fields = ("paused", "uses", "budget_left", "cost", "first_bookings_brought", "created_at")
    fieldsets = (
        (None, {"fields": ("code", "name", "paused")}),
        (_("Discount"), {"fields": ("kind", "basis_points", "amount", "minimum_subtotal")}),
        (_("When and where"), {"fields": ("valid_from", "valid_until", "cities", "activities")}),
        (_("Who"), {"fields": ("first_booking_only", "new_customer_days", "uses_per_customer")}),
        (_("Limits"), {"fields": ("total_uses", "budget")}),
        (_("Figures"), {"fields": ("uses", "budget_left", "cost", "first_bookings_brought", "created_at")}),
    )
    inlines = [RedemptionInline]
    actions = ["pause", "resume"]

    def get_queryset(self, request):
        return selectors.promotions_with_figures()

    @admin.display(description=_("discount"))
    def value(self, obj: Promotion) -> str:
        if obj.kind == Promotion.Kind.FIXED:
            return rupiah(obj.amount)
        percent = format_basis_points(obj.basis_points, language=get_language() or "id")
        if obj.amount:
            return _("%(percent)s up to %(cap)s") % {"percent": percent, "cap": rupiah(obj.amount)}
        return percent

    @admin.display(description=_("uses (taken / total)"))
    def uses(self, obj: Promotion) -> str:
        total = obj.total_uses if obj.total_uses is not None else "∞"
        return f"{obj.uses_reserved} / {total}"

    @admin.display(description=_("budget left"))
    def budget_left(self, obj: Promotion) -> str:
        if obj.budget is None:
            return _("no budget limit")
        return rupiah(max(obj.budget - obj.budget_reserved, 0))

    @admin.display(description=_("cost (paid discounts)"), ordering="cost")
    def cost(self, obj: Promotion) -> str:
        amount = getattr(obj, "cost", None)
        if amount is None:
            amount = selectors.promotion_cost(obj) if obj.pk else 0
        return rupiah(amount)

    @admin.display(description=_("first bookings brought"))
    def first_bookings_brought(self, obj: Promotion) -> int:
        return first_bookings(obj) if obj.pk else 0

    def _reason_action(self, request, queryset, *, paused: bool):
        promotions = list(queryset.order_by("code"))
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            for promotion in promotions:
                services.promotion_pause(promotion=promotion, paused=paused, staff=request.user, reason=reason)
                verb = "Paused" if paused else "Resumed"
                self.log_change(request, promotion, f"{verb}: {reason}")
            done = _("Paused: %(codes)s.") if paused else _("Resumed: %(codes)s.")
            self.message_user(request, done % {"codes": ", ".join(p.code for p in promotions)}, messages.SUCCESS)
            return None
        heading = _("Pause codes") if paused else _("Resume codes")
        context = {
            **self.admin_site.each_context(request),
            "title": heading,
            "heading": heading,
            "promotions": promotions,
            "form": form,
            "action": request.POST.get("action", ""),
            "submit_label": _("Pause") if paused else _("Resume"),
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/promotions/reason_form.html", context)

    @admin.action(description=_("Pause the selected codes (asks a reason)"), permissions=["change"])
    def pause(self, request, queryset):
        return self._reason_action(request, queryset, paused=True)

    @admin.action(description=_("Resume the selected codes (asks a reason)"), permissions=["change"])
    def resume(self, request, queryset):
        return self._reason_action(request, queryset, paused=False)


@admin.register(Redemption)
class RedemptionAdmin(RupiahAdminMixin, admin.ModelAdmin):
    """Every discount taken, the welcome discount's too (no promotion). Read-only: the booking's life
    reserves, consumes and releases them."""

    list_display = ("booking", "customer", "source", "promotion", "discount", "status", "reserved_at")
    list_filter = ("source", "status")
    search_fields = ("booking__reference", "promotion__code")
    list_select_related = ("booking", "customer", "promotion")
    readonly_fields = [field.name for field in Redemption._meta.fields]
    rupiah_fields = ("discount",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
