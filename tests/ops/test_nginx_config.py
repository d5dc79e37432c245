"""The edge's nginx configuration (ops/nginx/kompanion.conf.template), checked by a real nginx.

Docker cannot run here, so the test does what the official nginx image does at start-up: it renders the
template with envsubst (only SERVER_NAME is substituted), points the container paths at a temporary
folder (certificates from openssl, the certbot webroot, the static and media volumes), replaces web:8000 by
a small HTTP server that echoes what it received, runs `nginx -t`, then starts nginx on free ports and
sends real requests through it. It needs the nginx binary (Debian: `apt-get install nginx-light`) and
skips, saying so, without it.
"""

import gzip
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

OPS = Path(__file__).resolve().parents[2] / "ops" / "nginx"
TEMPLATE = OPS / "kompanion.conf.template"
TLS_SCRIPT = OPS / "40-kompanion-tls.sh"
SERVER_NAME = "kompanion.test"
HSTS = "max-age=63072000; includeSubDomains"
NGINX = shutil.which("nginx") or next(
    (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(path, os.X_OK)), None
)
MIME_TYPES = next((path for path in ("/etc/nginx/mime.types",) if os.path.exists(path)), None)

needs_nginx = pytest.mark.skipif(
    NGINX is None or MIME_TYPES is None or shutil.which("envsubst") is None or shutil.which("openssl") is None,
    reason="needs the nginx, envsubst and openssl commands (Debian: apt-get install nginx-light gettext-base openssl)",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class EchoUpstream(BaseHTTPRequestHandler):
    """Stands in for gunicorn: answers every request with the path and headers it received, plus an HSTS
    header of its own (as Django's SecurityMiddleware sends) that nginx must not pass on twice."""

    seen: list[dict] = []

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        record = {"path": self.path, "headers": {name.lower(): value for name, value in self.headers.items()}}
        type(self).seen.append(record)
        body = json.dumps(record).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Strict-Transport-Security", "max-age=31536000; includeSubDomains; preload")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = answer

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


def render(tmp: Path, *, http_port: int, https_port: int, upstream_port: int) -> str:
    """The template as the image's envsubst step renders it, with container paths moved under tmp."""
    rendered = subprocess.run(
        ["envsubst", "${SERVER_NAME}"],
        input=TEMPLATE.read_text(),
        env={"SERVER_NAME": SERVER_NAME, "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "${SERVER_NAME}" not in rendered
    assert "$request_uri" in rendered  # nginx's own variables survive the rendering
    replacements = {
        "/etc/letsencrypt/live": str(tmp / "live"),
        "/var/www/certbot": str(tmp / "webroot"),
        "/srv/www": str(tmp / "www"),
        "http://web:8000": f"http://127.0.0.1:{upstream_port}",
        "listen 80 default_server;": f"listen 127.0.0.1:{http_port} default_server;",
        "listen 443 ssl http2 default_server;": f"listen 127.0.0.1:{https_port} ssl http2 default_server;",
    }
    for old, new in replacements.items():
        assert old in rendered, old
        rendered = rendered.replace(old, new)
    # No IPv6 on every test machine; the IPv4 listeners above are the same servers.
    return re.sub(r"^\s*listen \[::\]:.*$", "", rendered, flags=re.MULTILINE)


def main_conf(tmp: Path, site_conf: Path) -> Path:
    """A stand-in for the image's /etc/nginx/nginx.conf that includes the rendered site."""
    for folder in ("logs", "temp"):
        (tmp / folder).mkdir(exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read the pytest folder (mode 0700)
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"""{user}pid {tmp}/nginx.pid;
error_log {tmp}/logs/error.log warn;
worker_processes 1;
events {{ worker_connections 64; }}
http {{
    include {MIME_TYPES};
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {tmp}/temp/body;
    proxy_temp_path {tmp}/temp/proxy;
    fastcgi_temp_path {tmp}/temp/fastcgi;
    uwsgi_temp_path {tmp}/temp/uwsgi;
    scgi_temp_path {tmp}/temp/scgi;
    include {site_conf};
}}
"""
    )
    return conf


def make_certificate(live: Path) -> None:
    live.mkdir(parents=True)
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", f"/CN={SERVER_NAME}", "-addext", f"subjectAltName=DNS:{SERVER_NAME}",
            "-keyout", str(live / "privkey.pem"), "-out", str(live / "fullchain.pem"),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip


def nginx_test(conf: Path, tmp: Path) -> subprocess.CompletedProcess:
    return subprocess.run([NGINX, "-t", "-p", str(tmp), "-c", str(conf)], capture_output=True, text=True)


@pytest.fixture
def edge(tmp_path):
    """nginx running the rendered template in front of EchoUpstream."""
    http_port, https_port = free_port(), free_port()
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), EchoUpstream)
    EchoUpstream.seen = []
    threading.Thread(target=upstream.serve_forever, daemon=True).start()

    make_certificate(tmp_path / "live" / SERVER_NAME)
    challenge = tmp_path / "webroot" / ".well-known" / "acme-challenge"
    challenge.mkdir(parents=True)
    (challenge / "token-123").write_text("token-123.account-thumbprint")
    static = tmp_path / "www" / "static" / "css"
    static.mkdir(parents=True)
    css = "body { color: #123456; }\n" * 400  # large enough to be compressed (gzip_min_length 1024)
    (static / "app.0123456789ab.css").write_text(css)
    (static / "app.css").write_text(css)

    site = tmp_path / "kompanion.conf"
    site.write_text(
        render(tmp_path, http_port=http_port, https_port=https_port, upstream_port=upstream.server_address[1])
    )
    conf = main_conf(tmp_path, site)
    checked = nginx_test(conf, tmp_path)
    assert checked.returncode == 0, checked.stderr

    process = subprocess.Popen(
        [NGINX, "-p", str(tmp_path), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", https_port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    else:
        process.kill()
        pytest.fail(f"nginx did not start: {process.stderr.read().decode() if process.stderr else ''}")
    try:
        yield {"http": http_port, "https": https_port, "tmp": tmp_path, "css": css}
    finally:
        process.send_signal(signal.SIGQUIT)  # graceful stop of the master this test started
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        upstream.shutdown()
        upstream.server_close()


def https_request(edge, method, path, *, headers=None, body=None):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    connection = http.client.HTTPSConnection("127.0.0.1", edge["https"], context=context, timeout=10)
    # SNI and Host as a browser sends them for https://kompanion.test/.
    connection.sock = context.wrap_socket(
        socket.create_connection(("127.0.0.1", edge["https"]), timeout=10), server_hostname=SERVER_NAME
    )
    tls_version = connection.sock.version()
    headers = {"Host": SERVER_NAME, **(headers or {})}
    connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for name, value in headers.items():
        connection.putheader(name, value)
    if body is not None and "Content-Length" not in headers:
        connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body)
    response = connection.getresponse()
    content = response.read()
    connection.close()
    return response, content, tls_version


def http_request(edge, path):
    connection = http.client.HTTPConnection("127.0.0.1", edge["http"], timeout=10)
    connection.request("GET", path, headers={"Host": "evil.example"})
    response = connection.getresponse()
    content = response.read()
    connection.close()
    return response, content


def site_directives(name: str) -> list[str]:
    return re.findall(rf"^\s*{re.escape(name)}\s+([^;]+);", TEMPLATE.read_text(), flags=re.MULTILINE)


def run_tls_script(site: Path, live: Path) -> None:
    """ops/nginx/40-kompanion-tls.sh on `site`, as the nginx image runs it at start (no reload loop)."""
    subprocess.run(
        ["sh", str(TLS_SCRIPT)],
        env={
            "PATH": os.environ["PATH"],
            "SERVER_NAME": SERVER_NAME,
            "KOMPANION_NGINX_CONF": str(site),
            "KOMPANION_LETSENCRYPT_LIVE": str(live),
            "KOMPANION_NGINX_RELOAD_LOOP": "no",
        },
        check=True,
        capture_output=True,
    )


@needs_nginx
def test_plain_http_redirects_to_the_configured_host_but_serves_acme_challenges(edge):
    response, _ = http_request(edge, "/cari/?kota=jakarta")
    assert response.status == 301
    # To our name, not to the Host the client sent (no open redirect).
    assert response.getheader("Location") == f"https://{SERVER_NAME}/cari/?kota=jakarta"

    response, content = http_request(edge, "/.well-known/acme-challenge/token-123")
    assert (response.status, content) == (200, b"token-123.account-thumbprint")

    response, _ = http_request(edge, "/nginx-health")
    assert response.status == 200


@needs_nginx
def test_https_proxies_with_the_headers_trusted_proxy_count_one_expects(edge):
    response, content, tls_version = https_request(
        edge, "GET", "/cari/", headers={"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "http"}
    )
    assert response.status == 200
    assert tls_version in {"TLSv1.2", "TLSv1.3"}
    seen = json.loads(content)
    assert seen["path"] == "/cari/"
    assert seen["headers"]["host"] == SERVER_NAME
    assert seen["headers"]["x-forwarded-proto"] == "https"  # the client's "http" is replaced
    # The client's own entry stays first; nginx appends the address it saw, the one the app trusts.
    assert seen["headers"]["x-forwarded-for"] == "6.6.6.6, 127.0.0.1"
    assert re.fullmatch(r"[0-9a-f]{32}", seen["headers"]["x-request-id"])
    # Exactly one HSTS header, nginx's: the app's own is hidden.
    assert response.headers.get_all("Strict-Transport-Security") == [HSTS]
    assert response.getheader("Server") == "nginx"  # no version number (server_tokens off)


@needs_nginx
def test_the_app_only_ever_sees_our_host_name(edge):
    """The web service allows the internal name "web" too (Prometheus scrapes web:8000): a client must
    not be able to pick it, or any other name, through the edge. Other names are sent to ours."""
    for host in ("web", "web:8000", "www.kompanion.test", "evil.example"):
        response, _, _ = https_request(edge, "GET", "/cari/?q=1", headers={"Host": host})
        assert response.status == 301, host
        assert response.getheader("Location") == f"https://{SERVER_NAME}/cari/?q=1"
    assert EchoUpstream.seen == []
    response, content, _ = https_request(edge, "GET", "/", headers={"Host": f"{SERVER_NAME.upper()}:443"})
    assert response.status == 200
    assert json.loads(content)["headers"]["host"] == SERVER_NAME


@needs_nginx
def test_metrics_is_not_reachable_through_the_edge(edge):
    for path in ("/metrics", "/metrics/", "/metrics?format=json"):
        response, _, _ = https_request(edge, "GET", path, headers={"Authorization": "Bearer anything"})
        assert response.status == 404, path
    assert EchoUpstream.seen == []  # never reached the app


@needs_nginx
def test_hashed_static_files_are_immutable_and_compressed(edge):
    response, content, _ = https_request(
        edge, "GET", "/static/css/app.0123456789ab.css", headers={"Accept-Encoding": "gzip"}
    )
    assert response.status == 200
    assert response.getheader("Cache-Control") == "public, max-age=31536000, immutable"
    assert response.getheader("Content-Encoding") == "gzip"
    assert gzip.decompress(content).decode() == edge["css"]
    assert response.headers.get_all("Strict-Transport-Security") == [HSTS]
    assert EchoUpstream.seen == []  # served by nginx, not by the app

    # A name without a content hash may change under the same URL: cached for an hour only.
    response, _, _ = https_request(edge, "GET", "/static/css/app.css")
    assert response.status == 200
    assert response.getheader("Cache-Control") == "public, max-age=3600"


@needs_nginx
def test_bodies_above_the_upload_limit_are_refused_before_the_app(edge, settings):
    limit = settings.REQUEST_MAX_BODY_BYTES
    response, _, _ = https_request(
        edge, "POST", "/akun/ktp/", headers={"Content-Length": str(23 * 1024 * 1024)}, body=b""
    )
    assert response.status == 413
    assert EchoUpstream.seen == []
    # A body at the app's own limit passes nginx (the app answers for what is between the two).
    response, _, _ = https_request(edge, "POST", "/akun/ktp/", body=b"x" * limit)
    assert response.status == 200
    assert EchoUpstream.seen[-1]["headers"]["content-length"] == str(limit)


def test_the_body_limit_is_slightly_above_the_apps(settings):
    (value,) = site_directives("client_max_body_size")
    number, unit = re.fullmatch(r"(\d+)([km]?)", value).groups()
    limit = int(number) * {"": 1, "k": 1024, "m": 1024 * 1024}[unit]
    assert settings.REQUEST_MAX_BODY_BYTES <= limit <= settings.REQUEST_MAX_BODY_BYTES + 2 * 1024 * 1024


def test_the_template_states_the_hardening():
    text = TEMPLATE.read_text()
    assert site_directives("ssl_protocols") == ["TLSv1.2 TLSv1.3"]
    assert site_directives("gzip") == ["on"]
    assert site_directives("proxy_request_buffering") == ["on"]
    for directive in ("client_header_timeout", "client_body_timeout", "send_timeout", "keepalive_timeout"):
        (value,) = site_directives(directive)
        assert int(value.rstrip("s")) <= 30, directive
    assert re.search(r"^\s*limit_conn kompanion_connections \d+;", text, flags=re.MULTILINE)
    assert f'add_header Strict-Transport-Security "{HSTS}" always;' in text


@needs_nginx
def test_without_a_certificate_nginx_starts_on_http_alone(tmp_path):
    """Before the first issuance the TLS server is dropped (ops/nginx/40-kompanion-tls.sh), so nginx can
    start and serve the webroot challenge; with the HTTPS server left in, `nginx -t` fails."""
    site = tmp_path / "kompanion.conf"
    site.write_text(render(tmp_path, http_port=free_port(), https_port=free_port(), upstream_port=free_port()))
    conf = main_conf(tmp_path, site)
    (tmp_path / "live").mkdir()
    assert nginx_test(conf, tmp_path).returncode != 0  # the certificate files do not exist

    run_tls_script(site, tmp_path / "live")
    assert "listen 127.0.0.1" in site.read_text()
    assert "ssl_certificate" not in site.read_text()
    checked = nginx_test(conf, tmp_path)
    assert checked.returncode == 0, checked.stderr


@needs_nginx
def test_with_a_certificate_the_tls_script_keeps_https(tmp_path):
    site = tmp_path / "kompanion.conf"
    site.write_text(render(tmp_path, http_port=free_port(), https_port=free_port(), upstream_port=free_port()))
    make_certificate(tmp_path / "live" / SERVER_NAME)
    run_tls_script(site, tmp_path / "live")
    assert "ssl_certificate " in site.read_text()
