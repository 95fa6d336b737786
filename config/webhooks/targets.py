"""Where a webhook may be sent: public addresses only, unless the settings allow private ones.

The address a request goes to is the one checked (`public_address`): the hostname is resolved
once and the connection opened to that address, so a DNS answer that changes between the check
and the request (rebinding) cannot reach an internal service.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from config.api.errors import ValidationFailed


class TargetRefused(Exception):
    pass


def _private(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    # Not global: private, loopback, link-local, shared (CGNAT), reserved, unspecified.
    return not address.is_global or address.is_multicast


def _addresses(host: str, port: int) -> list[str]:
    try:
        return [ipaddress.ip_address(host).compressed]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as exc:
        raise TargetRefused(f"{host} does not resolve ({exc})") from None
    return list(dict.fromkeys(info[4][0] for info in infos))


def url_parts(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of an http(s) URL; ValueError when it is not one."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("an http:// or https:// URL with a host is required")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port, path


def public_address(url: str) -> str:
    """The address to connect to for `url`; TargetRefused when any it resolves to is private
    (and the settings do not allow private targets) or it does not resolve."""
    try:
        _, host, port, _ = url_parts(url)
    except ValueError as exc:
        raise TargetRefused(str(exc)) from None
    addresses = _addresses(host, port)
    if not settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS:
        private = [a for a in addresses if _private(ipaddress.ip_address(a.split("%")[0]))]
        if private:
            raise TargetRefused(
                f"{host} is a private, loopback or link-local address ({private[0]}); "
                "such targets need WEBHOOKS_ALLOW_PRIVATE_TARGETS"
            )
    return addresses[0]


def url_check(url: str) -> None:
    """A webhook URL a create may store: http(s), and a public target (400 naming `url`)."""
    try:
        url_parts(url)
    except ValueError as exc:
        raise ValidationFailed(f"url: {exc}", field="url") from None
    try:
        public_address(url)
    except TargetRefused as exc:
        # An unresolvable name is accepted (it may resolve later; each send checks again);
        # a private one is not.
        if "does not resolve" not in str(exc):
            raise ValidationFailed(f"url: {exc}", field="url") from None
