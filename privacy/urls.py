from django.urls import path

from privacy import export_views, views

app_name = "privacy"

urlpatterns = [
    # The privacy centre and account deletion.
    path("accounts/privacy/", views.centre, name="centre"),
    path("accounts/privacy/delete/", views.delete_account, name="delete"),
    path("accounts/privacy/deleted/", views.deleted, name="deleted"),
    # Export my data (privacy/export.py): asked from the centre; the download is signed and the person's own.
    path("accounts/privacy/export/", export_views.export_request, name="export_request"),
    path("privacy/export/<str:token>/", export_views.export_download, name="export_download"),
]
