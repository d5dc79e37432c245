"""Deployment files agree with the code: docker-compose.yml, Dockerfile, .dockerignore, .env.example, .ci/run.

Docker does not run here, so these tests check what a build or `docker compose up` would trip over:
a service without a health check, a Celery app or WSGI callable that does not import, a root container,
a settings variable nobody documented. Imports run in a child interpreter under the production settings
(the image's DJANGO_SETTINGS_MODULE), with the throwaway values the Dockerfile itself uses at build time.
"""

import json
import os
import re
import shlex
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

BASE_DIR = Path(__file__).resolve().parent.parent
COMPOSE_FILE = BASE_DIR / "docker-compose.yml"
DOCKERFILE = BASE_DIR / "Dockerfile"
ENV_EXAMPLE = BASE_DIR / ".env.example"

REQUIRED_SERVICES = ("web", "worker", "beat", "postgres", "redis")
APP_SERVICES = ("web", "worker", "beat")

# The child ignores a developer's local .env, as the image has none (.dockerignore).
CHILD_PRELUDE = textwrap.dedent(
    """
    import sys

    import environ

    environ.Env.read_env = staticmethod(lambda *args, **kwargs: None)
    """
)


# --- helpers --------------------------------------------------------------------------------------------


def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def services() -> dict:
    return compose()["services"]


def interpolate(value: str) -> str:
    """Compose's ${NAME}, ${NAME:-default}, ${NAME:?error} with sample values, as `docker compose` would."""

    def replace(match: re.Match) -> str:
        name, operator, argument = match.group(1), match.group(2), match.group(3)
        if operator in (":-", "-"):
            return argument
        return f"sample-{name.lower()}"

    return re.sub(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}", replace, value)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with comments dropped and continuation lines joined."""
    instructions: list[tuple[str, str]] = []
    logical = ""
    in_heredoc_until = None
    for line in DOCKERFILE.read_text().splitlines():
        if in_heredoc_until is not None:
            if line.strip() == in_heredoc_until:
                in_heredoc_until = None
            continue
        if not logical and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if logical and line.lstrip().startswith("#"):
            continue
        logical += line.rstrip()
        if logical.endswith("\\"):
            logical = logical[:-1] + " "
            continue
        keyword, _, arguments = logical.strip().partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        heredoc = re.search(r"<<-?'?\"?(\w+)", arguments)
        if heredoc:
            in_heredoc_until = heredoc.group(1)
        logical = ""
    return instructions


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(index for index, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def dockerfile_cmd() -> list[str]:
    commands = [arguments for keyword, arguments in final_stage() if keyword == "CMD"]
    assert commands, "the final stage has no CMD"
    return json.loads(commands[-1])


def build_time_environment() -> dict[str, str]:
    """The throwaway variables the Dockerfile passes to collectstatic, plus this process's PATH etc."""
    runs = [arguments for keyword, arguments in final_stage() if keyword == "RUN" and "collectstatic" in arguments]
    assert len(runs) == 1, "expected one RUN line with collectstatic in the final stage"
    assignments = dict(re.findall(r"\b([A-Z][A-Z0-9_]*)=(\S+)", runs[0].split("sh -c")[0]))
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in settings_variables() and name != "DJANGO_SETTINGS_MODULE"
    }
    environment.update(assignments)
    environment["DJANGO_SETTINGS_MODULE"] = image_environment()["DJANGO_SETTINGS_MODULE"]
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    return environment


def image_environment() -> dict[str, str]:
    environment: dict[str, str] = {}
    for keyword, arguments in final_stage():
        if keyword == "ENV":
            environment.update(dict(re.findall(r"([A-Z][A-Z0-9_]*)=(\S+)", arguments)))
    return environment


def run_child(code: str, environment: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CHILD_PRELUDE + textwrap.dedent(code), *arguments],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def command_words(value) -> list[str]:
    """A compose command or health-check test as a list of words."""
    if value is None:
        return []
    if isinstance(value, str):
        return shlex.split(value)
    words = list(value)
    if words and words[0] in ("CMD", "CMD-SHELL"):
        if words[0] == "CMD-SHELL":
            return shlex.split(" ".join(words[1:]))
        words = words[1:]
    return [str(word) for word in words]


def settings_variables() -> set[str]:
    """Every variable name read with env(...)/env.<cast>("NAME" ...) in config/settings/*.py."""
    pattern = re.compile(r"\benv(?:\.\w+)?\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']")
    names: set[str] = set()
    for path in sorted((BASE_DIR / "config" / "settings").glob("*.py")):
        names.update(pattern.findall(path.read_text()))
    return names


def documented_variables() -> set[str]:
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), flags=re.MULTILINE))


# --- docker-compose.yml ---------------------------------------------------------------------------------


def test_compose_uses_the_compose_spec_without_a_version_key():
    assert "version" not in compose()


@pytest.mark.parametrize("name", REQUIRED_SERVICES)
def test_compose_service_exists_with_a_health_check(name):
    service = services()[name]

    healthcheck = service.get("healthcheck")
    assert healthcheck, f"{name} has no healthcheck"
    assert not healthcheck.get("disable"), f"{name} disables its healthcheck"
    assert command_words(healthcheck["test"]), f"{name} has an empty healthcheck test"


