from django.urls import path

from safety import meeting_views, report_views

app_name = "safety"

urlpatterns: list = [
    # Safety at meetings (safety/meeting.py, contacts.py, welfare.py): the booking's two parties only.
    path("bookings/<str:reference>/check-in/", meeting_views.check_in, name="check_in"),
    path("bookings/<str:reference>/end-meeting/", meeting_views.end, name="end_meeting"),
    path("bookings/<str:reference>/im-fine/", meeting_views.fine, name="fine"),
    path("bookings/<str:reference>/sos/", meeting_views.sos, name="sos"),
    path("bookings/<str:reference>/share/", meeting_views.share, name="share"),
    path("account/trusted-contact/", meeting_views.contact_settings, name="contact"),
    # A trusted contact's view of a shared meeting: no login, the token is the permission.
    path("shared/<str:token>/", meeting_views.shared, name="shared"),
    # Report a person (safety/reports.py): a listed companion's profile, or the other party of a booking.
    path("c/<slug:slug>/report/", report_views.report_profile, name="report_profile"),
    path("bookings/<str:reference>/report/", report_views.report_booking, name="report_booking"),
]
