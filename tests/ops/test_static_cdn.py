"""STATIC_CDN_URL (issue 19): one variable moves every {% static %} URL to a CDN, and the CDN's origin
joins the Content-Security-Policy so the pages may load from it. Settings are read once per process,
so each case runs in a fresh interpreter."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]

RENDER_STATIC = textwrap.dedent(
    """
    import json
    import environ

    environ.Env.read_env = staticmethod(lambda *args, **kwargs: None)  # a developer's .env stays out
    import django
    from django.conf import settings

    django.setup()
    from django.template import engines

    template = engines["django"].from_string("{% load static %}{% static 'css/app.css' %}")
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    print(json.dumps({
        "url": template.render({}),
        "csp": {name: directives[name] for name in ("script-src", "style-src", "font-src", "img-src")},
    }))
    """
)


def run_settings(**variables: str) -> subprocess.CompletedProcess:
    environment = {name: value for name, value in os.environ.items() if name != "STATIC_CDN_URL"}
    environment.update(DJANGO_SETTINGS_MODULE="config.settings.test", **variables)
    return subprocess.run(
        [sys.executable, "-c", RENDER_STATIC], cwd=BASE_DIR, env=environment, capture_output=True, text=True
    )


def test_without_the_variable_static_files_are_served_by_us():
    result = run_settings()
    assert result.returncode == 0, result.stderr
    rendered = json.loads(result.stdout)
    assert rendered["url"] == "/static/css/app.css"
    assert rendered["csp"]["script-src"] == ["'self'"]


def test_the_cdn_url_moves_static_urls_and_is_allowed_by_the_csp():
    result = run_settings(STATIC_CDN_URL="https://cdn.kompanion.test/static/")
    assert result.returncode == 0, result.stderr
    rendered = json.loads(result.stdout)
    assert rendered["url"] == "https://cdn.kompanion.test/static/css/app.css"
    for directive in ("script-src", "style-src", "font-src", "img-src"):
        assert "https://cdn.kompanion.test" in rendered["csp"][directive], directive


def test_a_cdn_url_without_the_trailing_slash_is_refused():
    result = run_settings(STATIC_CDN_URL="https://cdn.kompanion.test/static")
    assert result.returncode != 0
    assert "STATIC_CDN_URL" in result.stderr