def test_every_other_compose_service_is_probed_or_a_one_shot_job():
    """A service without a probe is only acceptable when it runs to completion before the app starts."""
    all_services = services()
    for name, service in all_services.items():
        healthcheck = service.get("healthcheck") or {}
        if healthcheck.get("test") and not healthcheck.get("disable"):
            continue
        assert service.get("restart") == "no", f"{name} has no healthcheck and is not a one-shot job"
        waiting = [
            other
            for other, definition in all_services.items()
            if (definition.get("depends_on") or {}).get(name, {}).get("condition") == "service_completed_successfully"
        ]
        assert waiting, f"nothing waits for the one-shot job {name} to complete"


def test_migrations_run_once_before_the_app_starts():
    all_services = services()
    migrators = [
        name
        for name, service in all_services.items()
        if {"manage.py", "migrate"} <= set(command_words(service.get("command")))
    ]
    assert len(migrators) == 1, migrators
    for name in APP_SERVICES:
        depends_on = all_services[name]["depends_on"]
        assert depends_on[migrators[0]]["condition"] == "service_completed_successfully", name
        assert depends_on["postgres"]["condition"] == "service_healthy", name
        assert depends_on["redis"]["condition"] == "service_healthy", name


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_run_production_settings_against_the_compose_backends(name):
    service = services()[name]
    environment = {name: interpolate(str(value)) for name, value in service["environment"].items()}

    assert service["env_file"] in (".env", [".env"])
    assert environment["DJANGO_SETTINGS_MODULE"] == "config.settings.prod"
    assert urlsplit(environment["DATABASE_URL"]).scheme in ("postgres", "postgresql")
    assert urlsplit(environment["DATABASE_URL"]).hostname == "postgres"
    assert urlsplit(environment["REDIS_URL"]).hostname == "redis"
    assert urlsplit(environment.get("CELERY_BROKER_URL", environment["REDIS_URL"])).hostname == "redis"


def test_postgres_and_redis_images_and_probes():
    all_services = services()
    assert all_services["postgres"]["image"].split(":")[1].startswith("16")
    assert "pg_isready" in command_words(all_services["postgres"]["healthcheck"]["test"])
    assert any("postgresql/data" in volume for volume in all_services["postgres"]["volumes"])
    assert all_services["redis"]["image"].split(":")[1].startswith("7")
    assert command_words(all_services["redis"]["healthcheck"]["test"])[:2] == ["redis-cli", "ping"]


def test_worker_and_beat_commands():
    all_services = services()
    worker = command_words(all_services["worker"]["command"])
    beat = command_words(all_services["beat"]["command"])

    assert worker[:4] == ["celery", "-A", "config", "worker"]
    assert beat[:4] == ["celery", "-A", "config", "beat"]
    # The image's working directory is root-owned; the schedule must live on a writable volume.
    schedule = next(word.split("=", 1)[1] for word in beat if word.startswith(("--schedule=", "-s=")))
    assert any(schedule.startswith(volume.split(":")[1] + "/") for volume in all_services["beat"]["volumes"])
    assert "inspect" in command_words(all_services["worker"]["healthcheck"]["test"])


def celery_app_names() -> set[str]:
    names: set[str] = set()
    for service in services().values():
        for words in (
            command_words(service.get("command")),
            command_words((service.get("healthcheck") or {}).get("test")),
        ):
            for index, word in enumerate(words):
                if word == "celery" and index + 2 < len(words) and words[index + 1] in ("-A", "--app"):
                    names.add(words[index + 2])
                if word == "celery" and index + 1 < len(words) and words[index + 1].startswith("--app="):
                    names.add(words[index + 1].split("=", 1)[1])
    return names


def test_every_celery_app_in_compose_resolves_and_knows_its_periodic_tasks():
    names = celery_app_names()
    assert names, "no `celery -A` found in docker-compose.yml"

    result = run_child(
        """
        import json

        from celery import Celery
        from celery.app.utils import find_app

        report = {}
        for name in sys.argv[1:]:
            # Exactly how `celery -A name` finds its app.
            app = find_app(name)
            app.loader.import_default_modules()
            report[name] = {
                "is_celery": isinstance(app, Celery),
                "unknown_periodic_tasks": sorted(
                    entry["task"] for entry in app.conf.beat_schedule.values() if entry["task"] not in app.tasks
                ),
            }
        print(json.dumps(report))
        """,
        build_time_environment(),
        *sorted(names),
    )

    assert result.returncode == 0, result.stderr
    for name, report in json.loads(result.stdout.splitlines()[-1]).items():
        assert report["is_celery"], f"`celery -A {name}` does not find a Celery app"
        assert report["unknown_periodic_tasks"] == [], f"beat schedules tasks no worker has: {report}"


# --- Dockerfile -----------------------------------------------------------------------------------------


