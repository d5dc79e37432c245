from django.urls import path

from bookings import views

app_name = "bookings"

urlpatterns = [
    path("c/<slug:slug>/book/", views.new, name="new"),
    path("bookings/", views.booking_list, name="list"),
    path("bookings/<str:reference>/", views.detail, name="detail"),
    path("bookings/<str:reference>/accept/", views.accept, name="accept"),
    path("bookings/<str:reference>/decline/", views.decline, name="decline"),
    path("bookings/<str:reference>/withdraw/", views.withdraw, name="withdraw"),
    path("bookings/<str:reference>/cancel/", views.cancel, name="cancel"),
    path("bookings/<str:reference>/dispute/", views.dispute, name="dispute"),
    path("companion/requests/", views.requests_inbox, name="requests"),
    path("companion/calendar/", views.calendar, name="calendar"),
    path("companion/calendar/feed/", views.calendar_feed, name="calendar_feed"),
    path("companion/instant-booking/", views.instant_booking, name="instant_booking"),
    # The token is the only secret: no login, so a phone's calendar app can fetch it.
    path("calendar/<str:token>.ics", views.ics, name="ics"),
]
