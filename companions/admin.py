from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from companions import booking_facts, levels, page_cache, services
from companions.errors import VerificationError
from companions.models import (
    Activity,
    City,
    CompanionPhoto,
    CompanionProfile,
    IdentityFileView,
    IdentityVerification,
    Level,
    LevelChange,
    LevelPolicy,
    LevelRule,
    LevelStanding,
    MarketplaceSettings,
    SpokenLanguage,
    VerificationStatus,
)
from core.admin_site import RecordAdminMixin, RupiahAdminMixin, WorkQueue, register_work_queue
from core.forms import Form as CleanForm
from core.forms import ModelForm
from core.locks import LockBusy


class RefreshesPagesAdmin(admin.ModelAdmin):
    """Admin edits bypass the services: cached search and profile pages are refreshed after commit."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        page_cache.everything_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        page_cache.everything_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        page_cache.everything_changed()


@admin.register(City)
class CityAdmin(RefreshesPagesAdmin):
    list_display = ("name", "province", "time_zone", "position")
    list_filter = ("time_zone",)
    search_fields = ("name", "province")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Activity)
class ActivityAdmin(RefreshesPagesAdmin):
    list_display = ("name_id", "name_en", "slug", "position", "is_active")
    list_editable = ("position", "is_active")
    prepopulated_fields = {"slug": ("name_en",)}


@admin.register(SpokenLanguage)
class SpokenLanguageAdmin(RefreshesPagesAdmin):
    list_display = ("name_id", "name_en", "code", "position")


@admin.register(MarketplaceSettings)
class MarketplaceSettingsAdmin(RupiahAdminMixin, RefreshesPagesAdmin):
    list_display = ("__str__", "min_hourly_rate", "max_hourly_rate")
    rupiah_fields = ("min_hourly_rate", "max_hourly_rate")

    def has_add_permission(self, request) -> bool:
        return not MarketplaceSettings.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class PhotoInline(admin.TabularInline):
    model = CompanionPhoto
    extra = 0
    fields = ("preview", "position", "is_cover", "created_at")
    readonly_fields = ("preview", "created_at")

    @admin.display(description=_("photo"))
    def preview(self, photo: CompanionPhoto):
        return format_html('<img src="{}" alt="" width="96">', photo.thumbnail.url) if photo.thumbnail else ""


@admin.register(CompanionProfile)
class CompanionProfileAdmin(RupiahAdminMixin, RefreshesPagesAdmin):
    list_display = ("display_name", "slug", "city", "hourly_rate", "verification_status", "is_listed", "is_paused")
    rupiah_fields = ("hourly_rate",)
    list_filter = ("is_listed", "verification_status", "is_paused", "city__time_zone", "city")
    search_fields = ("display_name", "slug", "user__email", "user__full_name")
    list_select_related = ("city", "user")
    readonly_fields = (
        "user",
        "verification_status",
        "is_listed",
        "listed_at",
        "reliability",
        "created_at",
        "updated_at",
    )
    autocomplete_fields = ()
    filter_horizontal = ("activities", "languages")
    inlines = [PhotoInline]

    @admin.display(description=_("reliability"))
    def reliability(self, profile: CompanionProfile) -> str:
        figures = booking_facts.reliability(profile.pk)
        return _("%(cancelled)d cancelled by the companion out of %(paid)d paid bookings") % {
            "cancelled": figures.companion_cancellations,
            "paid": figures.paid_bookings,
        }

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.profile_refresh_listing(profile=form.instance)


class RejectForm(CleanForm):
    reason = forms.CharField(
        label=_("Reason shown to the companion"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        min_length=10,
        help_text=_('Say what to fix, e.g. "The KTP photo is blurry: the NIK cannot be read."'),
    )


@admin.register(IdentityVerification)
class IdentityVerificationAdmin(admin.ModelAdmin):
    """The review queue: pending first, oldest first. Images come from the permission-checked view."""

    list_display = ("profile", "status", "nik_masked", "submitted_at", "reviewed_by", "reviewed_at")
    list_filter = ("status",)
    search_fields = ("profile__display_name", "profile__user__email")
    list_select_related = ("profile", "reviewed_by")
    ordering = ("submitted_at",)
    actions = ["approve_selected", "reject_selected"]
    fields = (
        "profile",
        "status",
        "nik_masked",
        "ktp_preview",
        "selfie_preview",
        "profile_details",
        "submitted_at",
        "reviewed_by",
        "reviewed_at",
        "rejection_reason",
    )
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        # Never load the encrypted NIK for lists; the masked digits are enough.
        return super().get_queryset(request).defer("nik")

    @admin.display(description=_("NIK"))
    def nik_masked(self, verification: IdentityVerification) -> str:
        return verification.nik_masked

    def _image(self, verification: IdentityVerification, kind: str):
        url = reverse("companions:identity_file", args=[verification.pk, kind])
        return format_html('<a href="{0}" target="_blank" rel="noopener"><img src="{0}" alt="" width="360"></a>', url)

    @admin.display(description=_("KTP photo"))
    def ktp_preview(self, verification):
        return self._image(verification, "ktp")

    @admin.display(description=_("Selfie holding the KTP"))
    def selfie_preview(self, verification):
        return self._image(verification, "selfie")

    @admin.display(description=_("Account"))
    def profile_details(self, verification):
        user = verification.profile.user
        return format_html(
            "{} · {} · {}: {} · {}: {}",
            user.full_name,
            user.email,
            _("born"),
            user.date_of_birth or "—",
            _("gender"),
            verification.profile.get_gender_display() or "—",
        )

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        response["Cache-Control"] = "no-store, private"
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        verification = self.get_object(request, object_id)
        if verification is not None and verification.status == VerificationStatus.PENDING:
            # Approve and reject on the review page itself (POST to the views below).
            extra_context = {
                **(extra_context or {}),
                "can_review": self.has_change_permission(request, verification),
                "reject_form": RejectForm(),
            }
        response = super().change_view(request, object_id, form_url, extra_context)
        response["Cache-Control"] = "no-store, private"
        return response

    def get_urls(self):
        review = self.admin_site.admin_view  # staff with two-factor login, CSRF-checked
        return [
            path("<path:object_id>/approve/", review(self.approve_view), name="companions_verification_approve"),
            path("<path:object_id>/reject/", review(self.reject_view), name="companions_verification_reject"),
            *super().get_urls(),
        ]

    def _reviewed(self, request, object_id) -> IdentityVerification:
        verification = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_change_permission(request, verification):
            raise PermissionDenied
        return verification

    def _after_review(self, request, verification) -> HttpResponseRedirect:
        """Back to the queue, where the next pending verification waits."""
        return HttpResponseRedirect(
            reverse("admin:companions_identityverification_changelist") + "?status__exact=pending"
        )

    @staticmethod
    def _back_to_page(verification) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:companions_identityverification_change", args=[verification.pk]))

    @method_decorator(require_POST)
    def approve_view(self, request, object_id):
        verification = self._reviewed(request, object_id)
        try:
            services.verification_approve(verification_id=verification.pk, reviewer=request.user)
        except VerificationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return self._back_to_page(verification)
        self.message_user(
            request, _("Verification of %(name)s approved.") % {"name": verification.profile}, messages.SUCCESS
        )
        return self._after_review(request, verification)

    @method_decorator(require_POST)
    def reject_view(self, request, object_id):
        verification = self._reviewed(request, object_id)
        form = RejectForm(request.POST)
        if not form.is_valid():
            for error in form.errors.get("reason", []):
                self.message_user(request, error, messages.ERROR)
            return self._back_to_page(verification)
        try:
            services.verification_reject(
                verification_id=verification.pk, reviewer=request.user, reason=form.cleaned_data["reason"]
            )
        except VerificationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return self._back_to_page(verification)
        self.message_user(
            request, _("Verification of %(name)s rejected.") % {"name": verification.profile}, messages.SUCCESS
        )
        return self._after_review(request, verification)

    @admin.action(description=_("Approve selected verifications"))
    def approve_selected(self, request, queryset):
        approved = 0
        for verification_id in queryset.filter(status=VerificationStatus.PENDING).values_list("pk", flat=True):
            services.verification_approve(verification_id=verification_id, reviewer=request.user)
            approved += 1
        message = ngettext("%(count)d verification approved.", "%(count)d verifications approved.", approved)
        self.message_user(request, message % {"count": approved}, messages.SUCCESS)

    @admin.action(description=_("Reject selected verifications (asks for a reason)"))
    def reject_selected(self, request, queryset):
        pending = queryset.filter(status=VerificationStatus.PENDING)
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            rejected = 0
            for verification_id in pending.values_list("pk", flat=True):
                try:
                    services.verification_reject(
                        verification_id=verification_id, reviewer=request.user, reason=form.cleaned_data["reason"]
                    )
                except VerificationError as error:
                    self.message_user(request, error.message, messages.ERROR)
                    return None
                rejected += 1
            message = ngettext("%(count)d verification rejected.", "%(count)d verifications rejected.", rejected)
            self.message_user(request, message % {"count": rejected}, messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reject verifications"),
            "form": form,
            "verifications": pending,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/companions/reject_verifications.html", context)


register_work_queue(
    WorkQueue(
        key="companions.pending_verifications",
        label=_("KTP verifications to review"),
        rows=lambda: IdentityVerification.objects.filter(status=VerificationStatus.PENDING),
        since_field="submitted_at",
        url_name="admin:companions_identityverification_changelist",
        url_query="status__exact=pending",
        permission="companions.view_identityverification",
    )
)


# --- Levels -----------------------------------------------------------------------------------------


class LevelPolicyForm(ModelForm):
    class Meta:
        model = LevelPolicy
        fields = ("effective_from", "note")

    def clean_effective_from(self):
        day = self.cleaned_data["effective_from"]
        problem = levels.policy_date_problem(day)
        if problem:
            raise forms.ValidationError(problem)
        return day


class LevelRuleForm(ModelForm):
    class Meta:
        model = LevelRule
        fields = (
            "level",
            "commission_basis_points",
            "min_completed",
            "min_customers",
            "min_rating",
            "min_response_rate",
            "max_cancellation_rate",
        )


class LevelRuleFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(form.errors for form in self.forms):
            return
        rows = [
            form.cleaned_data for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE", False)
        ]
        problems = levels.rules_problems(rows)
        if problems:
            raise forms.ValidationError(problems)


class LevelRuleInline(admin.TabularInline):
    model = LevelRule
    form = LevelRuleForm
    formset = LevelRuleFormSet
    extra = 0
    min_num = max_num = len(Level.values)
    can_delete = False

    def get_extra(self, request, obj=None, **kwargs):
        return 0


@admin.register(LevelPolicy)
class LevelPolicyAdmin(admin.ModelAdmin):
    """The level thresholds and commissions, as policies that take effect on a date. A policy in effect
    is history (bookings froze its commissions): it is read-only; a change is a new policy."""

    form = LevelPolicyForm
    inlines = [LevelRuleInline]
    list_display = ("effective_from", "in_effect", "note", "created_by", "created_at")
    readonly_fields = ("created_by", "created_at")

    @admin.display(description=_("in effect"), boolean=True)
    def in_effect(self, policy: LevelPolicy) -> bool:
        current = levels.policy_in_effect()
        return current is not None and current.pk == policy.pk

    def get_changeform_initial_data(self, request):
        """A new policy starts as a copy of the one in effect, from tomorrow."""
        return {"effective_from": levels.today_wib() + timedelta(days=1)}

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if obj is None and request.method == "GET":
            current = levels.rules_by_rank(levels.policy_in_effect())
            kwargs["initial"] = [
                {field: getattr(rule, field) for field in LevelRuleForm.Meta.fields} for rule in current
            ] or [{"level": level} for level in Level.values]
        return kwargs

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or levels.policy_editable(obj))

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or levels.policy_editable(obj))

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(LevelChange)
class LevelChangeAdmin(RecordAdminMixin, admin.ModelAdmin):
    """The level history: read-only (the job and the staff override write it)."""

    list_display = ("profile", "kind", "from_level", "to_level", "reason", "created_at", "created_by")
    list_filter = ("kind", "to_level")
    search_fields = ("profile__slug", "profile__display_name")
    list_select_related = ("profile", "created_by")
    readonly_fields = ("profile", "kind", "from_level", "to_level", "reason", "figures", "created_at", "created_by")


class LevelStandingForm(ModelForm):
    set_level = forms.ChoiceField(
        label=_("Set the level by hand"),
        choices=[("", "—"), *Level.choices],
        required=False,
        help_text=_("The daily job then leaves the level alone until the override is lifted."),
    )
    lift_override = forms.BooleanField(label=_("Lift the override"), required=False)
    reason = forms.CharField(
        label=_("Reason (recorded in the level history)"), max_length=300, required=False, min_length=10
    )

    class Meta:
        model = LevelStanding
        fields = ()

    def clean(self):
        data = super().clean()
        if data.get("set_level") and data.get("lift_override"):
            raise forms.ValidationError(_("Set a level or lift the override, not both."))
        if (data.get("set_level") or data.get("lift_override")) and not data.get("reason"):
            self.add_error("reason", _("Say why: the reason is recorded with the change."))
        if data.get("lift_override") and not self.instance.overridden:
            self.add_error("lift_override", _("There is no override to lift."))
        return data


@admin.register(LevelStanding)
class LevelStandingAdmin(admin.ModelAdmin):
    """Each companion's figures as the daily job saw them, an announced demotion, and the staff override."""

    form = LevelStandingForm
    list_display = ("profile", "level", "computed_on", "completed", "customers", "demotion_on", "overridden")
    list_filter = (
        "profile__level",
        ("demotion_on", admin.EmptyFieldListFilter),
        ("override_reason", admin.EmptyFieldListFilter),
    )
    search_fields = ("profile__slug", "profile__display_name")
    list_select_related = ("profile",)
    readonly_fields = (
        "profile",
        "level",
        "computed_on",
        "completed",
        "customers",
        "cancellation_rate",
        "recent_subtotal",
        "warned_on",
        "demotion_on",
        "demotion_to",
        "override_reason",
    )
    fields = (*readonly_fields, "set_level", "lift_override", "reason")

    @admin.display(description=_("level"), ordering="profile__level")
    def level(self, standing: LevelStanding) -> str:
        return standing.profile.get_level_display()

    @admin.display(description=_("overridden"), boolean=True)
    def overridden(self, standing: LevelStanding) -> bool:
        return standing.overridden

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def message_user(self, request, message, level=messages.INFO, *args, **kwargs):
        if getattr(request, "level_busy", False) and level == messages.SUCCESS:
            return  # the override did not happen: only the error is shown
        super().message_user(request, message, level, *args, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            if data.get("set_level"):
                levels.level_override(
                    profile_id=obj.pk, level=data["set_level"], reason=data["reason"], by=request.user
                )
            elif data.get("lift_override"):
                levels.level_override_lift(profile_id=obj.pk, reason=data["reason"], by=request.user)
        except LockBusy:
            request.level_busy = True
            messages.error(
                request,
                _("The daily level job is updating this companion right now: nothing changed. Try again in a moment."),
            )


@admin.register(IdentityFileView)
class IdentityFileViewAdmin(RecordAdminMixin, admin.ModelAdmin):
    """Who opened which KTP or selfie image and when: written by the file view, never edited."""

    list_display = ("viewed_at", "kind", "verification", "viewer")
    list_filter = ("kind",)
    list_select_related = ("viewer", "verification")
    date_hierarchy = "viewed_at"
    raw_id_fields = ("verification", "viewer")
