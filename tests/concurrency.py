"""Running things at the same moment on PostgreSQL, each in its own thread and so on its own database
connection (tests marked django_db(transaction=True), so the other threads see committed rows)."""

import threading
from collections.abc import Callable

from django.db import connections


def at_once(*actions: Callable[[], object], timeout: float = 30) -> list[BaseException]:
    """Starts every action together (a barrier) and waits for all; returns what they raised, so a test
    asserts on it. Each thread closes its own connections."""
    start = threading.Barrier(len(actions))
    errors: list[BaseException] = []

    def run(action: Callable[[], object]) -> None:
        try:
            start.wait(timeout=10)
            action()
        except Exception as error:  # noqa: BLE001 - any failure is the test's finding
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return errors
