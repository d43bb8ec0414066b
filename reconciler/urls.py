"""The API base URL: checked before any request, so that a typo fails clearly and a
key is never sent in clear text (plain ``http://`` only to loopback)."""

from __future__ import annotations

import ipaddress
import re

import httpx

from reconciler.errors import ConfigError

_EXPECTED_URL = "expected https://host[:port]"
_PORT_RANGE = "the port must be a number from 1 to 65535"
# A host name as httpx decodes it: letters (IDNA included), digits, dots, hyphens, underscores.
_HOST = re.compile(r"[\w.-]+")


def check_base_url(base_url: str) -> str:
    """Accept https URLs, and plain http only to a loopback host; else a ``ConfigError``.

    The host is the one httpx will connect to (its own parser), so no URL
    trick reads as loopback here and goes elsewhere there. Credentials, a
    query or a fragment have no place in a base URL and are refused; so are
    spaces and control characters, an empty or malformed host, and a port
    outside 1-65535. The URL is repeated in messages only once it is known to
    carry no credentials (nor a query, where a key might hide).
    """
    if not base_url.strip():
        raise ConfigError(f"no API URL given: {_EXPECTED_URL}")
    if any(char.isspace() or not char.isprintable() for char in base_url):
        raise ConfigError(
            f"invalid API URL: it must not contain spaces or control characters; {_EXPECTED_URL}"
        )
    try:
        url = httpx.URL(base_url)
        host = url.host  # decoded here: an invalid IDNA label raises (a ValueError)
    except (httpx.InvalidURL, TypeError, ValueError) as error:
        reason = _PORT_RANGE if "port" in str(error).lower() else _EXPECTED_URL
        raise ConfigError(f"invalid API URL: {reason}") from None
    if url.userinfo:
        raise ConfigError("invalid API URL: it must not carry credentials (user:password@)")
    if url.query or url.fragment:
        raise ConfigError("invalid API URL: it must not have a query or fragment")
    shown = repr(base_url)
    if url.scheme not in ("http", "https"):
        raise ConfigError(f"invalid API URL {shown}: it must start with https://")
    if not host:
        raise ConfigError(f"invalid API URL {shown}: no host name; {_EXPECTED_URL}")
    if not _HOST.fullmatch(host) and not _is_ip_address(host):
        raise ConfigError(f"invalid API URL {shown}: {host!r} is not a valid host name")
    if url.port is not None and not 1 <= url.port <= 65535:
        raise ConfigError(
            f"invalid API URL {shown}: port {url.port} is out of range; {_PORT_RANGE}"
        )
    if url.scheme == "http" and not _is_loopback(host):
        raise ConfigError(
            f"refusing plain http:// API URL to {host}: use https://"
            " (plain http is allowed only to a loopback address)"
        )
    return base_url.rstrip("/")


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _is_loopback(host: str) -> bool:
    """``localhost`` or a loopback IP address, written plainly (no other spelling passes)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
