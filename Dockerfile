# syntax=docker/dockerfile:1.7
# Kompanion production image: one image for web (gunicorn), worker and beat (Celery); docker-compose.yml
# picks the command. Build: docker build -t kompanion .

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: resolve dependencies from uv.lock into /app/.venv -----------------------------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python \
    UV_PROJECT_ENVIRONMENT=/app/.venv

RUN pip install uv==0.13.9

WORKDIR /app
# Only the lock files: this layer is rebuilt when dependencies change, not on every source edit.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev

# --- runtime: no uv, no pip cache, no build tools ------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/app/.venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=config.settings.prod \
    WEB_CONCURRENCY=2

RUN groupadd --system --gid 10001 kompanion \
    && useradd --system --uid 10001 --gid kompanion --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin kompanion

WORKDIR /app
COPY --from=build /app/.venv /app/.venv
# Source owned by root: the app user can read it but not change it.
COPY . .

# Compiled translations and hashed static files are part of the image. Production settings refuse to
# load without their secrets, so this one RUN line gets throwaway values; they are not kept in any ENV
# and nothing here connects to a database or Redis. The two directories created last are the only
# writable places: uploaded media and the beat schedule (volumes in docker-compose.yml).
RUN SECRET_KEY=build-time-only-throwaway-key-not-used-at-runtime-0123456789abcdef \
    ALLOWED_HOSTS=build.invalid \
    DATABASE_URL=postgres://build:build@build.invalid:5432/build \
    REDIS_URL=redis://build.invalid:6379/0 \
    FIELD_ENCRYPTION_KEYS=YnVpbGQtdGltZS1vbmx5LWZlcm5ldC1rZXktMzJieXQ= \
    FIELD_FINGERPRINT_KEY=build-time-only-throwaway \
    TRUSTED_PROXY_COUNT=1 \
    MIDTRANS_SERVER_KEY=build-time-only-throwaway \
    TWILIO_ACCOUNT_SID=build-time-only-throwaway \
    TWILIO_AUTH_TOKEN=build-time-only-throwaway \
    TWILIO_WHATSAPP_FROM=+6200000000 \
    SITE_URL=https://build.invalid \
    sh -c 'python manage.py compiletranslations && python manage.py collectstatic --noinput' \
    && mkdir -p /app/media /var/lib/kompanion/beat \
    && chown -R kompanion:kompanion /app/media /var/lib/kompanion

# Probe for the web container. Django rejects a Host header outside ALLOWED_HOSTS (400), so the probe
# sends the first allowed host; /healthz is exempt from the HTTPS redirect and answers 503 when the
# database, cache or broker is down, which urllib turns into an exception (non-zero exit).
COPY --chmod=0755 <<'EOF' /usr/local/bin/kompanion-healthcheck
#!/usr/local/bin/python
import os
import sys
import urllib.request

hosts = [host.strip() for host in os.environ.get("ALLOWED_HOSTS", "").split(",") if host.strip()]
host = hosts[0].lstrip(".") if hosts else "localhost"
if host == "*":
    host = "localhost"
request = urllib.request.Request(
    "http://127.0.0.1:8000/healthz",
    headers={"Host": host, "X-Forwarded-Proto": "https"},
)
try:
    with urllib.request.urlopen(request, timeout=5) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception as error:
    print(f"unhealthy: {error}", file=sys.stderr)
    sys.exit(1)
EOF

USER 10001:10001
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/kompanion-healthcheck"]

# gthread: WEB_CONCURRENCY processes (gunicorn reads it; default 2) x 4 threads each. Sized by measurement
# (issue 11; `make bench` scenario "contention", 2 cores): the threads mostly wait on PostgreSQL, and a
# wait for a row lock ends after LOCK_TIMEOUT_MS (300 ms), so 4 suffice; 8 served no page faster and
# stretched each booking's hold on a companion's row (more "try again" in a burst). Each thread keeps one
# database connection (CONN_MAX_AGE 60): 2 x 4 = 8 per web container, plus the Celery worker's 2, beat's
# 1 and a one-off shell or migrate, about 12 of PostgreSQL's default max_connections of 100. Scale web
# replicas (8 each) or --threads below with that sum in mind (the command line wins over GUNICORN_CMD_ARGS).
# The timeout is above the slowest expected request; the worker heartbeat lives in /dev/shm (tmpfs) so it
# never stalls on a slow overlay filesystem. max-requests recycles workers to bound slow memory growth. Access log
# goes to stdout, errors to stderr, through a logger that redacts the calendar-feed token from paths
# (core/redaction.py). No control socket: nothing in the container uses it and HOME is not writable.
# config/gunicorn.py: Prometheus' multi-process mode (PROMETHEUS_MULTIPROC_DIR on /dev/shm, emptied at start,
# an exited worker's files marked dead), so /metrics adds up every worker's figures.
CMD ["gunicorn", "config.wsgi:application", \
     "--config", "config/gunicorn.py", \
     "--bind", "0.0.0.0:8000", \
     "--worker-class", "gthread", \
     "--threads", "4", \
     "--timeout", "30", \
     "--graceful-timeout", "25", \
     "--keep-alive", "5", \
     "--max-requests", "1000", \
     "--max-requests-jitter", "100", \
     "--worker-tmp-dir", "/dev/shm", \
     "--no-control-socket", \
     "--access-logfile", "-", \
     "--logger-class", "core.redaction.RedactingGunicornLogger", \
     "--error-logfile", "-"]
