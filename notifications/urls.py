from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("webhooks/twilio/status/", views.twilio_status, name="twilio_status"),
    path("webhooks/twilio/inbound/", views.twilio_inbound, name="twilio_inbound"),
    path("notifications/", views.notification_list, name="list"),
    path("notifications/read/", views.mark_read, name="mark_read"),
    path("notifications/<int:notification_id>/", views.open_notification, name="open"),
    path("dev/outbox/", views.outbox, name="outbox"),
    # Under /accounts/ where people look for it; a WhatsApp matter, so served by this app.
    path("accounts/phone/verify/", views.phone_verify, name="phone_verify"),
]
