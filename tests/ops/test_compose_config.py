"""docker-compose.yml and the files it mounts from ops/, validated without Docker.

`docker compose config` cannot run here (no Docker daemon or CLI on the test machines), and neither can
promtool or amtool (Go binaries, not packaged). So this test parses each file with PyYAML or json and
checks what those tools would catch and what matters to us:
- compose: images pinned, bind-mounted and referenced files present, every ${VAR} documented in
  .env.example, depends_on targets and conditions, volumes and secrets declared and used, a healthcheck on
  every long-running service that can have one, public ports only on nginx (80 and 443);
- Prometheus: scrape targets are compose services, the token file is the mounted secret, the rule file is
  the one mounted; every alert rule has the fields Alertmanager routes on, and every expression passes a
  small structural PromQL check (balanced brackets, quoted strings, known functions, valid range
  durations, label matchers) and names only metrics the app exposes (METRIC_NAMES below);
- Grafana: the dashboard parses, uses the provisioned data source, and each panel's expression passes the
  same check; each business gauge appears on it;
- Alertmanager: the template rendered by its own script with .env.example's values parses, and its
  routes name receivers that exist.
The nginx configuration is checked by a real nginx in tests/ops/test_nginx_config.py.
"""

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

BASE_DIR = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
ENV_EXAMPLE = (BASE_DIR / ".env.example").read_text()
OPS = BASE_DIR / "ops"

# --- The metrics the app exposes, as Prometheus stores them: the one list to edit when a name changes --------
# django-prometheus (counters gain "_total"; histograms are queried as _bucket, _sum and _count):
DJANGO_METRICS = {
    "django_http_requests_latency_seconds_by_view_method": "histogram",
    "django_http_requests_total_by_view_transport_method_total": "counter",
    "django_http_responses_total_by_status_view_method_total": "counter",
    "django_http_exceptions_total_by_type_total": "counter",
    "django_db_execute_total": "counter",
    "django_db_query_duration_seconds": "histogram",
    "django_cache_get_total": "counter",
    "django_cache_get_hits_total": "counter",
    "django_cache_get_misses_total": "counter",
}
# Ours (config/metrics.py, core/metrics.py):
KOMPANION_METRICS = {
    "kompanion_celery_tasks_total": "counter",  # {task, event}: sent, started, succeeded, failed, retried
    "kompanion_celery_queue_length": "gauge",  # {queue}
    "kompanion_celery_broker_up": "gauge",
    "kompanion_business_gauges_up": "gauge",
    "kompanion_bookings_paid_unconfirmed": "gauge",
    "kompanion_whatsapp_failed_last_hour": "gauge",
    "kompanion_refunds_waiting": "gauge",  # {status}
    "kompanion_refund_oldest_waiting_seconds": "gauge",  # {status}
    "kompanion_payouts_waiting": "gauge",  # {status}
    "kompanion_payout_oldest_waiting_seconds": "gauge",  # {status}
    "kompanion_webhook_verdicts_total": "counter",  # {provider, verdict}
    "kompanion_ledger_balanced": "gauge",
    "kompanion_ledger_imbalance_rupiah": "gauge",
    "kompanion_ledger_unbalanced_journals": "gauge",
    "kompanion_ledger_checked_timestamp_seconds": "gauge",
}
PROMETHEUS_METRICS = {"up": "gauge"}
METRIC_NAMES = {
    series
    for name, kind in {**DJANGO_METRICS, **KOMPANION_METRICS, **PROMETHEUS_METRICS}.items()
    for series in ([f"{name}_bucket", f"{name}_sum", f"{name}_count"] if kind == "histogram" else [name])
}
# The business gauges and checks the issue asks an alert (and a dashboard panel) for.
BUSINESS_METRICS = {
    "kompanion_bookings_paid_unconfirmed",
    "kompanion_whatsapp_failed_last_hour",
    "kompanion_refund_oldest_waiting_seconds",
    "kompanion_payout_oldest_waiting_seconds",
    "kompanion_webhook_verdicts_total",
    "kompanion_ledger_balanced",
    "kompanion_celery_tasks_total",
    "kompanion_celery_queue_length",
}
EXPECTED_ALERTS = {
    "KompanionWebDown",
    "KompanionWorkerDown",
    "KompanionHigh5xxRate",
    "KompanionSlowRequestsP95",
    "KompanionSlowViewP95",
    "KompanionBookingsPaidNotConfirmed",
    "KompanionWhatsAppFailures",
    "KompanionRefundWaitingTooLong",
    "KompanionPayoutWaitingTooLong",
    "KompanionForgedWebhooks",
    "KompanionMismatchedWebhooks",
    "KompanionLedgerUnbalanced",
    "KompanionBusinessGaugesUnreadable",
    "KompanionLedgerCheckMissing",
    "KompanionCeleryTaskFailures",
    "KompanionCeleryBrokerDown",
    "KompanionCeleryQueueBacklog",
}