def test_dockerfile_runs_gunicorn_with_an_importable_wsgi_application():
    command = dockerfile_cmd()
    assert command[0] == "gunicorn"
    target = next(word for word in command[1:] if not word.startswith("-") and ":" in word)
    assert "--bind" in command and command[command.index("--bind") + 1] == "0.0.0.0:8000"
    assert "--access-logfile" in command and command[command.index("--access-logfile") + 1] == "-"
    exposed = [arguments.split() for keyword, arguments in final_stage() if keyword == "EXPOSE"]
    assert ["8000"] in exposed
    # web in compose uses the image's CMD (or another gunicorn command for the same target).
    web_command = command_words(services()["web"].get("command"))
    assert not web_command or target in web_command

    module, attribute = target.split(":")
    result = run_child(
        """
        import importlib

        module = importlib.import_module(sys.argv[1])
        print(callable(getattr(module, sys.argv[2], None)))
        """,
        build_time_environment(),
        module,
        attribute,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "True", f"{target} is not a WSGI callable"


def test_dockerfile_final_stage_is_non_root_and_has_a_health_check():
    stage = final_stage()
    users = [arguments for keyword, arguments in stage if keyword == "USER"]
    assert users, "the final stage never switches away from root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    assert [keyword for keyword, _ in stage].index("USER") < [keyword for keyword, _ in stage].index("CMD")
    healthchecks = [arguments for keyword, arguments in stage if keyword == "HEALTHCHECK"]
    assert healthchecks and healthchecks[-1].upper() != "NONE"


def test_dockerfile_installs_from_the_lock_file_and_keeps_no_secrets():
    instructions = dockerfile_instructions()
    runs = " ".join(arguments for keyword, arguments in instructions if keyword == "RUN")
    assert "uv sync --frozen --no-dev" in runs
    assert "compiletranslations" in runs
    assert "collectstatic --noinput" in runs
    for keyword, arguments in instructions:
        if keyword in ("ENV", "ARG"):
            assert not re.search(r"SECRET|PASSWORD|TOKEN|DATABASE_URL", arguments), arguments
    assert image_environment()["DJANGO_SETTINGS_MODULE"] == "config.settings.prod"


def dockerfile_collectstatic_arguments() -> list[str]:
    runs = " ".join(arguments for keyword, arguments in final_stage() if keyword == "RUN")
    match = re.search(r"manage\.py collectstatic([^'&;]*)", runs)
    assert match, "the final stage never runs collectstatic"
    return shlex.split(match.group(1))


def test_build_time_management_commands_exist_and_collectstatic_succeeds(tmp_path):
    """The Dockerfile's build step, minus Docker: production static storage with its dummy environment."""
    arguments = dockerfile_collectstatic_arguments()
    assert "--noinput" in arguments

    result = run_child(
        """
        import django
        from django.conf import settings
        from django.core.management import call_command, get_commands

        django.setup()
        missing = {"compiletranslations", "collectstatic", "migrate"} - set(get_commands())
        if missing:
            sys.exit(f"missing management commands: {sorted(missing)}")
        settings.STATIC_ROOT = sys.argv[1]
        call_command("collectstatic", *sys.argv[2:], verbosity=0)
        """,
        build_time_environment(),
        str(tmp_path / "staticfiles"),
        *arguments,
    )

    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "staticfiles" / "staticfiles.json").read_text())
    assert "css/app.css" in manifest["paths"]


def test_dockerignore_keeps_local_state_out_of_the_image():
    patterns = {
        line.strip()
        for line in (BASE_DIR / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    # config/settings/base.py reads a local .env: a developer's file must never be baked in.
    assert {".env", ".venv", ".git", "node_modules", "media", "db.sqlite3*"} <= patterns
    assert "!.env" not in patterns


# --- .env.example ---------------------------------------------------------------------------------------


def test_env_example_documents_every_settings_variable():
    read = settings_variables()
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS"} <= read, "the regex no longer finds env reads"

    undocumented = read - documented_variables()
    assert not undocumented, f"add these to .env.example with a comment: {sorted(undocumented)}"


def test_env_example_documents_only_variables_something_reads():
    readers = "\n".join(path.read_text() for path in (COMPOSE_FILE, DOCKERFILE))
    stale = {
        name
        for name in documented_variables() - settings_variables()
        if not re.search(rf"\$\{{{name}\b|\b{name}=", readers)
    }
    assert not stale, f"documented in .env.example but read nowhere: {sorted(stale)}"


def test_env_example_variables_each_have_a_comment():
    lines = ENV_EXAMPLE.read_text().splitlines()
    for index, line in enumerate(lines):
        if re.match(r"[A-Z][A-Z0-9_]*=", line):
            assert index > 0 and lines[index - 1].startswith("#"), f"no comment above {line}"


# --- .ci/run --------------------------------------------------------------------------------------------


def test_ci_script_is_executable_strict_bash():
    script = BASE_DIR / ".ci" / "run"
    text = script.read_text()

    assert script.stat().st_mode & stat.S_IXUSR
    assert text.startswith("#!/usr/bin/env bash\n") or text.startswith("#!/bin/bash\n")
    assert "set -euo pipefail" in text
    assert "exec make test" in text
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True, check=False).returncode == 0
