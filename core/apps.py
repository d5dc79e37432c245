from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CoreConfig(AppConfig):
    default = True
    name = "core"
    verbose_name = "Core"


class KompanionAdminConfig(admin_apps.AdminConfig):
    """Django admin with our site: staff only, and only after two-factor login."""

    default = False
    default_site = "core.admin_site.KompanionAdminSite"
