"""The page frame's components (base.html: the menu, the bell, the language switch) written once per
process for what they depend on, then filled in per request.

`{% frame "components/nav_menu.html" %}` writes what `{% include "components/nav_menu.html" %}` writes.
The component is rendered once per language, kind of user (signed in, role, staff), current view, and
the values passed to the tag, with markers in place of what differs per request (the user's name and
email, the CSRF token, the page's path); each request then puts its own values, escaped as the template
would, in place of the markers. The templates stay the only description of the HTML
(tests/core/test_frame.py compares both ways of writing them).

A component may read only what is faked here: `user` (is_authenticated, role, get_role_display, is_staff,
get_full_name, get_short_name, email), `request` (resolver_match.view_name, get_full_path), `csrf_token`
and the tag's own arguments. Reading anything else of `user` or `request` raises FrameFieldUnknown (the
page fails in every test that shows it) instead of rendering an empty string.
"""

import re
from functools import lru_cache
from types import SimpleNamespace

from django import template
from django.conf import settings
from django.template.loader import get_template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

register = template.Library()

_MARK = "\x00{}\x00"
_MARKS = re.compile("\x00(full_name|short_name|email|csrf|path)\x00")


class FrameFieldUnknown(Exception):
    """A frame component read an attribute the tag does not provide (not AttributeError: Django's
    templates would swallow that and render an empty string)."""


class _Fake(SimpleNamespace):
    def __getattr__(self, name):  # only for attributes not set
        if name.startswith("_") or name in ("do_not_call_in_templates", "alters_data"):
            raise AttributeError(name)  # Django's and Python's own probes
        raise FrameFieldUnknown(f"{name!r} is not available to {{% frame %}} components: add it in {__name__}")


def _view_name(request) -> str:
    match = getattr(request, "resolver_match", None)
    return (match.view_name if match is not None else "") or ""


def _skeleton(name: str, language: str, user_key: tuple, view_name: str, csrf: bool, options: tuple) -> str:
    authenticated, role, role_display, is_staff = user_key
    user = _Fake(
        is_authenticated=authenticated,
        role=role,
        get_role_display=lambda: role_display,
        is_staff=is_staff,
        get_full_name=lambda: _MARK.format("full_name"),
        get_short_name=lambda: _MARK.format("short_name"),
        email=_MARK.format("email"),
    )
    request = _Fake(resolver_match=_Fake(view_name=view_name), get_full_path=lambda: _MARK.format("path"))
    context = {"user": user, "request": request, **dict(options)}
    if csrf:
        context["csrf_token"] = _MARK.format("csrf")
    return get_template(name).render(context)


_cached_skeleton = lru_cache(maxsize=2048)(_skeleton)


@register.simple_tag(takes_context=True)
def frame(context, name: str, **options):
    request = context.get("request")
    user = context.get("user")
    authenticated = bool(getattr(user, "is_authenticated", False))
    if authenticated:
        user_key = (True, user.role, user.get_role_display(), bool(user.is_staff))
        email = user.email
        values = {"full_name": user.get_full_name() or email, "short_name": user.get_short_name() or email}
        values["email"] = email
    else:
        user_key = (False, "", "", False)
        values = {}
    for count in ("unread_notifications", "unread_messages"):  # the header's lazy counts, read here once
        if count in options:
            options[count] = (options[count] or 0) + 0
    token = context.get("csrf_token")
    csrf = bool(token) and token != "NOTPROVIDED"  # noqa: S105 (what {% csrf_token %} skips)
    if csrf:
        values["csrf"] = str(token)
    values["path"] = request.get_full_path() if request is not None else ""
    render = _skeleton if settings.DEBUG else _cached_skeleton  # DEBUG: templates may change on disk
    skeleton = render(name, get_language(), user_key, _view_name(request), csrf, tuple(sorted(options.items())))
    return mark_safe(_MARKS.sub(lambda m: conditional_escape(values.get(m[1], "")), skeleton))  # noqa: S308
