"""Payments in the admin: payments with their notifications, refunds (manual queue, retries),
payouts (approve, reject, mark paid), and the ledger per account with a "ledger balanced" check.
Every action calls the same service the rest of the code uses; money rows are never edited by hand."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from core.admin_site import RupiahAdminMixin, WorkQueue, register_work_queue, rupiah
from payments import ledger, services
from payments.errors import PaymentError
from payments.forms import RejectPayoutForm, TransferReferenceForm
from payments.models import (
    BankAccount,
    Entry,
    Journal,
    LedgerAccount,
    Payment,
    PaymentNotification,
    Payout,
    Refund,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


def _form_action(
    modeladmin, request, queryset, *, status, select_message, form_class, call, success, heading, summary, submit
):
    """An admin action on exactly one object in `status` that needs a small form first (a transfer
    reference, a reason): shows the form, then calls `call(obj, cleaned_data)`; errors stay on the page."""
    chosen = list(queryset.filter(status__in=status))
    if len(chosen) != 1 or queryset.count() != 1:
        modeladmin.message_user(request, select_message, messages.ERROR)
        return None
    obj = chosen[0]
    form = form_class(request.POST if "apply" in request.POST else None)
    if form.is_valid() and _run(modeladmin, request, lambda: call(obj, form.cleaned_data), success):
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": heading(obj),
        "heading": heading(obj),
        "summary": summary(obj),
        "form": form,
        "object": obj,
        "action": request.POST.get("action", ""),
        "submit_label": submit,
        "opts": modeladmin.model._meta,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/payments/action_form.html", context)


def _rupiah(amount: int) -> str:
    return rupiah(amount)


def _run(modeladmin, request, call, success) -> bool:
    try:
        call()
    except PaymentError as error:
        modeladmin.message_user(request, error.message, messages.ERROR)
        return False
    modeladmin.message_user(request, success, messages.SUCCESS)
    return True


# --- Payments ------------------------------------------------------------------------------------------------


class NotificationInline(ReadOnlyInline):
    model = PaymentNotification
    fields = ("received_at", "source", "transaction_status", "verdict", "detail")
    readonly_fields = fields


class RefundInline(RupiahAdminMixin, ReadOnlyInline):
    model = Refund
    fields = ("refund_key", "amount", "method", "status", "attempts", "last_error")
    readonly_fields = fields
    rupiah_fields = ("amount",)
    show_change_link = True


@admin.register(Payment)
class PaymentAdmin(RupiahAdminMixin, ReadOnlyAdmin):
    list_display = (
        "order_id",
        "booking",
        "purchase",
        "amount",
        "status",
        "provider_status",
        "payment_type",
        "needs_refund",
        "created_at",
    )
    list_filter = ("status", "needs_refund", "payment_type")
    search_fields = (
        "order_id",
        "booking__reference",
        "purchase__reference",
        "provider_transaction_id",
        "invoice_number",
    )
    list_select_related = ("booking", "purchase")
    readonly_fields = [field.name for field in Payment._meta.fields]
    rupiah_fields = ("amount",)
    inlines = [NotificationInline, RefundInline]
    actions = ["check_status"]

    @admin.action(description=_("Ask the payment provider for the current status"))
    def check_status(self, request, queryset):
        for payment in queryset[:50]:
            verdict = services.payment_check(payment_id=payment.pk)
            self.message_user(request, f"{payment.order_id}: {verdict}")


class AttentionFilter(admin.SimpleListFilter):
    """Reconciliation mismatches and refused notifications: what someone should look at."""

    title = _("needs attention")
    parameter_name = "attention"
    VERDICTS = ("amount_mismatch", "unknown_order", "forged", "malformed", "unexpected")

    def lookups(self, request, model_admin):
        return [("yes", _("Mismatches and refused"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(verdict__in=self.VERDICTS)
        return queryset


@admin.register(PaymentNotification)
class PaymentNotificationAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "order_id", "source", "transaction_status", "verdict", "detail")
    list_filter = (AttentionFilter, "verdict", "source", "transaction_status")
    search_fields = ("order_id",)
    readonly_fields = [field.name for field in PaymentNotification._meta.fields]


# --- Refunds -------------------------------------------------------------------------------------------------


@admin.register(Refund)
class RefundAdmin(RupiahAdminMixin, ReadOnlyAdmin):
    list_display = ("refund_key", "booking", "amount", "method", "status", "attempts", "created_at", "completed_at")
    list_filter = ("status", "method", "reason")
    search_fields = ("refund_key", "booking__reference", "transfer_reference")
    list_select_related = ("booking",)
    # Staff need the full account number to make the transfer: shown here, never in lists.
    readonly_fields = [field.name for field in Refund._meta.fields]
    rupiah_fields = ("amount",)
    actions = ["mark_transferred", "retry", "switch_to_manual"]

    @admin.action(description=_("Mark the bank-transfer refund as sent"), permissions=["change"])
    def mark_transferred(self, request, queryset):
        return _form_action(
            self,
            request,
            queryset,
            status=[Refund.Status.MANUAL_QUEUED],
            select_message=_("Select exactly one refund waiting for a bank transfer."),
            form_class=TransferReferenceForm,
            call=lambda refund, data: services.refund_mark_manual_done(
                refund_id=refund.pk, actor=request.user, reference=data["reference"]
            ),
            success=_("Refund marked as sent."),
            heading=lambda refund: _("Refund %(key)s by bank transfer") % {"key": refund.refund_key},
            summary=lambda refund: [
                f"{refund.payment.subject_reference} · {_rupiah(refund.amount)}",
                f"{refund.get_bank_display()} {refund.account_number} a.n. {refund.holder_name}",
            ],
            submit=_("Mark as sent"),
        )

    @admin.action(description=_("Retry the failed refund (same refund key)"), permissions=["change"])
    def retry(self, request, queryset):
        for refund in queryset.filter(status=Refund.Status.FAILED):
            _run(
                self,
                request,
                lambda r=refund: services.refund_retry(refund_id=r.pk, actor=request.user),
                _("Refund %(key)s sent again.") % {"key": refund.refund_key},
            )

    @admin.action(description=_("Switch the failed refund to a bank transfer"), permissions=["change"])
    def switch_to_manual(self, request, queryset):
        for refund in queryset.filter(status=Refund.Status.FAILED):
            _run(
                self,
                request,
                lambda r=refund: services.refund_switch_to_manual(refund_id=r.pk, actor=request.user),
                _("Refund %(key)s now waits for the customer's bank details.") % {"key": refund.refund_key},
            )


# --- Payouts -------------------------------------------------------------------------------------------------


@admin.register(BankAccount)
class BankAccountAdmin(ReadOnlyAdmin):
    list_display = ("profile", "bank", "masked_account_number", "holder_name", "updated_at")
    search_fields = ("profile__display_name", "holder_name")
    readonly_fields = ("profile", "bank", "account_number", "holder_name", "updated_at")

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Payout)
class PayoutAdmin(RupiahAdminMixin, ReadOnlyAdmin):
    list_display = ("pk", "profile", "amount", "status", "bank", "masked_account_number", "requested_at", "paid_at")
    list_filter = ("status", "bank")
    search_fields = ("profile__display_name", "transfer_reference")
    list_select_related = ("profile",)
    readonly_fields = [field.name for field in Payout._meta.fields]
    rupiah_fields = ("amount",)
    actions = ["approve", "reject", "mark_paid"]

    @admin.action(description=_("Approve the selected payout requests"), permissions=["change"])
    def approve(self, request, queryset):
        for payout in queryset.filter(status=Payout.Status.REQUESTED):
            _run(
                self,
                request,
                lambda p=payout: services.payout_approve(payout_id=p.pk, actor=request.user),
                _("Payout %(id)s approved.") % {"id": payout.pk},
            )

    @admin.action(description=_("Reject the selected payout request"), permissions=["change"])
    def reject(self, request, queryset):
        return _form_action(
            self,
            request,
            queryset,
            status=Payout.OPEN_STATUSES,
            select_message=_("Select exactly one open payout."),
            form_class=RejectPayoutForm,
            call=lambda payout, data: services.payout_reject(
                payout_id=payout.pk, actor=request.user, reason=data["reason"]
            ),
            success=_("Payout rejected."),
            heading=lambda payout: _("Reject payout %(id)s") % {"id": payout.pk},
            summary=lambda payout: [f"{payout.profile} · {_rupiah(payout.amount)}"],
            submit=_("Reject"),
        )

    @admin.action(description=_("Mark the approved payout as paid"), permissions=["change"])
    def mark_paid(self, request, queryset):
        return _form_action(
            self,
            request,
            queryset,
            status=[Payout.Status.APPROVED],
            select_message=_("Select exactly one approved payout."),
            form_class=TransferReferenceForm,
            call=lambda payout, data: services.payout_mark_paid(
                payout_id=payout.pk, actor=request.user, reference=data["reference"]
            ),
            success=_("Payout marked as paid."),
            heading=lambda payout: _("Pay out %(id)s") % {"id": payout.pk},
            summary=lambda payout: [
                f"{payout.profile} · {_rupiah(payout.amount)}",
                f"{payout.get_bank_display()} {payout.account_number} a.n. {payout.holder_name}",
            ],
            submit=_("Mark as paid"),
        )


# --- Ledger --------------------------------------------------------------------------------------------------


class JournalEntryInline(RupiahAdminMixin, ReadOnlyInline):
    model = Entry
    readonly_fields = ("account", "amount")
    rupiah_fields = ("amount",)

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Journal)
class JournalAdmin(ReadOnlyAdmin):
    """Read-only: the ledger is append-only (corrections are new journals, posted by services)."""

    list_display = ("created_at", "reference", "kind", "memo")
    list_filter = ("kind",)
    search_fields = ("reference", "memo")
    readonly_fields = ("reference", "kind", "memo", "created_at")
    inlines = [JournalEntryInline]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        return [
            path("check/", self.admin_site.admin_view(self.check_view), name="payments_ledger_check"),
            *super().get_urls(),
        ]

    def check_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("Ledger check"),
            "report": ledger.check(),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/payments/ledger_check.html", context)


class AccountEntryInline(RupiahAdminMixin, ReadOnlyInline):
    model = Entry
    fields = ("journal", "amount")
    readonly_fields = fields
    rupiah_fields = ("amount",)
    ordering = ("-journal__created_at",)

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ("key", "kind", "balance", "created_at")
    list_filter = ("kind",)
    search_fields = ("key",)
    readonly_fields = ("key", "kind", "booking", "profile", "created_at", "balance")
    inlines = [AccountEntryInline]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(entries_total=Sum("entries__amount"))

    @admin.display(description=_("balance"))
    def balance(self, account) -> str:
        total = getattr(account, "entries_total", None)
        if total is None:
            total = account.entries.aggregate(total=Sum("amount"))["total"] or 0
        normal = total if account.kind == "asset" else -total
        return rupiah(normal)


# --- Work waiting for staff (the admin index) ----------------------------------------------------------------

register_work_queue(
    WorkQueue(
        key="payments.refunds_waiting",
        label=_("Refunds waiting (failed or by bank transfer)"),
        rows=lambda: Refund.objects.filter(status__in=(Refund.Status.FAILED, Refund.Status.MANUAL_QUEUED)),
        since_field="created_at",
        url_name="admin:payments_refund_changelist",
        url_query=f"status__in={Refund.Status.FAILED},{Refund.Status.MANUAL_QUEUED}",
        permission="payments.view_refund",
    )
)
register_work_queue(
    WorkQueue(
        key="payments.payouts_open",
        label=_("Payouts requested or approved"),
        rows=lambda: Payout.objects.filter(status__in=Payout.OPEN_STATUSES),
        since_field="requested_at",
        url_name="admin:payments_payout_changelist",
        url_query="status__in=" + ",".join(Payout.OPEN_STATUSES),
        permission="payments.view_payout",
    )
)


# Paid products (issue 17): registered here because their refund action is a payments service.
from payments import product_admin  # noqa: E402, F401
