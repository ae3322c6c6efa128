"""An HTTPDNS answer as a client reads it (the browser, ``httpdns-lookup``), with no I/O:
the text form ``10.0.2.80;10.0.2.81,60`` or the JSON form ``{"ips": […], "ttl": 60}``
(:mod:`netsim.proto.http.httpdns` serves both). A server's answer is taken as a
client's SDK takes it: what is not an IPv4 address is skipped, a TTL that is not a
non-negative integer is none, and a body that is neither form is an empty answer."""

from __future__ import annotations

import ipaddress
import json


def parse_httpdns_answer(body: bytes, content_type: str | None) -> tuple[list[str], int | None]:
    """An HTTPDNS answer → (IPv4 addresses as dotted quads, TTL or None)."""
    if "json" in (content_type or ""):
        try:
            value = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):   # [[[[…: too deep
            return [], None
        if not isinstance(value, dict):
            return [], None
        ips = value.get("ips", [])
        ttl = value.get("ttl")
        return (_addresses(ips if isinstance(ips, list) else []),
                ttl if type(ttl) is int and ttl >= 0 else None)
    text = body.decode("ascii", "replace").strip()
    if not text:
        return [], None
    ips, _, ttl = text.partition(",")
    return (_addresses(ips.split(";")),
            int(ttl) if ttl.isascii() and ttl.isdigit() and len(ttl) < 10 else None)


def _addresses(items: list) -> list[str]:
    out = []
    for item in items:
        if isinstance(item, str):
            try:
                out.append(str(ipaddress.IPv4Address(item.strip())))
            except ValueError:
                continue
    return out
