"""The staff side of SOS and welfare alerts (mixed into the safety queue's admin, safety/report_admin.py):
open alerts first, SOS (priority 0) above welfare (1) above reports (2), oldest first; each alert's page shows
the booking, its two parties (with their phone numbers, for staff to call) and its safety timeline; an SOS or
welfare alert is marked handled on its page with a note, recording who and when (once: the note is read-only
afterwards, and a second staff member saving the same alert at the same time does not overwrite the first).
The queue's page also runs the welfare check on demand (the demo clock, as `manage.py welfare_check_now`)."""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from core.forms import Form, ModelForm
from safety.models import AlertKind, SafetyAlert, SafetyEvent
from safety.welfare import welfare_sweep


class WelfareNowForm(Form):
    minutes_ahead = forms.IntegerField(
        label=_("As if it were this many minutes from now"),
        min_value=0,
        max_value=24 * 60,
        initial=0,
        help_text=_("0 runs it now. For the demo: a meeting ending now is asked at 15 and escalated at 30."),
    )


class SafetyAlertForm(ModelForm):
    handled = forms.BooleanField(
        label=_("Mark handled"), required=False, help_text=_("Records you and the time. A note is required.")
    )

    class Meta:
        model = SafetyAlert
        fields = ["note"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("handled") and "note" in self.fields:  # no note field: handled already
            if self.instance.kind == AlertKind.REPORT:
                self.add_error("handled", _("A report's alert closes with the decision on the report."))
            elif not (cleaned.get("note") or "").strip():
                self.add_error("note", _("Say what you did before marking the alert handled."))
        return cleaned


class AlertHandlingMixin:
    """Put before admin.ModelAdmin on the SafetyAlert admin."""

    form = SafetyAlertForm
    alert_fields = ("parties", "safety_timeline")
    change_list_template = "admin/safety/safetyalert_change_list.html"

    def get_urls(self):
        run = self.admin_site.admin_view(self.welfare_now_view)
        return [path("welfare-check-now/", run, name="safety_safetyalert_welfare_now"), *super().get_urls()]

    def welfare_now_view(self, request):
        """The demo clock in the admin (as `manage.py welfare_check_now`): runs the welfare sweep now, or as if
        it were some minutes later."""
        if not request.user.has_perm("safety.change_safetyalert"):
            raise PermissionDenied
        form = WelfareNowForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            at = timezone.now() + timedelta(minutes=form.cleaned_data["minutes_ahead"])
            result = welfare_sweep(now=at)
            self.message_user(
                request,
                _("Welfare check run: %(asked)d asked, %(escalated)d escalated.") % result,
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:safety_safetyalert_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Run the welfare check now"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/safety/welfare_now.html", context, status=422 if form.errors else 200)

    def get_ordering(self, request):
        return (F("handled_at").asc(nulls_first=True), "priority", "created_at")

    def get_readonly_fields(self, request, obj=None):
        handled = ("note",) if obj is not None and obj.handled_at is not None else ()
        return (*super().get_readonly_fields(request, obj), *self.alert_fields, *handled)

    def get_fields(self, request, obj=None):
        readonly = [name for name in super().get_readonly_fields(request, obj) if name not in self.alert_fields]
        editable = ["note"] if obj is not None and obj.handled_at is not None else ["note", "handled"]
        return (*readonly, *self.alert_fields, *editable)

    @staticmethod
    def _person(user) -> str:
        return format_html("{} · {} · {}", user.get_full_name(), user.email, user.phone_display or "—")

    def parties(self, alert: SafetyAlert) -> str:
        booking = alert.booking
        if booking is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a><br>{}: {}<br>{}: {}<br>{}: {}',
            reverse("admin:bookings_booking_change", args=[booking.pk]),
            booking.reference,
            _("Customer"),
            self._person(booking.customer),
            _("Companion"),
            self._person(booking.companion.user),
            _("Meeting place"),
            booking.meeting_place,
        )

    parties.short_description = _("booking and parties")

    def safety_timeline(self, alert: SafetyAlert) -> str:
        if alert.booking_id is None:
            return "—"
        events = SafetyEvent.objects.filter(booking_id=alert.booking_id).select_related("actor")[:200]
        return format_html(
            "<ol>{}</ol>",
            format_html_join(
                "",
                "<li>{} · {} · {}</li>",
                ((event.created_at, event.get_kind_display(), event.actor or "—") for event in events),
            ),
        )

    safety_timeline.short_description = _("safety timeline")

    def save_model(self, request, obj, form, change) -> None:
        if "note" not in form.cleaned_data:
            return  # handled already: nothing here is editable
        note = form.cleaned_data["note"]
        if form.cleaned_data.get("handled"):
            # Once: only an open alert takes this handler and time.
            SafetyAlert.objects.filter(pk=obj.pk, handled_at__isnull=True).update(
                handled_at=timezone.now(), handled_by=request.user, note=note
            )
            obj.refresh_from_db()
            return
        SafetyAlert.objects.filter(pk=obj.pk).update(note=note)
        obj.note = note