PUBLIC_SERVICE = "nginx"
LOOPBACK = ("127.0.0.1:", "[::1]:")


def bind_mounts(service: dict) -> list[tuple[str, str]]:
    """(host path, container path) of a service's ./ bind mounts, short syntax."""
    mounts = []
    for volume in service.get("volumes") or []:
        source, _, rest = str(volume).partition(":")
        if source.startswith("./"):
            mounts.append((source, rest.split(":")[0]))
    return mounts


def command_text(service: dict) -> str:
    parts = []
    for key in ("entrypoint", "command"):
        value = service.get(key) or []
        parts.extend([value] if isinstance(value, str) else [str(item) for item in value])
    return " ".join(parts)


def variables_in(value) -> set[str]:
    """Names of the ${VAR...} interpolations compose would resolve ($$ is a literal dollar)."""
    text = json.dumps(value)
    return set(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)", text))


# --- compose -----------------------------------------------------------------------------------------------


def test_every_image_is_pinned_to_a_version():
    for name, service in SERVICES.items():
        image = service.get("image", "")
        if "build" in service:
            continue  # our own build: its tag names what we built, not something pulled
        assert image, f"{name} has neither image nor build"
        repository, _, tag = image.rpartition(":")
        assert repository and "/" not in tag, f"{name}: {image} has no tag"
        assert tag != "latest" and re.search(r"\d", tag), f"{name}: {image} is not pinned to a version"


def test_every_file_compose_refers_to_exists():
    for name, service in SERVICES.items():
        build = service.get("build")
        if isinstance(build, dict):
            assert (BASE_DIR / build.get("context", ".") / build.get("dockerfile", "Dockerfile")).is_file(), name
        elif build:
            assert (BASE_DIR / build / "Dockerfile").is_file(), name
        mounts = bind_mounts(service)
        for source, _ in mounts:
            assert (BASE_DIR / source).exists(), f"{name} mounts {source}, which does not exist"
        # Scripts the command runs from a bind mount: /opt/kompanion/backup/nightly-dump.sh -> ./ops/backup/...
        for path in re.findall(r"(/[\w./-]+\.(?:sh|py))", command_text(service)):
            for source, target in mounts:
                if path.startswith(target.rstrip("/") + "/") or path == target:
                    host = BASE_DIR / source / os.path.relpath(path, target) if path != target else BASE_DIR / source
                    assert host.is_file(), f"{name} runs {path}, which is {host.relative_to(BASE_DIR)}: missing"


def test_entrypoint_scripts_mounted_into_the_nginx_image_are_executable():
    # The official image runs /docker-entrypoint.d/*.sh only when they are executable.
    for source, target in bind_mounts(SERVICES["nginx"]):
        if target.startswith("/docker-entrypoint.d/"):
            assert os.stat(BASE_DIR / source).st_mode & stat.S_IXUSR, source


def test_every_variable_compose_reads_is_documented_in_env_example():
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE, flags=re.MULTILINE))
    used = variables_in(COMPOSE) | {
        secret["environment"] for secret in (COMPOSE.get("secrets") or {}).values() if "environment" in secret
    }
    assert used - documented == set(), "document these in .env.example"


