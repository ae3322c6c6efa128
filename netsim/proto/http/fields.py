"""What HTTP/2 and HTTP/3 share above their framing: a request and a response as field
lines with pseudo-headers (RFC 9113 §8.3, RFC 9114 §4.3), the connection-specific
fields both forbid (RFC 9113 §8.2.2, RFC 9114 §4.2), and a server's answer from its
sites — the same :class:`~netsim.proto.http.site.Site` the HTTP/1.x server asks."""

from __future__ import annotations

from dataclasses import dataclass

from netsim.proto.http.client import Request
from netsim.proto.http.server import Answered
from netsim.proto.http.site import Site

#: Connection-specific header fields, which HTTP/2 and HTTP/3 forbid.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}


def request_fields(request: Request, *, authority: str, scheme: str, user_agent: str,
                   accept: str) -> list[tuple[str, str]]:
    """A request's field lines, pseudo-headers first, names in lower case."""
    given = {name.lower() for name, _ in request.headers}
    fields = [(":method", request.method), (":authority", authority), (":scheme", scheme),
              (":path", request.target), ("user-agent", user_agent)]
    if "accept" not in given:
        fields.append(("accept", accept))
    fields += [(name.lower(), value) for name, value in request.headers]
    if request.body:
        fields.append(("content-length", str(len(request.body))))
    return fields


def encoded(fields: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(k.encode(), v.encode("latin-1")) for k, v in fields]


@dataclass(frozen=True, slots=True)
class Reply:
    """A server's answer to one stream: its log entry, field lines and body (b"" when
    none is sent: HEAD, 204, 304)."""
    entry: Answered
    fields: list[tuple[bytes, bytes]]
    body: bytes


def answer(sites: dict[str, Site], raw: list[tuple[bytes, bytes]], body: bytes, now: float, *,
           version: str, server_name: str, alt_svc: str | None = None) -> Reply:
    """Answer a request given as received field lines (``raw``) and body."""
    pseudo = {k.decode(): v.decode("latin-1") for k, v in raw if k.startswith(b":")}
    headers = {k.decode().lower(): v.decode("latin-1") for k, v in raw if not k.startswith(b":")}
    headers["host"] = pseudo.get(":authority", headers.get("host", ""))
    method, target = pseudo.get(":method", "GET"), pseudo.get(":path", "/")
    host = headers["host"].rpartition("@")[2].split(":")[0].lower()
    site = sites.get(host) or sites.get("*") or next(iter(sites.values()))
    reply = site.respond(method, target, headers, now, bytes(body))
    fields = [(":status", str(reply.status)), ("server", server_name)]
    fields += [(name.lower(), value) for name, value in reply.headers
               if name.lower() not in HOP_BY_HOP]
    has_body = reply.status not in (204, 304)
    if has_body:
        fields.append(("content-length", str(len(reply.body))))
    if alt_svc:
        fields.append(("alt-svc", alt_svc))
    sent = reply.body if has_body and method != "HEAD" else b""
    return Reply(Answered(method, target, version, reply.status), encoded(fields), sent)
