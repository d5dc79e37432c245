from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from accounts.views import SignupView
from config import metrics
from core import views as core_views
from web import views as web_views

urlpatterns = [
    path("", web_views.home, name="home"),
    path("terms/", web_views.terms, name="terms"),
    path("privacy/", web_views.privacy, name="privacy"),
    path("i18n/setlang/", web_views.set_language, name="set_language"),
    # No trailing slash and no redirect: probes must get the answer itself.
    path("healthz", core_views.healthz, name="healthz"),
    # Prometheus' scrape (issue 19): a bearer token or an internal network, else 404 (config/metrics.py).
    path("metrics", metrics.metrics, name="metrics"),
    path("accounts/", include("accounts.urls")),
    # Same path and name as allauth's own sign-up, declared first so ours (with ?role=) serves it.
    path("accounts/signup/", SignupView.as_view(), name="account_signup"),
    path("accounts/", include("allauth.urls")),
    path("", include("companions.urls")),
    path("", include("payments.urls")),
    path("", include("notifications.urls")),
    path("", include("reviews.urls")),
    path("", include("chat.urls")),
    path("", include("safety.urls")),
    path("", include("privacy.urls")),
    path("", include("promotions.urls")),
    path("", include("bookings.urls")),
    path(f"{settings.ADMIN_URL}analytics/", include("analytics.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
