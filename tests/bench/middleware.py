"""Bench-only middleware (config/settings/bench.py puts it first): server-side time and SQL query count
per request, returned as response headers so the load generator can read them without log parsing."""

import time

from django.db import connection


class ServerTimingMiddleware:
    """Adds `Server-Timing: app;dur=<ms>` and `X-Query-Count: <n>` to every response.

    Outermost middleware, so the time covers all other middleware, the view and template rendering
    (TemplateResponse is rendered inside get_response); it excludes only WSGI I/O in gunicorn.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        queries = 0

        def count_query(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        # The wrapper is installed on this thread's connection only (gthread workers serve several
        # requests at once, each with its own connection), so counts never mix between requests.
        with connection.execute_wrapper(count_query):
            response = self.get_response(request)
        elapsed_ms = (time.perf_counter() - started) * 1000
        response["Server-Timing"] = f"app;dur={elapsed_ms:.2f}"
        response["X-Query-Count"] = str(queries)
        return response
