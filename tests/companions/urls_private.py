"""Test-only URLs: the private-file view without depending on companions/urls.py.

The project's own URLs stay included because the error pages link to them (the 404 page reverses "home").
"""

from django.urls import include, path

from companions import private_files

urlpatterns = [
    path("test-private/verification/<int:pk>/<str:kind>/", private_files.identity_file, name="identity_file"),
    path("", include("config.urls")),
]
