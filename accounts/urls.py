from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("settings/", views.account_settings, name="settings"),
    path("phone/", views.phone_change, name="phone_change"),
    path("consents/<slug:document>/", views.consent_change, name="consent_change"),
    path("blocked/<int:user_id>/unblock/", views.unblock, name="unblock"),
]
