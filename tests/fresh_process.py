"""Run a few lines of Django in a fresh Python process: settings read the environment once, at import,
so a test of what a given environment makes of them starts Django from scratch."""

import json
import os
import subprocess
import sys

from django.conf import settings


def django_json(script: str, *, settings_module: str, drop: set[str], environment: dict[str, str]) -> dict:
    """Runs `script` (after django.setup()) with `settings_module`, the current environment minus `drop`
    plus `environment`; returns the JSON object the script printed last (logging may print before it)."""
    env = {key: value for key, value in os.environ.items() if key not in drop}
    env["DJANGO_SETTINGS_MODULE"] = settings_module
    env.update(environment)
    completed = subprocess.run(
        [sys.executable, "-c", "import json, django\ndjango.setup()\n" + script],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])
