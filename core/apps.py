from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CoreConfig(AppConfig):
    default = True
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.apps import apps
        from django.db.models.signals import post_migrate

        from core.sites import sync_site

        # After the sites app's own migrations: its row follows SITE_URL (core has no models, so it
        # gets no post_migrate of its own).
        post_migrate.connect(sync_site, sender=apps.get_app_config("sites"), dispatch_uid="core.sync_site")


class KompanionAdminConfig(admin_apps.AdminConfig):
    """Django admin with our site: staff only, and only after two-factor login."""

    default = False
    default_site = "core.admin_site.KompanionAdminSite"
