"""Gunicorn's configuration file (the Dockerfile's CMD: --config config/gunicorn.py); the command line
still sets everything else and wins over this file.

Prometheus in multi-process mode (issue 19): each worker writes its figures to files in
PROMETHEUS_MULTIPROC_DIR and /metrics adds them up (core/metrics.py). The variable is set here, in the
master, before any worker imports prometheus_client (an operator's own value wins); the directory is
emptied when the master starts (the files of an earlier run would be counted forever), and a worker's files
are marked dead when it exits (max-requests recycles workers), so its live gauges stop counting while its
counters are kept.
"""

import os
from pathlib import Path

os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", "/dev/shm/kompanion-metrics")  # noqa: S108 - a tmpfs


def on_starting(server) -> None:
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for leftover in directory.glob("*.db"):
        leftover.unlink(missing_ok=True)


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
