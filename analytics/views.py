"""The staff analytics dashboard (issue 18), in the admin's look. Served through admin_site.admin_view
(staff only, others go to the admin's login); staff without analytics.view_dashboard get 403."""

from datetime import date, timedelta

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics.csv_export import csv_response, suppress
from analytics.finance import monthly_statement
from analytics.forms import DashboardFilterForm, default_range
from analytics.people import PEOPLE_EXPORTS, people_csv, people_figures
from analytics.quality import QUALITY_EXPORTS, quality_csv, quality_figures
from analytics.selectors import Period, cached_figures, dashboard_figures, is_small, paid_requests, share
from analytics.traffic import heatmap_csv, traffic_figures
from core.replica import reads_from_replica

STEP_LABELS = {
    "searches": gettext_lazy("Searches"),
    "profile_views": gettext_lazy("Profile views"),
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


EXPORTS = ("daily", "funnel", "losses", "heatmap", *PEOPLE_EXPORTS, *QUALITY_EXPORTS)


def _full_funnel(figures: dict, traffic: dict, traffic_before: dict) -> list[dict]:
    """search → profile view → request → accepted → paid → completed. Profile views are of no activity: with
    an activity filter that step is left out (requests then follow searches)."""
    first = [{"name": "searches", "count": traffic["searches"], "before": traffic_before["searches"]}]
    if traffic["profile_views"] is not None:
        first.append(
            {"name": "profile_views", "count": traffic["profile_views"], "before": traffic_before["profile_views"]}
        )
    steps, previous = [], None
    for step in first:
        count = step["count"]
        hidden = is_small(count) or (previous is not None and is_small(previous))
        steps.append(
            {
                **step,
                "small": is_small(count),
                "before_small": is_small(step["before"]),
                "conversion": None if previous is None or hidden else share(count, previous),
            }
        )
        previous = count
    requests = dict(figures["steps"][0])
    hidden = requests["small"] or is_small(previous)
    requests["conversion"] = None if hidden else share(requests["count"], previous)
    return steps + [requests] + figures["steps"][1:]


def _export(name: str, figures: dict, *, start, end, city, activity):
    """One chart's numbers as CSV (Excel-friendly; small cells stay "< 5"; text never becomes a formula)."""
    scope = [
        start.isoformat(),
        end.isoformat(),
        city.name if city else _("All cities"),
        str(activity) if activity else _("All activities"),
    ]
    header = [_("From"), _("To"), _("City"), _("Activity")]
    extra = None
    if name == "heatmap":
        extra = heatmap_csv(figures["traffic"])
    elif name in PEOPLE_EXPORTS:
        extra = people_csv(figures["people"], name)
    elif name in QUALITY_EXPORTS:
        extra = quality_csv(figures["quality"], name)
    if extra is not None:
        extra_header, extra_rows = extra
        return csv_response(
            f"kompanion-{name}-{start}-{end}.csv", header + extra_header, [[*scope, *row] for row in extra_rows]
        )
    if name == "daily":
        header += [_("Day"), _("GMV"), _("Net revenue")]
        rows = [[*scope, row["day"], row["gmv"], row["net"]] for row in figures["daily"]]
    elif name == "funnel":
        header += [_("Step"), _("This period"), _("Period before")]
        rows = [
            [*scope, str(STEP_LABELS[step["name"]]), suppress(step["count"]), suppress(step["before"])]
            for step in figures["steps"]
        ]
    else:
        header += [_("Outcome"), _("This period")]
        rows = [[*scope, str(LOSS_LABELS[loss["name"]]), suppress(loss["count"])] for loss in figures["losses"]]
    return csv_response(f"kompanion-{name}-{start}-{end}.csv", header, rows)


def _chart_value(item: dict) -> int | None:
    """Suppressed cells are left out of the charts too (a gap, never the small number)."""
    return None if item["small"] else item["count"]


@reads_from_replica
def _compute_figures(period: Period, city, activity, today) -> dict:
    figures = dashboard_figures(period=period, city=city, activity=activity, today=today)
    traffic = traffic_figures(period=period, city=city, activity=activity, today=today)
    traffic_before = traffic_figures(period=period.before(), city=city, activity=activity, today=today)
    figures["traffic"] = traffic
    figures["steps"] = _full_funnel(figures, traffic, traffic_before)
    moment = timezone.now()
    figures["people"] = people_figures(period=period, today=today, now=moment)
    platform_paid = (
        figures["now"]["paid"] if city is None and activity is None else paid_requests(period=period, today=today)
    )
    figures["quality"] = quality_figures(period=period, paid_bookings=platform_paid, today=today, now=moment)
    return figures


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
    figures = cached_figures(
        lambda: _compute_figures(Period(start, end), city, activity, today),
        period=Period(start, end),
        city=city,
        activity=activity,
        today=today,
    )
    traffic, people, quality = figures["traffic"], figures["people"], figures["quality"]
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
    export = request.GET.get("export")
    if export in EXPORTS:
        return _export(export, figures, start=start, end=end, city=city, activity=activity)
    context = {
        **admin.site.each_context(request),
        "title": _("Analytics"),
        "today": today,
        "form": form,
        "figures": figures,
        "traffic": traffic,
        "people": people,
        "quality": quality,
        "charts": charts,
        "city": city,
        "activity": activity,
    }
    return TemplateResponse(request, "analytics/dashboard.html", context)


def _last_month(today):
    first = today.replace(day=1)
    previous = first - timedelta(days=1)
    return previous.year, previous.month


@reads_from_replica
def finance(request):
    """The monthly finance statement from the ledger (analytics/finance.py), with its check against the
    ledger's own sums: a mismatch is shown, never hidden. ?month=YYYY-MM (default: last month); &format=csv."""
    if not request.user.has_perm("analytics.view_dashboard"):
        raise PermissionDenied
    today = timezone.localdate()
    year, month = _last_month(today)
    message = ""
    asked = request.GET.get("month", "")
    if asked:
        try:
            chosen_year, chosen_month = (int(part) for part in asked.split("-", 1))
            chosen = date(chosen_year, chosen_month, 1)
        except ValueError:
            message = _("Choose a month as YYYY-MM. Showing last month instead.")
        else:
            if chosen > today.replace(day=1) or chosen.year < 2020:
                message = _("There is no statement for that month yet. Showing last month instead.")
            else:
                year, month = chosen.year, chosen.month
    statement = monthly_statement(year, month)
    labels = {
        "revenue_total": _("Revenue, total"),
        "refunds_sent": _("Refunds sent"),
        "companion_earnings": _("Companion earnings"),
        "payouts_paid": _("Payouts paid"),
        "escrow_at_month_end": _("Held in escrow at month end"),
        "deferred_at_month_end": _("Deferred revenue at month end"),
    }
    lines = [
        (labels.get(key) or _("Revenue: %(kind)s") % {"kind": key.removeprefix("revenue:")}, amount)
        for key, amount in statement.lines()
    ]
    if request.GET.get("format") == "csv":
        return csv_response(
            f"kompanion-finance-{year}-{month:02d}.csv",
            [_("Month"), _("Figure"), _("Rupiah")],
            [[f"{year}-{month:02d}", label, amount] for label, amount in lines],
        )
    context = {
        **admin.site.each_context(request),
        "title": _("Finance statement"),
        "statement": statement,
        "lines": lines,
        "month": f"{year}-{month:02d}",
        "message": message,
    }
    return TemplateResponse(request, "analytics/finance.html", context)