def test_depends_on_names_services_and_sensible_conditions():
    for name, service in SERVICES.items():
        for target, rule in (service.get("depends_on") or {}).items():
            assert target in SERVICES, f"{name} depends on {target}, which is not a service"
            condition = rule["condition"]
            if condition == "service_completed_successfully":
                assert SERVICES[target].get("restart") == "no", f"{target} is awaited to finish but restarts"
            elif condition == "service_healthy":
                assert not SERVICES[target].get("healthcheck", {}).get("disable"), f"{target} has no healthcheck"
            else:
                assert condition == "service_started", condition


def test_named_volumes_and_secrets_are_declared_and_used():
    declared = set(COMPOSE["volumes"])
    used = set()
    for service in SERVICES.values():
        for volume in service.get("volumes") or []:
            source = str(volume).split(":")[0]
            if not source.startswith(("./", "/")):
                used.add(source)
    assert used == declared
    secrets = set(COMPOSE.get("secrets") or {})
    used_secrets = {secret for service in SERVICES.values() for secret in service.get("secrets") or []}
    assert used_secrets == secrets


def test_every_long_running_service_has_a_healthcheck():
    for name, service in SERVICES.items():
        healthcheck = service.get("healthcheck") or {}
        if service.get("restart") == "no":
            continue  # a one-shot job
        assert healthcheck.get("test"), f"{name} has no healthcheck"
        assert not healthcheck.get("disable"), name


def test_only_nginx_listens_publicly_and_only_on_80_and_443():
    for name, service in SERVICES.items():
        ports = [str(port) for port in service.get("ports") or []]
        if name == PUBLIC_SERVICE:
            assert sorted(ports) == ["443:443", "80:80"]
        else:
            assert all(port.startswith(LOOPBACK) for port in ports), f"{name}: {ports}"


def test_the_edge_topology_matches_trusted_proxy_count():
    # nginx is the one proxy that appends to X-Forwarded-For.
    assert re.search(r"^TRUSTED_PROXY_COUNT=1$", ENV_EXAMPLE, flags=re.MULTILINE)
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in (OPS / "nginx" / "kompanion.conf.template").read_text()


# --- A small structural PromQL check (no promtool here) -------------------------------------------------------

