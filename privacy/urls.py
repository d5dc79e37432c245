from django.urls import path

from privacy import views

app_name = "privacy"

urlpatterns = [
    # The privacy centre and account deletion.
    path("accounts/privacy/", views.centre, name="centre"),
    path("accounts/privacy/delete/", views.delete_account, name="delete"),
    path("accounts/privacy/deleted/", views.deleted, name="deleted"),
]
