"""The django.contrib.sites row that allauth reads (its emails greet "Hello from <name>" and name the
domain): kept equal to SITE_URL and named Kompanion, after every `migrate`.

Without the sites framework allauth falls back to the request's host, so a sign-up email greeted from
"127.0.0.1:8101". SITE_URL is the one source: dev derives it from `make run HOST=... PORT=...`,
production sets it, and `migrate` (run by `make run` and by every deploy) writes it here.
"""

from urllib.parse import urlsplit

from django.conf import settings

SITE_NAME = "Kompanion"


def site_domain() -> str:
    """SITE_URL's host and port, e.g. "kompanion.id" or "127.0.0.1:8101"."""
    return urlsplit(settings.SITE_URL).netloc


def sync_site(*, using: str = "default", apps=None, **kwargs) -> None:
    """post_migrate receiver (sender: the sites app): create or update the row SITE_ID."""
    if apps is None:
        from django.apps import apps
    try:
        site_model = apps.get_model("sites", "Site")
    except LookupError:  # migrating backwards, before the sites table exists
        return
    site_model.objects.using(using).update_or_create(
        pk=settings.SITE_ID, defaults={"domain": site_domain(), "name": SITE_NAME}
    )
    from django.contrib.sites.models import SITE_CACHE

    SITE_CACHE.clear()
