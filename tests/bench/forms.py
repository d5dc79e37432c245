"""The booking request form, sent to gunicorn as a signed-in customer's browser sends it (promo.py and
contention.py): a new connection per request, as from many browsers; the session cookie; a CSRF secret of
our own in both the cookie and the form; the TLS proxy's headers (load.HEADERS); English as the browser's
language.
"""

import html
import http.client
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from tests.bench.load import HEADERS


@dataclass
class Posted:
    """The answer: `response` for its status and headers (its body already read into `page`), and the
    client's milliseconds from sending to the whole body. With catch_errors, a failed connection comes back
    as response None, the error, and the milliseconds until it failed."""

    response: http.client.HTTPResponse | None
    ms: float
    page: str = ""
    error: OSError | http.client.HTTPException | None = None


def post_booking_request(
    port: int,
    *,
    slug: str,
    session_key: str,
    start: str,
    meeting_place: str,
    note: str,
    promo_code: str | None = None,
    unescape: bool = False,
    catch_errors: bool = False,
) -> Posted:
    """POST /c/<slug>/book/: a 1-hour "hangout" from `start` (ISO) with the safety box ticked.

    promo_code: the form's promo_code field ("" sends it empty); None leaves the field out.
    unescape: the page with its HTML entities decoded, so that shown messages compare as plain text.
    catch_errors: a connection error (OSError, HTTPException) comes back in Posted instead of being raised.
    """
    from django.conf import settings

    csrf = secrets.token_hex(16)  # 32 characters: a CSRF secret Django accepts from the cookie and the form
    path = f"/c/{slug}/book/"
    fields = {
        "csrfmiddlewaretoken": csrf,
        "start": start,
        "hours": "1",
        "activity": "hangout",
        "meeting_place": meeting_place,
        "note": note,
    }
    if promo_code is not None:
        fields["promo_code"] = promo_code
    fields["safety"] = "on"
    body = urlencode(fields)
    headers = {
        **HEADERS,
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"{settings.SESSION_COOKIE_NAME}={session_key}; {settings.CSRF_COOKIE_NAME}={csrf}",
        "Referer": f"https://{HEADERS['Host']}{path}",
        "Accept-Language": "en",
    }
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    started = time.perf_counter()
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        page = response.read().decode(errors="replace")
        if unescape:
            page = html.unescape(page)
    except (OSError, http.client.HTTPException) as error:
        if not catch_errors:
            raise
        return Posted(None, (time.perf_counter() - started) * 1000, error=error)
    finally:
        connection.close()
    return Posted(response, (time.perf_counter() - started) * 1000, page)
