"""Outbound URLs that must reach the public internet (grievance-body webhooks): loopback, private,
link-local (169.254.169.254, the cloud metadata address), multicast, reserved and unspecified
addresses are refused, unless a deployment allows a range with SAMLENG_WEBHOOK_ALLOW_NETWORKS.

Checked when a body is loaded and again at delivery after DNS resolution: every address the name
resolves to must pass. A name that does not resolve at that moment is let through (the HTTP client
cannot reach it either, and the delivery is retried, checked again).

The connection itself is pinned (`GuardedBackend`): the HTTP client's network layer resolves the
name once, checks every answer, and connects to a checked address — never resolving again, so a
name whose answer changes between a check and the connection (DNS rebinding) cannot reach a
private address. TLS still verifies the certificate for the name, and the Host header is the name."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx


class AddressRefused(ValueError):
    pass


def _networks(allow: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    out = []
    for item in (x.strip() for x in allow.split(",")):
        if item:
            out.append(ipaddress.ip_network(item, strict=False))
    return out


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def checked_addresses(host: str, port: int | None, *, allow: str = "") -> list[str]:
    """Resolve a host once and return its addresses, every one checked; AddressRefused if any is not
    public or allowed, or if the name does not resolve."""
    allowed = _networks(allow)
    try:
        addresses = [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError:
            raise AddressRefused(f"{host} does not resolve") from None
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for ip in addresses:
        if not _public(ip) and not any(ip in net for net in allowed):
            raise AddressRefused(
                f"{host} is a loopback, private or link-local address ({ip}); "
                "set SAMLENG_WEBHOOK_ALLOW_NETWORKS to allow it"
            )
    return list(dict.fromkeys(str(ip) for ip in addresses))


class GuardedBackend(httpcore.SyncBackend):
    """An httpcore network backend that connects only to addresses it has just checked."""

    def __init__(self, allow: Callable[[], str]) -> None:
        self.allow = allow

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        failure: Exception | None = None
        for ip in checked_addresses(host, port, allow=self.allow()):
            try:
                return super().connect_tcp(
                    ip, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except httpcore.ConnectError as exc:
                failure = exc
        raise failure or httpcore.ConnectError(f"{host}: no address")


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with its connection pool on a GuardedBackend (redirects stay off)."""

    def __init__(self, allow: Callable[[], str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        pool = self._pool
        self._pool = httpcore.ConnectionPool(
            ssl_context=pool._ssl_context,
            max_connections=pool._max_connections,
            max_keepalive_connections=pool._max_keepalive_connections,
            keepalive_expiry=pool._keepalive_expiry,
            http1=pool._http1,
            http2=pool._http2,
            network_backend=GuardedBackend(allow),
        )


def check_url(url: str, *, allow: str = "", resolve: bool = True) -> None:
    """Raise AddressRefused unless every address of the URL's host is public or allowed.

    With resolve=False a host name that does not resolve is let through (checked again at delivery).
    """
    host = urlsplit(url).hostname
    if not host:
        raise AddressRefused("the URL has no host")
    allowed = _networks(allow)
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except OSError:
            if resolve:
                raise AddressRefused(f"{host} does not resolve") from None
            return
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for ip in addresses:
        if not _public(ip) and not any(ip in net for net in allowed):
            raise AddressRefused(
                f"{host} is a loopback, private or link-local address ({ip}); "
                "set SAMLENG_WEBHOOK_ALLOW_NETWORKS to allow it"
            )
