from django.urls import re_path

from payments import views

app_name = "payments"

urlpatterns = [
    # With or without the trailing slash: Midtrans does not follow redirects, so none is ever sent.
    re_path(r"^webhooks/midtrans/?$", views.midtrans_notification, name="midtrans_notification"),
]
