"""Outbound URLs that must reach the public internet (grievance-body webhooks): loopback, private,
link-local (169.254.169.254, the cloud metadata address), multicast, reserved and unspecified
addresses are refused, unless a deployment allows a range with SAMLENG_WEBHOOK_ALLOW_NETWORKS.

Checked when a body is loaded and again at delivery after DNS resolution: every address the name
resolves to must pass. A name that does not resolve at that moment is let through (the HTTP client
cannot reach it either, and the delivery is retried, checked again)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


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
    return not (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved
                or ip.is_unspecified or not ip.is_global)


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
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    for ip in addresses:
        if not _public(ip) and not any(ip in net for net in allowed):
            raise AddressRefused(f"{host} is a loopback, private or link-local address ({ip}); "
                                 "set SAMLENG_WEBHOOK_ALLOW_NETWORKS to allow it")
