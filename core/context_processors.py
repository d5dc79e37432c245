from django.conf import settings


def site(request):
    return {
        "SITE_NAME": "Kompanion",
        "TERMS_VERSION": settings.TERMS_VERSION,
        "PRIVACY_VERSION": settings.PRIVACY_VERSION,
    }
