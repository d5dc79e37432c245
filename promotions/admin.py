"""Promotions in the admin (issue 16): codes with their rules, what each cost (consumed discounts, in
Rupiah), the first bookings it brought, uses and budget left, and its redemptions; the welcome discount's
redemptions in the redemption list. Pausing or resuming a code asks for a reason, recorded as a
StaffDecision (shown on the code's page) and in the admin's history (LogEntry), with who and when; the
`paused` flag is not editable in the form, so the action is the only way. Counters are never edited by
hand (promotions/services.py changes them atomically).

The referral programme (promotions/referrals.py): referrals with their states and fraud flags, read-only;
staff act on them only through two actions that ask a reason (withhold the reward, release a held
referral), each recorded as a StaffDecision shown on the referral's page. Held referrals wait in a work
queue on the admin index. Vouchers and commission cuts are listed read-only."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Exists, OuterRef, Q
from django.template.response import TemplateResponse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _

from bookings.models import Booking
from core import locks
from core.admin_site import RecordAdminMixin, RupiahAdminMixin, WorkQueue, register_work_queue, rupiah
from core.formatting import format_basis_points
from core.forms import Form, ModelForm
from promotions import referrals, selectors, services
from promotions.models import CommissionCut, Promotion, Redemption, Referral, StaffDecision, Voucher


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
    # At most what StaffDecision.reason holds (300).
    reason = forms.CharField(label=_("Reason"), min_length=5, max_length=300, widget=forms.Textarea(attrs={"rows": 3}))


def reason_step(model_admin: admin.ModelAdmin, request, objects: list, *, heading, submit_label):
    """The intermediate page of an action that asks a reason: returns (reason, None) once a valid reason
    was posted, else (None, the page asking it, again with the form's errors)."""
    form = ReasonForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        return form.cleaned_data["reason"], None
    context = {
        **model_admin.admin_site.each_context(request),
        "title": heading,
        "heading": heading,
        "objects": objects,
        "form": form,
        "action": request.POST.get("action", ""),
        "submit_label": submit_label,
        "opts": model_admin.model._meta,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    return None, TemplateResponse(request, "admin/promotions/reason_form.html", context)


class StaffDecisionInline(RecordAdminMixin, admin.TabularInline):
    """The decisions about a code or a referral, newest first: the record of who decided what and why."""

    model = StaffDecision
    fields = ("at", "action", "staff", "reason")
    readonly_fields = fields
    extra = 0
    ordering = ("-at", "-pk")
    verbose_name_plural = _("staff decisions (with the reason)")

    def has_view_permission(self, request, obj=None) -> bool:
        # Part of the code's or referral's record: whoever may open that page reads its decisions.
        return True


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
    inlines = [RedemptionInline, StaffDecisionInline]
    actions = ["pause", "resume"]

    def get_queryset(self, request):
        return selectors.promotions_with_figures()

    def get_inlines(self, request, obj):
        # A new code has no decisions yet (and its add form then needs no management form for them).
        return self.inlines if obj is not None else [RedemptionInline]

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
        reason, page = reason_step(
            self,
            request,
            [
                (promotion.pk, f"{promotion.code} · {promotion.name}" if promotion.name else promotion.code)
                for promotion in promotions
            ],
            heading=_("Pause codes") if paused else _("Resume codes"),
            submit_label=_("Pause") if paused else _("Resume"),
        )
        if reason is None:
            return page
        for promotion in promotions:
            # Recorded as a StaffDecision (shown on the code's page) by the service; the admin history too.
            services.promotion_pause(promotion=promotion, paused=paused, staff=request.user, reason=reason)
            verb = "Paused" if paused else "Resumed"
            self.log_change(request, promotion, f"{verb}: {reason}")
        done = _("Paused: %(codes)s.") if paused else _("Resumed: %(codes)s.")
        self.message_user(request, done % {"codes": ", ".join(p.code for p in promotions)}, messages.SUCCESS)
        return None

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


# --- The referral programme ----------------------------------------------------------------------------


def _person(user) -> str:
    return format_html("{}<br><small>{}</small>", user.get_full_name() or "—", user.email)


def _when(moment) -> str:
    """A time as the admin shows it (WIB, with the zone)."""
    return formats.localize(timezone.template_localtime(moment)) if moment else "—"


def flag_labels(flags: list) -> str:
    """The fraud flags as readable labels (an unknown value is shown as stored)."""
    labels = dict(Referral.Flag.choices)
    return "; ".join(str(labels.get(flag, flag)) for flag in flags or ())


def reward_label(referral: Referral) -> str:
    """The referral's reward: the voucher's amount and status, or the commission cut and its end."""
    voucher = getattr(referral, "voucher", None)
    if voucher is not None:
        return _("Voucher %(amount)s (%(status)s)") % {
            "amount": rupiah(voucher.amount),
            "status": voucher.get_status_display(),
        }
    cut = getattr(referral, "commission_cut", None)
    if cut is not None:
        return _("Commission %(percent)s lower until %(end)s") % {
            "percent": format_basis_points(cut.basis_points, language=get_language() or "id"),
            "end": _when(cut.ends_at),
        }
    return "—"


class FlagFilter(admin.SimpleListFilter):
    """Referrals carrying one fraud flag (the flags are a JSON list)."""

    title = _("fraud flag")
    parameter_name = "flag"

    def lookups(self, request, model_admin):
        return [*Referral.Flag.choices, ("none", _("No flag"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(flags=[])
        if value in Referral.Flag.values:
            return queryset.filter(flags__contains=[value])
        return queryset


@admin.register(Referral)
class ReferralAdmin(RecordAdminMixin, admin.ModelAdmin):
    """Read-only: a referral changes only through the programme's rules and the two actions below, each of
    which asks a reason and records it (StaffDecision, listed on the referral's page)."""

    list_display = (
        "signed_up_at",
        "referrer_person",
        "friend_person",
        "status",
        "flags_shown",
        "qualified_at",
        "reward",
        "rewarded_at",
    )
    list_filter = ("status", FlagFilter)
    search_fields = ("referrer__email", "referred__email")
    list_select_related = ("referrer", "referred", "voucher", "commission_cut")
    date_hierarchy = "signed_up_at"
    fields = (
        "referrer",
        "referred",
        "status",
        "flags_shown",
        "signup_address",
        "signed_up_at",
        "qualifying_booking",
        "qualified_at",
        "reward",
        "rewarded_at",
        "reversed_at",
        "note",
    )
    readonly_fields = fields
    inlines = [StaffDecisionInline]
    actions = ["withhold", "release"]

    @admin.display(description=_("referrer"), ordering="referrer__email")
    def referrer_person(self, referral: Referral) -> str:
        return _person(referral.referrer)

    @admin.display(description=_("friend"), ordering="referred__email")
    def friend_person(self, referral: Referral) -> str:
        return _person(referral.referred)

    @admin.display(description=_("fraud flags"))
    def flags_shown(self, referral: Referral) -> str:
        return flag_labels(referral.flags) or "—"

    @admin.display(description=_("reward"))
    def reward(self, referral: Referral) -> str:
        return reward_label(referral)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        referral = self.get_object(request, object_id)
        if referral is not None:  # the page names the two people, not the row's ids
            extra_context = {
                **(extra_context or {}),
                "subtitle": f"{referral.referrer.email} → {referral.referred.email}",
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def has_decide_permission(self, request) -> bool:
        """Withholding and releasing change a referral: the `change referral` permission."""
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    def _decide(self, request, queryset, *, withhold: bool):
        chosen = list(queryset.select_related("referrer", "referred").order_by("-signed_up_at", "-pk"))
        labels = [(r.pk, f"{r.referrer.email} → {r.referred.email} ({r.get_status_display()})") for r in chosen]
        reason, page = reason_step(
            self,
            request,
            labels,
            heading=_("Withhold the reward") if withhold else _("Release held referrals"),
            submit_label=_("Withhold") if withhold else _("Release"),
        )
        if reason is None:
            return page
        done, skipped, busy, used = 0, 0, 0, 0
        for referral in chosen:
            try:
                if withhold:
                    decided = referrals.referral_withhold(referral=referral, staff=request.user, reason=reason)
                    done += 1
                    used += decided.note == "the voucher was already used"
                elif referral.status != Referral.Status.HELD:
                    skipped += 1
                else:
                    referrals.referral_release(referral=referral, staff=request.user, reason=reason)
                    done += 1
            except locks.LockBusy:
                busy += 1
        if withhold:
            message = ngettext("Withheld %(count)d referral.", "Withheld %(count)d referrals.", done)
        else:
            message = ngettext("Released %(count)d referral.", "Released %(count)d referrals.", done)
        self.message_user(request, message % {"count": done}, messages.SUCCESS)
        if used:
            self.message_user(
                request,
                ngettext(
                    "%(count)d voucher was already used: it could not be taken back.",
                    "%(count)d vouchers were already used: they could not be taken back.",
                    used,
                )
                % {"count": used},
                messages.WARNING,
            )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d referral was not held: left as it was.",
                    "%(count)d referrals were not held: left as they were.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )
        if busy:
            self.message_user(
                request,
                ngettext(
                    "%(count)d referral is being changed right now: try it again.",
                    "%(count)d referrals are being changed right now: try them again.",
                    busy,
                )
                % {"count": busy},
                messages.ERROR,
            )
        return None

    @admin.action(description=_("Withhold the reward (asks a reason)"), permissions=["decide"])
    def withhold(self, request, queryset):
        return self._decide(request, queryset, withhold=True)

    @admin.action(description=_("Release held referrals (asks a reason)"), permissions=["decide"])
    def release(self, request, queryset):
        return self._decide(request, queryset, withhold=False)


register_work_queue(
    WorkQueue(
        key="promotions.held_referrals",
        label=_("Referrals held for review"),
        rows=lambda: Referral.objects.filter(status=Referral.Status.HELD),
        since_field="signed_up_at",
        url_name="admin:promotions_referral_changelist",
        url_query=f"status__exact={Referral.Status.HELD}",
        permission="promotions.view_referral",
    )
)


@admin.register(Voucher)
class VoucherAdmin(RecordAdminMixin, RupiahAdminMixin, admin.ModelAdmin):
    """Referral vouchers (a customer's reward). Read-only: bookings reserve and use them, withholding or a
    refund revokes them."""

    list_display = ("owner", "amount", "status", "issued_at", "expires_at", "friend")
    list_filter = ("status",)
    search_fields = ("owner__email",)
    list_select_related = ("owner", "referral__referrer", "referral__referred")
    readonly_fields = ("owner", "referral", "amount", "status", "issued_at", "expires_at")
    fields = readonly_fields
    rupiah_fields = ("amount",)

    @admin.display(description=_("for inviting"))
    def friend(self, obj: Voucher) -> str:
        return obj.referral.referred.email


class CutStateFilter(admin.SimpleListFilter):
    """A commission cut is upcoming, active or ended by its dates (it has no status field)."""

    title = _("status")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", _("Active")), ("upcoming", _("Upcoming")), ("ended", _("Ended"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "active":
            return queryset.filter(starts_at__lte=now, ends_at__gt=now)
        if self.value() == "upcoming":
            return queryset.filter(starts_at__gt=now)
        if self.value() == "ended":
            return queryset.filter(ends_at__lte=now)
        return queryset


@admin.register(CommissionCut)
class CommissionCutAdmin(RecordAdminMixin, admin.ModelAdmin):
    """Referral commission cuts (a companion's reward). Read-only: withholding or a refund ends them."""

    list_display = ("profile", "cut", "starts_at", "ends_at", "friend")
    list_filter = (CutStateFilter,)
    search_fields = ("profile__user__email",)
    list_select_related = ("profile__user", "referral__referrer", "referral__referred")
    readonly_fields = ("profile", "referral", "cut", "starts_at", "ends_at")
    fields = readonly_fields

    @admin.display(description=_("cut"), ordering="basis_points")
    def cut(self, obj: CommissionCut) -> str:
        return format_basis_points(obj.basis_points, language=get_language() or "id")

    @admin.display(description=_("for inviting"))
    def friend(self, obj: CommissionCut) -> str:
        return obj.referral.referred.email