PROMQL_FUNCTIONS = {
    "abs", "absent", "absent_over_time", "avg_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min",
    "count_over_time", "day_of_week", "delta", "deriv", "exp", "floor", "histogram_quantile", "hour", "idelta",
    "increase", "irate", "label_replace", "last_over_time", "ln", "max_over_time", "min_over_time",
    "predict_linear", "quantile_over_time", "rate", "resets", "round", "scalar", "sort", "sort_desc", "sqrt",
    "sum_over_time", "time", "timestamp", "vector",
}  # fmt: skip
PROMQL_AGGREGATIONS = {"sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile"}
PROMQL_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool"}
TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<duration>\[(?:\d+[smhdwy])+\]|\[\$__rate_interval\]|\[\$__interval\])
      | (?P<number>\d+(?:\.\d+)?(?:e[+-]?\d+)?)
      | (?P<name>[A-Za-z_:][A-Za-z0-9_:]*)
      | (?P<matcher>=~|!~|!=|==|>=|<=|=)
      | (?P<punct>[(){},*/+\-<>^%])
    )""",
    re.VERBOSE,
)


def promql_problems(expr: str) -> list[str]:
    """What is structurally wrong with a PromQL expression: an unknown function or metric, an unbalanced
    bracket, a bad range or matcher. Not a full parser: it catches typos and renamed metrics."""
    problems = []
    tokens = []
    position = 0
    expr = expr.strip()
    while position < len(expr):
        match = TOKEN.match(expr, position)
        if not match or match.end() == position:
            return [f"cannot read {expr[position : position + 20]!r}"]
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    depth = {"(": 0, "{": 0}
    in_braces = False
    for index, (kind, value) in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else (None, None)
        previous = tokens[index - 1] if index else (None, None)
        if value in "({" and kind == "punct":
            depth[value] += 1
            in_braces = in_braces or value == "{"
        elif value in ")}" and kind == "punct":
            opening = "(" if value == ")" else "{"
            depth[opening] -= 1
            if depth[opening] < 0:
                problems.append(f"unbalanced {value}")
            if value == "}":
                in_braces = False
        elif kind == "name":
            if in_braces:  # a label name, then a matcher and a quoted value
                if following[0] != "matcher" or following[1] == "==":
                    problems.append(f"label {value} without a matcher")
                elif index + 2 >= len(tokens) or tokens[index + 2][0] != "string":
                    problems.append(f"label {value} not matched against a quoted string")
            elif previous[1] == "(" and index >= 2 and tokens[index - 2][1] in {"by", "without", "on", "ignoring"}:
                pass  # first label of a grouping clause
            elif previous[1] == "," and _inside_grouping(tokens, index):
                pass  # further labels of a grouping clause
            elif value in PROMQL_AGGREGATIONS and following[1] in {"by", "without"}:
                pass  # sum by (le) (...)
            elif following[1] == "(":
                if value not in PROMQL_FUNCTIONS | PROMQL_AGGREGATIONS | PROMQL_KEYWORDS:
                    problems.append(f"unknown function {value}")
            elif value in PROMQL_KEYWORDS:
                pass
            elif value not in METRIC_NAMES:
                problems.append(f"unknown metric {value}")
        elif kind == "matcher" and not in_braces and value == "=":
            problems.append("= outside a label matcher")
    problems.extend(f"unclosed {opening}" for opening, count in depth.items() if count > 0)
    return problems


def _inside_grouping(tokens, index) -> bool:
    """Whether tokens[index] is inside the parentheses of a by/without/on/ignoring clause."""
    level = 0
    for back in range(index - 1, -1, -1):
        value = tokens[back][1]
        if value == ")":
            level += 1
        elif value == "(":
            if level == 0:
                return back >= 1 and tokens[back - 1][1] in {"by", "without", "on", "ignoring"}
            level -= 1
    return False


def test_the_promql_check_catches_what_it_should():
    assert promql_problems('sum by (le) (rate(django_db_query_duration_seconds_bucket{alias="default"}[5m]))') == []
    assert promql_problems("max(kompanion_no_such_gauge) > 0") == ["unknown metric kompanion_no_such_gauge"]
    assert promql_problems("rat(django_db_execute_total[5m])") == ["unknown function rat"]
    assert promql_problems("sum(rate(django_db_execute_total[5m])") == ["unclosed ("]
    assert promql_problems("rate(django_db_execute_total[5 minutes])") != []
    assert promql_problems("up{job=kompanion-web}") != []
    assert promql_problems('up{job="kompanion-web"} = 0') == ["= outside a label matcher"]


# --- Prometheus and its rules ------------------------------------------------------------------------------


def prometheus_config() -> dict:
    return yaml.safe_load((OPS / "prometheus" / "prometheus.yml").read_text())


def mounted_at(service: str, container_path: str) -> Path:
    for source, target in bind_mounts(SERVICES[service]):
        if target == container_path:
            return BASE_DIR / source
    raise AssertionError(f"{service} mounts nothing at {container_path}")


def test_prometheus_scrapes_our_services_with_the_token_secret():
    config = prometheus_config()
    assert mounted_at("prometheus", "/etc/prometheus/prometheus.yml") == OPS / "prometheus" / "prometheus.yml"
    for rule_file in config["rule_files"]:
        assert mounted_at("prometheus", rule_file).is_file()
    secret_files = {f"/run/secrets/{name}" for name in SERVICES["prometheus"]["secrets"]}
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for job_name in ("kompanion-web", "kompanion-worker"):
        job = jobs[job_name]
        assert job["metrics_path"] == "/metrics"
        assert job["authorization"]["type"] == "Bearer"
        assert job["authorization"]["credentials_file"] in secret_files
    assert jobs["kompanion-web"]["static_configs"][0]["targets"] == ["web:8000"]
    worker = jobs["kompanion-worker"]["dns_sd_configs"][0]
    assert worker["names"] == ["worker"]
    assert str(worker["port"]) == SERVICES["worker"]["environment"]["CELERY_METRICS_PORT"]
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            for target in static["targets"]:
                host = target.split(":")[0]
                assert host == "localhost" or host in SERVICES, target
    (alertmanager,) = config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert alertmanager.split(":")[0] in SERVICES


def alert_rules() -> list[dict]:
    rules = yaml.safe_load((OPS / "prometheus" / "alerts.yml").read_text())
    return [rule for group in rules["groups"] for rule in group["rules"]]


def test_every_alert_is_there_with_severity_summary_and_a_sound_expression():
    rules = alert_rules()
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names))
    assert set(names) == EXPECTED_ALERTS
    for rule in rules:
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        assert promql_problems(rule["expr"]) == [], rule["alert"]
        if "for" in rule:
            assert re.fullmatch(r"(\d+[smh])+", rule["for"]), rule["alert"]


def test_each_business_figure_and_the_latency_histogram_have_an_alert():
    expressions = " ".join(rule["expr"] for rule in alert_rules())
    for metric in BUSINESS_METRICS:
        assert metric in expressions, metric
    assert "histogram_quantile(0.95" in expressions
    assert "django_http_requests_latency_seconds_by_view_method_bucket" in expressions
    assert 'status=~"5.."' in expressions


# --- Grafana ---------------------------------------------------------------------------------------------


def dashboard() -> dict:
    return json.loads((OPS / "grafana" / "dashboards" / "kompanion.json").read_text())


def test_grafana_is_provisioned_with_the_data_source_and_dashboard_folder():
    datasources = yaml.safe_load((OPS / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text())
    (datasource,) = datasources["datasources"]
    assert datasource["type"] == "prometheus"
    assert datasource["url"] == "http://prometheus:9090"
    providers = yaml.safe_load((OPS / "grafana" / "provisioning" / "dashboards" / "dashboards.yml").read_text())
    (provider,) = providers["providers"]
    assert mounted_at("grafana", provider["options"]["path"]) == OPS / "grafana" / "dashboards"
    assert mounted_at("grafana", "/etc/grafana/provisioning") == OPS / "grafana" / "provisioning"
    home = SERVICES["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home.startswith(provider["options"]["path"] + "/")
    assert (OPS / "grafana" / "dashboards" / Path(home).name).is_file()
    assert SERVICES["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD")


def test_every_dashboard_panel_queries_known_metrics_from_the_provisioned_source():
    datasources = yaml.safe_load((OPS / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text())
    uid = datasources["datasources"][0]["uid"]
    board = dashboard()
    assert board["uid"] and board["title"]
    panels = [panel for panel in board["panels"] if panel["type"] != "row"]
    assert len({panel["id"] for panel in board["panels"]}) == len(board["panels"])
    expressions = []
    for panel in panels:
        assert panel["datasource"]["uid"] == uid, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert promql_problems(target["expr"]) == [], (panel["title"], target["expr"])
            expressions.append(target["expr"])
    text = " ".join(expressions)
    for metric in BUSINESS_METRICS | {
        "django_http_requests_latency_seconds_by_view_method_bucket",
        "django_http_responses_total_by_status_view_method_total",
        "django_db_query_duration_seconds_bucket",
        "django_cache_get_hits_total",
        "kompanion_ledger_imbalance_rupiah",
    }:
        assert metric in text, f"no panel shows {metric}"


# --- Alertmanager -------------------------------------------------------------------------------------------


def env_example_values() -> dict[str, str]:
    return dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", ENV_EXAMPLE, flags=re.MULTILINE))


def render_alertmanager(tmp_path, **overrides) -> dict:
    values = env_example_values()
    environment = {"PATH": os.environ["PATH"]}
    for name in SERVICES["alertmanager"]["environment"]:
        environment[name] = values.get(name, "")
    environment.update(overrides)
    output = tmp_path / "alertmanager.yml"
    subprocess.run(
        [
            "sh",
            str(OPS / "alertmanager" / "render-config.sh"),
            str(OPS / "alertmanager" / "alertmanager.yml"),
            str(output),
        ],
        env=environment,
        check=True,
        capture_output=True,
    )
    return yaml.safe_load(output.read_text())


def receivers_in(route: dict) -> set[str]:
    return {route["receiver"], *(name for child in route.get("routes", []) for name in receivers_in(child))}


def test_alertmanager_config_renders_from_the_environment_and_routes_to_real_receivers(tmp_path):
    config = render_alertmanager(
        tmp_path, ALERT_WEBHOOK_URL="https://hooks.example.test/alerts", ALERT_SMTP_PASSWORD='p"a\\ss: #1'
    )
    receivers = {receiver["name"]: receiver for receiver in config["receivers"]}
    assert receivers_in(config["route"]) <= set(receivers)
    assert config["global"]["smtp_auth_password"] == 'p"a\\ss: #1'  # quoted, whatever the characters
    assert config["global"]["smtp_from"] == env_example_values()["ALERT_EMAIL_FROM"]
    for receiver in receivers.values():
        assert receiver["email_configs"][0]["to"] == env_example_values()["ALERT_EMAIL_TO"]
    assert receivers["critical"]["webhook_configs"][0]["url"] == "https://hooks.example.test/alerts"
    (critical_route,) = config["route"]["routes"]
    assert critical_route["matchers"] == ['severity="critical"']
    # Every severity the rules use is routed somewhere.
    assert {rule["labels"]["severity"] for rule in alert_rules()} == {"critical", "warning"}


def test_without_a_webhook_url_alerts_go_by_email_only(tmp_path):
    config = render_alertmanager(tmp_path, ALERT_WEBHOOK_URL="")
    receivers = {receiver["name"]: receiver for receiver in config["receivers"]}
    assert "webhook_configs" not in receivers["critical"]
    assert receivers["critical"]["email_configs"]


def test_alertmanager_refuses_to_start_without_a_recipient(tmp_path):
    with pytest.raises(subprocess.CalledProcessError) as refused:
        render_alertmanager(tmp_path, ALERT_EMAIL_TO="")
    assert b"ALERT_EMAIL_TO" in refused.value.stderr


# --- MinIO --------------------------------------------------------------------------------------------------


def test_minio_certificate_names_the_service_and_is_kept_while_valid(tmp_path):
    from cryptography import x509

    script = mounted_at("minio-certs", "/opt/kompanion/minio") / "make-certificate.py"
    subprocess.run([sys.executable, str(script), str(tmp_path)], check=True, capture_output=True)
    certificate = x509.load_pem_x509_certificate((tmp_path / "public.crt").read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "minio" in names.get_values_for_type(x509.DNSName)
    assert (tmp_path / "private.key").stat().st_mode & 0o077 == 0
    first = (tmp_path / "public.crt").read_bytes()
    subprocess.run([sys.executable, str(script), str(tmp_path)], check=True, capture_output=True)
    assert (tmp_path / "public.crt").read_bytes() == first  # a restart does not change what clients trust
    # MinIO reads public.crt and private.key from its --certs-dir, where the volume is mounted.
    minio = SERVICES["minio"]
    assert "--certs-dir" in minio["command"]
    certs_dir = minio["command"][minio["command"].index("--certs-dir") + 1]
    assert f"minio-certs:{certs_dir}:ro" in minio["volumes"]


def test_media_buckets_are_versioned_with_noncurrent_versions_expiring():
    lifecycle = json.loads((OPS / "minio" / "media-lifecycle.json").read_text())
    (rule,) = lifecycle["Rules"]
    assert rule["Status"] == "Enabled"
    assert 1 <= rule["NoncurrentVersionExpiration"]["NoncurrentDays"] <= 90
    script = (OPS / "minio" / "setup-buckets.sh").read_text()
    assert 'mc version enable "kompanion/$bucket"' in script
    assert "mc ilm import" in script and "/opt/kompanion/minio/media-lifecycle.json" in script
    assert mounted_at("minio-setup", "/opt/kompanion/minio") == OPS / "minio"
    environment = SERVICES["minio-setup"]["environment"]
    assert environment["MEDIA_BUCKET"].startswith("${AWS_STORAGE_BUCKET_NAME")
    assert environment["PRIVATE_BUCKET"].startswith("${AWS_PRIVATE_STORAGE_BUCKET_NAME")


def test_postgres_archives_wal_with_pgbackrest():
    postgres = SERVICES["postgres"]
    command = " ".join(postgres["command"])
    assert "archive_mode=on" in command
    assert "archive_command=pgbackrest --stanza=kompanion archive-push %p" in command
    assert postgres["build"]["dockerfile"] == "ops/postgres/Dockerfile"
    assert mounted_at("postgres", "/etc/pgbackrest/pgbackrest.conf") == OPS / "backup" / "pgbackrest.conf"
