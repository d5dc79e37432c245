"""docker-compose.yml publishes no app port on every interface (defect 18).

A port published as "8000:8000" listens on 0.0.0.0: clients could reach gunicorn around the TLS proxy,
over plain HTTP, and send their own X-Forwarded-For, which the rate limits trust. Only a reverse proxy
service (none today) may listen on all interfaces.
"""

import re
from pathlib import Path

import yaml

COMPOSE_FILE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
# Services allowed to listen on every interface: the TLS proxy, should compose ever run one.
PROXY_SERVICES = {"proxy", "caddy", "nginx", "traefik"}
LOOPBACK = {"127.0.0.1", "::1", "[::1]", "localhost"}


def host_ip(port) -> str | None:
    """The host address a compose `ports` entry binds to; None means every interface."""
    if isinstance(port, dict):  # long syntax: {target, published, host_ip, protocol}
        return port.get("host_ip") or None
    # Variables (${WEB_PORT:-8000}) stand for a port number here; their ":-" must not split the entry.
    text = re.sub(r"\$\{[^}]*\}", "0", str(port)).split("/")[0]
    # Short syntax: [HOST_IP:][HOST_PORT:]CONTAINER_PORT, where HOST_IP may be a bracketed IPv6 address.
    bracketed = re.match(r"^\[([^\]]+)\]:(.+)$", text)
    if bracketed:
        return bracketed.group(1)
    parts = text.split(":")
    if len(parts) == 3:
        return parts[0] or None
    return None


def published_ports() -> list[tuple[str, object]]:
    services = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    return [(name, port) for name, service in services.items() for port in (service.get("ports") or [])]


def test_host_ip_reads_every_compose_syntax():
    assert host_ip("8000:8000") is None
    assert host_ip("8000") is None
    assert host_ip("${WEB_PORT:-8000}:8000") is None
    assert host_ip("127.0.0.1:${WEB_PORT:-8000}:8000") == "127.0.0.1"
    assert host_ip("0.0.0.0:8000:8000") == "0.0.0.0"  # noqa: S104
    assert host_ip("[::1]:8000:8000/tcp") == "::1"
    assert host_ip({"target": 8000, "published": 8000}) is None
    assert host_ip({"target": 8000, "published": 8000, "host_ip": "127.0.0.1"}) == "127.0.0.1"


def test_no_service_but_the_proxy_publishes_a_port_on_every_interface():
    exposed = [
        (name, port) for name, port in published_ports() if name not in PROXY_SERVICES and host_ip(port) not in LOOPBACK
    ]
    assert exposed == [], f"publish these on 127.0.0.1 only (the app is reachable only through the proxy): {exposed}"


def test_the_web_port_is_published_on_loopback():
    web_ports = [port for name, port in published_ports() if name == "web"]
    assert web_ports == ["127.0.0.1:${WEB_PORT:-8000}:8000"]
