"""A request id that follows a request through its log lines and into the Celery tasks it enqueues.

- `RequestIdMiddleware` (first in MIDDLEWARE) takes the proxy's X-Request-ID when it is a sane token (at most
  64 characters of letters, digits, ".", "_" and "-"), else makes one (uuid4 hex); it holds it in a context
  variable for the request and sends it back in the X-Request-ID response header.
- `RequestIdFilter` (on our log handlers) puts it on every record as `request_id` ("-" outside a request
  or task).
- Celery: `before_task_publish` copies the current id into the task message's headers; `task_prerun` sets it
  in the worker for the task's duration (a task published without one gets a fresh id of its own, so its
  lines still group together) and `task_postrun` restores what was there. An eager task (tests, `make run`)
  runs inside the caller and keeps the caller's id. Tasks sent after commit (core/after_commit.py) are
  published from the on_commit callback, which runs in the request's thread and context, so they carry it too.
  The signals are connected in config/celery.py.
"""

import logging
import re
import uuid
from contextvars import ContextVar, Token

HEADER = "X-Request-ID"
# The Celery message header that carries the id.
TASK_HEADER = "request_id"
_SANE = re.compile(r"[A-Za-z0-9._-]{1,64}")

_current: ContextVar[str | None] = ContextVar("request_id", default=None)
# Tokens to restore when a task ends, by task id (a worker thread runs one task at a time; eager tasks nest).
_task_tokens: dict[str, list[Token]] = {}


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return _current.get()


def accept_request_id(value: str | None) -> str:
    """`value` when it is a sane token, else a fresh id."""
    if value and _SANE.fullmatch(value):
        return value
    return new_request_id()


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = accept_request_id(request.headers.get(HEADER))
        request.request_id = request_id
        token = _current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (kept when the record already has one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = _current.get() or "-"
        return True


# --- Celery ----------------------------------------------------------------------------------------------


def add_request_id_to_task_headers(sender=None, headers=None, **kwargs) -> None:
    """before_task_publish: the publishing request's (or task's) id travels in the message headers."""
    request_id = _current.get()
    if request_id and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


def _task_request_id(task) -> str | None:
    request = getattr(task, "request", None)
    if request is None:
        return None
    value = getattr(request, TASK_HEADER, None)
    if not value:
        value = (getattr(request, "headers", None) or {}).get(TASK_HEADER)
    return value if isinstance(value, str) and _SANE.fullmatch(value) else None


def set_request_id_for_task(sender=None, task_id=None, task=None, **kwargs) -> None:
    """task_prerun: the id from the message; none given, an eager task keeps its caller's, others get a new one."""
    task = task or sender
    request_id = _task_request_id(task)
    if request_id is None:
        if getattr(getattr(task, "request", None), "is_eager", False) and _current.get():
            return
        request_id = new_request_id()
    _task_tokens.setdefault(task_id, []).append(_current.set(request_id))


def reset_request_id_after_task(sender=None, task_id=None, **kwargs) -> None:
    """task_postrun: what was current before the task (nothing, in a worker)."""
    tokens = _task_tokens.get(task_id)
    if not tokens:
        return
    token = tokens.pop()
    if not tokens:
        del _task_tokens[task_id]
    try:
        _current.reset(token)
    except ValueError:  # set in another context (cannot happen with Celery's pools; never fail a task for it)
        _current.set(None)


def connect_celery_signals() -> None:
    from celery.signals import before_task_publish, task_postrun, task_prerun

    before_task_publish.connect(add_request_id_to_task_headers, weak=False, dispatch_uid="kompanion-request-id")
    task_prerun.connect(set_request_id_for_task, weak=False, dispatch_uid="kompanion-request-id")
    task_postrun.connect(reset_request_id_after_task, weak=False, dispatch_uid="kompanion-request-id")
