"""The page frame's components written through {% frame %} (core.templatetags.frame: once per process for
a language, kind of user and view, then filled in) are what {% include %} writes for every request."""

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import resolve, reverse
from django.utils import translation

from tests.factories import CompanionFactory, CustomerFactory, StaffFactory

COMPONENTS = [
    ("components/site_header.html", "unread_notifications=unread_notifications"),
    ("components/site_footer.html", 'year="2026"'),
    ("components/nav_menu.html", ""),
    ("components/language_switch.html", "compact=True"),
    ("components/language_switch.html", 'compact=False labelledby="footer-language"'),
    ("components/notification_bell.html", "unread_notifications=unread_notifications"),
]
VIEWS = [
    "terms",
    "companions:search",
    "bookings:list",
    "bookings:requests",
    "companions:dashboard",
    "notifications:list",
]


def both_ways(request, name, options, extra=None):
    including = Template(f'{{% include "{name}" {"with " + options if options else ""} %}}')
    framing = Template(f'{{% load frame %}}{{% frame "{name}" {options} %}}')
    # One token for both (a page's token is one value; each RequestContext would mask its own).
    context = {"request": request, "user": request.user, "csrf_token": "t0ken&<1>", **(extra or {})}
    return including.render(Context(context)), framing.render(Context(context))


def users():
    return [
        AnonymousUser(),
        CustomerFactory(full_name='<b>Ann & "Co"</b>', email="ann+x@example.com"),
        CustomerFactory(full_name=""),
        CompanionFactory(),
        StaffFactory(),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["id", "en"])
def test_frame_writes_what_include_writes(language):
    with translation.override(language):
        for user in users():
            for view in VIEWS:
                path = reverse(view) + '?q=<x>&"y"'
                for name, options in COMPONENTS:
                    for count in (0, 1, 9, 12):
                        request = RequestFactory().get(path)
                        request.user = user
                        request.resolver_match = resolve(reverse(view))
                        included, framed = both_ways(request, name, options, {"unread_notifications": count})
                        assert framed == included, (user, view, name, options, count)
                        assert "\x00" not in framed


@pytest.mark.django_db
def test_frame_without_a_resolved_view_or_csrf_token():
    """A page without a resolved view (an error page) and a render without a CSRF token."""
    request = RequestFactory().get("/nowhere/")
    request.user = CustomerFactory()
    for name, options in COMPONENTS:
        included, framed = both_ways(request, name, options, {"unread_notifications": 3})
        assert framed == included
        included, framed = both_ways(request, name, options, {"unread_notifications": 3, "csrf_token": ""})
        assert framed == included


@pytest.mark.django_db
def test_the_signed_in_menu_shows_this_user_and_page(client):
    """Two users one after the other on one process: each page has its own name, email, path and token."""
    for user in (CustomerFactory(full_name="Ani <Putri>"), CompanionFactory(full_name="Budi & Co")):
        client.force_login(user)
        page = client.get(reverse("terms") + "?a=1&b=2").content.decode()
        assert f'<p class="truncate text-sm text-muted">{user.email}</p>' in page
        name = user.full_name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert f'<p class="truncate font-semibold">{name}</p>' in page
        assert '<input type="hidden" name="next" value="/terms/?a=1&amp;b=2">' in page
        token = client.cookies["csrftoken"].value
        assert page.count('name="csrfmiddlewaretoken" value="') == 4  # 2 language switches, menu switch, log out
        # Every token filled in (a masked token: 64 letters and digits), no marker left behind.
        tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]*)"', page)
        assert len(tokens) == 4 and all(re.fullmatch(r"[A-Za-z0-9]{64}", value) for value in tokens)
        assert "\x00" not in page
        assert token
        client.logout()


def test_a_component_reading_what_the_tag_does_not_provide_fails_loudly(settings, tmp_path):
    """Not an empty string in production: the page errors in every test that shows it."""
    from core.templatetags.frame import FrameFieldUnknown, _skeleton

    (tmp_path / "phone_header.html").write_text("<p>{{ user.phone }}</p>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    with pytest.raises(FrameFieldUnknown, match="'phone'"):
        _skeleton("phone_header.html", "id", (True, "customer", "Customer", False), "terms", False, ())
