"""What a real Celery worker (started by a test) reports about the tasks of one name, through the
task_success / task_failure signals (fired in the worker thread once a task has returned, i.e. after
its writes committed), so no result backend is needed and a failure shows its exception."""

import threading

from celery.signals import task_failure, task_success


class Outcomes:
    """`done` is set once `expected` tasks of `task_name` finished (successfully or not)."""

    def __init__(self, task_name: str, *, expected: int = 1):
        self.task_name = task_name
        self.expected = expected
        self.results: list = []
        self.errors: list = []
        self.done = threading.Event()
        self._lock = threading.Lock()

    def __enter__(self):
        task_success.connect(self.on_success, weak=False)
        task_failure.connect(self.on_failure, weak=False)
        return self

    def __exit__(self, *exc):
        task_success.disconnect(self.on_success)
        task_failure.disconnect(self.on_failure)

    def _count(self, bucket: list, value) -> None:
        with self._lock:
            bucket.append(value)
            if len(self.results) + len(self.errors) >= self.expected:
                self.done.set()

    def on_success(self, sender=None, result=None, **kwargs):
        if sender.name == self.task_name:
            self._count(self.results, result)

    def on_failure(self, sender=None, exception=None, **kwargs):
        if sender.name == self.task_name:
            self._count(self.errors, exception)
