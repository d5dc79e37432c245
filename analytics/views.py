"""The staff analytics dashboard (issue 18), in the admin's look. Served through admin_site.admin_view
(staff only, others go to the admin's login); staff without analytics.view_dashboard get 403."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics.forms import DashboardFilterForm, default_range
from analytics.selectors import Period, dashboard_figures

STEP_LABELS = {
    "requests": gettext_lazy("Requests"),
    "accepted": gettext_lazy("Accepted"),
    "paid": gettext_lazy("Paid"),
    "completed": gettext_lazy("Completed"),
}
LOSS_LABELS = {
    "declined": gettext_lazy("Declined by the companion"),
    "unanswered": gettext_lazy("Not answered in time"),
    "unpaid": gettext_lazy("Not paid in time"),
    "cancelled_by_customer": gettext_lazy("Cancelled by the customer"),
    "cancelled_by_companion": gettext_lazy("Cancelled by the companion"),
    "withdrawn": gettext_lazy("Withdrawn by the customer"),
}


def _chart_value(item: dict) -> int | None:
    """Suppressed cells are left out of the charts too (a gap, never the small number)."""
    return None if item["small"] else item["count"]


def dashboard(request):
    if not request.user.has_perm("analytics.view_dashboard"):
        raise PermissionDenied
    today = timezone.localdate()
    start, end = default_range(today)
    form = DashboardFilterForm(request.GET or None, today=today, initial={"start": start, "end": end})
    city = activity = None
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        city, activity = form.cleaned_data["city"], form.cleaned_data["activity"]
    figures = dashboard_figures(period=Period(start, end), city=city, activity=activity)
    for step in figures["steps"]:
        step["label"] = str(STEP_LABELS[step["name"]])
    for loss in figures["losses"]:
        loss["label"] = str(LOSS_LABELS[loss["name"]])
    charts = {
        "money": {
            "type": "line",
            "labels": [row["day"].strftime("%d-%m") for row in figures["daily"]],
            "series": [
                {"label": _("GMV"), "data": [row["gmv"] for row in figures["daily"]]},
                {"label": _("Net revenue"), "data": [row["net"] for row in figures["daily"]]},
            ],
        },
        "funnel": {
            "type": "bar",
            "labels": [step["label"] for step in figures["steps"]],
            "series": [{"label": _("Bookings"), "data": [_chart_value(step) for step in figures["steps"]]}],
        },
        "losses": {
            "type": "bar",
            "labels": [loss["label"] for loss in figures["losses"]],
            "series": [{"label": _("Requests lost"), "data": [_chart_value(loss) for loss in figures["losses"]]}],
        },
    }
    context = {
        **admin.site.each_context(request),
        "title": _("Analytics"),
        "form": form,
        "figures": figures,
        "charts": charts,
        "city": city,
        "activity": activity,
    }
    return TemplateResponse(request, "analytics/dashboard.html", context)
