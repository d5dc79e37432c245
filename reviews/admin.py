from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from core.errors import add_error_to_form
from core.forms import ModelForm
from reviews import services
from reviews.errors import ReviewError
from reviews.models import STAR_FIELDS, Review


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
