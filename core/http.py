"""Untrusted request bodies, read within a bound and parsed without surprises.

Every endpoint that reads a raw body (the Midtrans and Twilio webhooks) goes through `limit_body`:
it refuses by the declared Content-Length before reading a byte, and then reads at most one byte past
the limit, so a missing or lying Content-Length (a chunked body, or one longer than it says) cannot
make us read more. `parse_json` turns every way a JSON body can go wrong (not UTF-8, not JSON, nested
deeper than any real notification, RecursionError, MemoryError) into one `MalformedBody`.
"""

import json
import re
from collections.abc import Callable
from functools import wraps
from io import BytesIO
from typing import Any

from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse, JsonResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError

# Real provider notifications nest two or three levels; anything deeper is not one of them.
MAX_JSON_DEPTH = 32

_JSON_TOKEN = re.compile(r'["\[\]{}]')
# The rest of a string after its opening quote (possessive: never backtracks, so linear in the body).
_JSON_STRING_REST = re.compile(r'(?:[^"\\]|\\.)*+"', re.DOTALL)


class MalformedBody(ValueError):
    """The body cannot be what the endpoint expects; the message is for logs, not for users."""


class BodyTooLarge(Exception):
    """The body is (or says it is) larger than the endpoint accepts."""


def declared_length(request: HttpRequest) -> int | None:
    """The Content-Length the client declared, or None when it sent none (or nonsense)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    return length if length >= 0 else None


def read_body(request: HttpRequest, *, max_bytes: int) -> bytes:
    """The body, read once and at most max_bytes + 1 bytes of it; afterwards `request.body` and
    `request.POST` work as usual. Raises BodyTooLarge (by Content-Length, before reading anything, or by
    what was read) and MalformedBody when the client went away mid-body."""
    length = declared_length(request)
    if length is not None and length > max_bytes:
        raise BodyTooLarge
    try:
        data = request.read(max_bytes + 1)
    except UnreadablePostError as error:
        raise MalformedBody("the body could not be read") from error
    if len(data) > max_bytes:
        raise BodyTooLarge
    # Django keeps the body it has read in these two attributes (HttpRequest.body does the same):
    # setting them lets request.body and request.POST parse what we read instead of the spent stream.
    request._body = data
    request._stream = BytesIO(data)
    return data


def too_large_json() -> HttpResponse:
    return JsonResponse({"status": "error", "reason": "too large"}, status=413)


def too_large_text() -> HttpResponse:
    return HttpResponse("Request body too large.", status=413, content_type="text/plain; charset=utf-8")


def limit_body(max_bytes: int, *, refuse: Callable[[], HttpResponse] = too_large_text):
    """View decorator: the body is read here, within max_bytes (see read_body); a larger one gets
    `refuse()` (413), an unreadable one 400. Put it under csrf_exempt/require_POST."""

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            try:
                read_body(request, max_bytes=max_bytes)
            except BodyTooLarge:
                return refuse()
            except MalformedBody:
                return HttpResponse("Request body unreadable.", status=400, content_type="text/plain; charset=utf-8")
            return view(request, *args, **kwargs)

        wrapped.max_body_bytes = max_bytes  # RequestSizeLimitMiddleware leaves the refusal to this view
        return wrapped

    return decorator


def _too_deep(text: str, max_depth: int) -> bool:
    """Whether brackets outside strings nest deeper than max_depth: one pass, no recursion, linear
    even for hostile input (so json.loads never meets a depth that would exhaust the stack)."""
    depth = 0
    position = 0
    while token := _JSON_TOKEN.search(text, position):
        position = token.end()
        if token.group() == '"':
            rest = _JSON_STRING_REST.match(text, position)
            if rest is None:  # an unterminated string: json.loads refuses it at once
                return False
            position = rest.end()
        elif token.group() in "[{":
            depth += 1
            if depth > max_depth:
                return True
        else:
            depth -= 1
    return False


def parse_json(data: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> tuple[Any, str]:
    """(the parsed value, the body as text). JSON is UTF-8 (RFC 8259): any other bytes are refused,
    as is nesting deeper than max_depth. Raises MalformedBody, never anything else."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedBody("not UTF-8") from None
    if _too_deep(text, max_depth):
        raise MalformedBody("nested too deeply")
    try:
        return json.loads(text), text
    except (ValueError, RecursionError, MemoryError) as error:  # ValueError includes JSONDecodeError
        raise MalformedBody(f"not JSON: {type(error).__name__}") from None


class RefuseInterruptedUploads(FileUploadHandler):
    """Last in FILE_UPLOAD_HANDLERS. Django's multipart parser, when a body ends inside a file (a
    truncated upload, a connection cut mid-file), drops that file silently and lets the view run as if
    none was sent. This handler turns that into MultiPartParserError, which Django answers with its
    400 page, so a half-sent upload is never mistaken for a form sent without a file. The handlers
    before it (memory, temporary file) have already cleaned up their part when this one is told."""

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        return raw_data  # only listens: the chunk goes on untouched

    def file_complete(self, file_size: int) -> None:
        return None

    def upload_interrupted(self) -> None:
        raise MultiPartParserError("The request body ended in the middle of an uploaded file.")
