"""HTTPDNS, with no I/O: name resolution asked over HTTP instead of DNS, so a local
resolver that lies (hijacking, stale or cross-network answers) is not asked at all.

The interface follows the public services (Tencent Cloud's and Alibaba Cloud's HTTPDNS):
``GET /d?dn=www.example.com`` answers the addresses as text, ``;``-separated, then
``,`` and the TTL (``10.0.2.80;10.0.2.81,60``); with ``&type=json`` (or
``Accept: application/json``) as ``{"host": …, "ips": […], "ttl": 60}``. A name it does
not know answers an empty list, as they do; a request without ``dn`` is 400.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from netsim.proto.http.site import Answer, error_page, http_date


class HttpDnsService:
    def __init__(self, records: dict[str, list[str]], *, ttl: int = 60, path: str = "/d") -> None:
        self.records = {name.lower().rstrip("."): list(addresses) for name, addresses in records.items()}
        self.ttl, self.path = ttl, path
        self.answered: list[dict] = []

    def respond(self, method: str, target: str, headers: dict[str, str], now: float,
                body: bytes = b"") -> Answer:
        date = ("Date", http_date(now))
        path, _, query = target.partition("?")
        if path != self.path:
            return error_page(404, f"{path}: ask {self.path}?dn=NAME", date)
        if method not in ("GET", "HEAD"):
            answer = error_page(405, f"{method}: HTTPDNS is asked with GET", date)
            return Answer(405, answer.headers + [("Allow", "GET, HEAD")], answer.body)
        args = parse_qs(query)
        name = (args.get("dn") or [""])[0].lower().rstrip(".")
        if not name:
            return error_page(400, "no dn= in the query", date)
        ips = self.records.get(name, [])
        self.answered.append({"t": now, "name": name, "ips": ips})
        if (args.get("type") or [""])[0] == "json" or "application/json" in headers.get("accept", ""):
            return Answer(200, [date, ("Content-Type", "application/json")],
                          (json.dumps({"host": name, "ips": ips, "ttl": self.ttl}) + "\n").encode())
        text = f"{';'.join(ips)},{self.ttl}" if ips else ""
        return Answer(200, [date, ("Content-Type", "text/plain")], text.encode())
