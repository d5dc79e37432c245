from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.admin_site import WorkQueue, register_work_queue
from core.errors import add_error_to_form
from core.forms import ModelForm
from reviews import services
from reviews.errors import ReviewError
from reviews.models import STAR_FIELDS, Review, SafetyReport


class ReviewAdminForm(ModelForm):
    class Meta:
        model = Review
        fields = ("hidden_reason",)
        labels = {"hidden_reason": _("Hide with this reason")}
        help_texts = {
            "hidden_reason": _(
                "Filling this in hides the review: its stars leave the rating and the page says it was removed "
                "by Kompanion. A hidden review stays hidden."
            )
        }


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    """Reviews are written by the two parties only; staff read them all and hide one with a reason."""

    form = ReviewAdminForm
    list_display = ("booking", "direction", "overall", "author", "subject", "created_at", "published_at", "hidden_at")
    list_filter = ("direction", ("published_at", admin.EmptyFieldListFilter), ("hidden_at", admin.EmptyFieldListFilter))
    search_fields = ("booking__reference",)
    list_select_related = ("booking", "author", "subject")
    readonly_fields = (
        "booking",
        "direction",
        "author",
        "subject",
        "companion",
        *STAR_FIELDS,
        "text",
        "created_at",
        "window_closes_at",
        "published_at",
        "hidden_at",
        "hidden_by",
    )
    fields = (*readonly_fields, "hidden_reason")

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.hidden_at is not None:
            return (*self.readonly_fields, "hidden_reason")
        return self.readonly_fields

    def save_model(self, request, obj, form, change) -> None:
        reason = form.cleaned_data.get("hidden_reason", "")
        if not reason or not change:
            return  # nothing else is editable here
        try:
            services.review_hide(review_id=obj.pk, staff=request.user, reason=reason)
        except ReviewError as problem:
            add_error_to_form(form, problem)
            messages.error(request, problem.message)
        else:
            messages.success(request, _("The review is hidden."))


@admin.register(SafetyReport)
class SafetyReportAdmin(admin.ModelAdmin):
    """Confidential reports from low reviews: staff read them here only, note what they did and mark them
    handled."""

    list_display = ("review", "created_at", "handled_at", "handled_by")
    list_filter = (("handled_at", admin.EmptyFieldListFilter),)
    search_fields = ("review__booking__reference",)
    readonly_fields = ("review", "details", "created_at", "handled_at", "handled_by")
    fields = (*readonly_fields, "staff_note", "handled")
    list_select_related = ("review__booking", "handled_by")

    class Form(ModelForm):
        handled = forms.BooleanField(label=_("Handled"), required=False)

        class Meta:
            model = SafetyReport
            fields = ("staff_note",)

    form = Form

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        if form.cleaned_data.get("handled") and obj.handled_at is None:
            obj.handled_at, obj.handled_by = timezone.now(), request.user
        super().save_model(request, obj, form, change)


register_work_queue(
    WorkQueue(
        key="reviews.safety_reports",
        label=_("Safety reports from reviews"),
        rows=lambda: SafetyReport.objects.filter(handled_at__isnull=True),
        since_field="created_at",
        url_name="admin:reviews_safetyreport_changelist",
        url_query="handled_at__isempty=1",
        permission="reviews.view_safetyreport",
    )
)
