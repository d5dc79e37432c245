"""Paid products in the admin (issue 17): packages and their prices (staff set them; a package that sold is
switched off, never deleted), purchases read-only with their period, recognised revenue and refunds, the sales
and revenue per product above the list, and the refund of the unused part (asks to confirm; the same service
as everywhere: payments.services.purchase_refund_unused). Registered from payments/admin.py, because the
refund is a payments service and products sits below payments."""

from django.contrib import admin, messages
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.admin_site import RecordAdminMixin, RupiahAdminMixin
from payments import services
from payments.errors import PaymentError
from products.models import Package, Product, Purchase
from products.selectors import LIVE


@admin.register(Package)
class PackageAdmin(RupiahAdminMixin, admin.ModelAdmin):
    list_display = ("name", "product", "days", "price", "active", "sold")
    list_filter = ("product", "active")
    rupiah_fields = ("price",)

    def get_queryset(self, request):
        return (
            super().get_queryset(request).annotate(sold_count=Count("purchases", filter=Q(purchases__status__in=LIVE)))
        )

    @admin.display(description=_("sold"), ordering="sold_count")
    def sold(self, obj) -> int:
        return obj.sold_count

    def has_delete_permission(self, request, obj=None) -> bool:
        return obj is None or not obj.purchases.exists()


def product_figures() -> list[dict]:
    """Sales and revenue per product: paid purchases, their price, recognised revenue, refunded."""
    rows = (
        Purchase.objects.filter(status__in=LIVE)
        .values("product")
        .annotate(count=Count("pk"), sales=Sum("price"), recognised=Sum("recognised"), refunded=Sum("refunded"))
        .order_by("product")
    )
    labels = dict(Product.choices)
    return [{**row, "label": labels.get(row["product"], row["product"])} for row in rows]


class RunningFilter(admin.SimpleListFilter):
    """Which purchases hold a promotion or a pass right now, are still to come, or are over."""

    title = _("period")
    parameter_name = "period"

    def lookups(self, request, model_admin):
        return (("running", _("Running now")), ("coming", _("Still to come")), ("over", _("Over")))

    def queryset(self, request, queryset):
        now = timezone.now()
        live = queryset.filter(status__in=LIVE)
        if self.value() == "running":
            return live.filter(starts_at__lte=now, ends_at__gt=now)
        if self.value() == "coming":
            return live.filter(starts_at__gt=now)
        if self.value() == "over":
            return live.filter(ends_at__lte=now)
        return queryset


@admin.register(Purchase)
class PurchaseAdmin(RecordAdminMixin, RupiahAdminMixin, admin.ModelAdmin):
    list_display = (
        "reference",
        "buyer",
        "product",
        "days",
        "price",
        "method",
        "status",
        "starts_at",
        "ends_at",
        "recognised",
        "refunded",
    )
    list_filter = (RunningFilter, "product", "status", "method")
    search_fields = ("reference", "buyer__email")
    list_select_related = ("buyer",)
    rupiah_fields = ("price", "recognised", "refunded")
    actions = ["refund_unused"]
    change_list_template = "admin/products/purchase/change_list.html"

    def changelist_view(self, request, extra_context=None):
        extra = {
            "product_figures": product_figures(),
            "active_now": Purchase.objects.filter(
                status__in=LIVE, starts_at__lte=timezone.now(), ends_at__gt=timezone.now()
            ).count(),
        }
        return super().changelist_view(request, extra_context={**(extra_context or {}), **extra})

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm("products.change_purchase"):
            actions.pop("refund_unused", None)
        return actions

    @admin.action(description=_("Refund the unused part of the selected paid purchases"))
    def refund_unused(self, request, queryset):
        done = 0
        for purchase in queryset.filter(status=Purchase.Status.PAID)[:50]:
            try:
                amount = services.purchase_refund_unused(purchase_id=purchase.pk, actor=request.user)
            except PaymentError as problem:
                messages.error(request, f"{purchase.reference}: {problem.message}")
                continue
            done += 1
            self.log_change(request, purchase, f"Refunded the unused part: {amount}")
        if done:
            messages.success(request, _("Refunded the unused part of %(count)d purchases.") % {"count": done})
