"""The site's own address when the operator did not give one (DAILYPAPERS_BASE_URL): derived from
where `serve` and `up` listen, and checked against it when given. Imports nothing of ours."""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

WILDCARDS = {"", "0.0.0.0", "::", "[::]"}
_HOST_NAME = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$")
_HOST_HEADER = re.compile(r"^(?P<host>[^:\[\]]+|\[[0-9A-Fa-f:.]+\])(?::(?P<port>\d{1,5}))?$")


def is_wildcard(host: str) -> bool:
    """A bind to every address (0.0.0.0, ::): no single name reaches it."""
    return host.strip() in WILDCARDS


def machine_name() -> str:
    """This machine's host name, as the system knows it (no DNS lookup: that can hang offline)."""
    return socket.gethostname() or "localhost"


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def served_url(host: str, port: int, scheme: str = "http") -> str:
    """http://HOST:PORT for a site listening there; for a wildcard bind the machine's name stands
    in for the host. The scheme's default port is left out."""
    name = machine_name() if is_wildcard(host) else _bracketed(host.strip())
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{name}" + ("" if port == default else f":{port}")


def from_host_header(scheme: str, host: str | None) -> str | None:
    """scheme://HOST[:PORT] from a request's Host header when it is a well-formed host name or IP
    address (and port); None otherwise. Only for links in the answer to that request: a Host
    header is whatever the client sent, so nothing sent to anyone else (email) may use it."""
    if not host or scheme not in ("http", "https"):
        return None
    m = _HOST_HEADER.match(host.strip())
    if not m:
        return None
    name, port = m.group("host"), m.group("port")
    if name.startswith("["):
        try:
            ipaddress.IPv6Address(name[1:-1])
        except ValueError:
            return None
    elif not _HOST_NAME.match(name):
        return None
    if port is not None and not 0 < int(port) < 65536:
        return None
    return f"{scheme}://{name.lower()}" + (f":{port}" if port else "")


def _loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def disagreement(base_url: str, host: str, port: int) -> str | None:
    """Why `base_url` cannot reach a site listening on host:port, or None. Only addresses of this
    machine are judged (a loopback name, the bind address, the machine's name): any other name
    may reach the site through a proxy or a port forward, which is none of our business."""
    parts = urlsplit(base_url)
    name = (parts.hostname or "").lower()
    try:
        named_port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return f"DAILYPAPERS_BASE_URL {base_url} has no valid port"
    bind = host.strip().strip("[]").lower()
    ours = {machine_name().lower(), machine_name().split(".")[0].lower()}
    if not (_loopback(name) or name == bind or name in ours or is_wildcard(name)):
        return None
    if named_port != port:
        return (
            f"DAILYPAPERS_BASE_URL is {base_url}, but the site is served on port {port}: "
            f"links in pages, feeds and emails lead to port {named_port}"
        )
    if _loopback(name) and not (is_wildcard(bind) or _loopback(bind)):
        return f"DAILYPAPERS_BASE_URL is {base_url}, but the site listens on {host} only, which {name} does not reach"
    return None
