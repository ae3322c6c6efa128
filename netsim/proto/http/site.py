"""What an HTTP server knows about its resources, and how it answers a request for one
(RFC 9110 semantics, RFC 9111 caching headers), with no I/O: the wire format is h11's.

A site is a mapping of paths to resources, written in a scenario::

    /index.html: {body: 4KiB, type: text/html, cache_control: max-age=60, etag: auto,
                  last_modified: 0s, changes_at: [100s], embeds: [/style.css]}
    /old:        {redirect: 301, to: /index.html}
    /broken:     {status: 500}
    /login:      {session: login, redirect: 303, to: /account}
    /account:    {session: required}

A page that ``embeds`` objects is HTML that references them (``<link rel=stylesheet>``,
``<script src>``, ``<img src>``), so a browser finds them by reading the page as a real
one does. ``session: login`` answers with a ``Set-Cookie`` session token; a
``session: required`` resource answers 403 to a request without a valid one.

A body given as a size is deterministic text (the same bytes for the same path and
version, every run); ``changes_at`` times make new versions, so a conditional request
after a change gets 200 with the new body and one before it gets 304. Validators: an
``ETag`` from the body's hash (``etag: auto``) and ``Last-Modified`` (the later of
``last_modified`` and the last change). ``If-None-Match`` is checked before
``If-Modified-Since`` (RFC 9110 §13.2.2).

Headers as nginx's static files have them: a ``200`` says ``Accept-Ranges: bytes``, and a
``Range: bytes=…`` of one range gets ``206 Partial Content`` with its ``Content-Range``
(RFC 9110 §14), one that starts past the end ``416`` with ``Content-Range: bytes */len``;
a ``Range`` of several ranges, of another unit or that does not parse is ignored, and
so is one whose ``If-Range`` no longer matches (§13.1.5) — the whole body, ``200``, as
§14.2 allows (nginx would send ``multipart/byteranges`` for several). A ``304`` carries
the validators and caching headers, no ``Content-Type`` (nginx's not-modified filter
clears it). A ``HEAD`` is answered as its ``GET`` would be; the server sends the head
alone (RFC 9110 §9.3.2), with the GET's ``Content-Length``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime

from netsim.proto.ftp.tree import check_generated_size, content_of
from netsim.proto.http.bodies import page_html, png_of
from netsim.proto.wallclock import EPOCH

REASONS = {200: "OK", 201: "Created", 204: "No Content", 206: "Partial Content",
           301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified",
           307: "Temporary Redirect", 308: "Permanent Redirect", 400: "Bad Request",
           403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict",
           413: "Content Too Large", 416: "Range Not Satisfiable", 422: "Unprocessable Content",
           500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable",
           505: "HTTP Version Not Supported"}
REDIRECTS = (301, 302, 303, 307, 308)


def http_date(seconds: float) -> str:
    """An IMF-fixdate (RFC 9110 §5.6.7) of a simulated instant."""
    return formatdate(EPOCH + int(seconds), usegmt=True)


def parse_http_date(text: str) -> float | None:
    """A client's date (If-Modified-Since) → simulated seconds; None for one that is
    not a date, including a year too large for a datetime (OverflowError)."""
    try:
        return parsedate_to_datetime(text).timestamp() - EPOCH
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


@dataclass
class Resource:
    path: str
    body: bytes | int = b""                   # the bytes, or a size of deterministic text
    type: str = "text/html"
    status: int = 200
    redirect_to: str | None = None
    cache_control: str | None = None
    expires: float | None = None              # seconds after the response's Date
    etag: bool = False
    last_modified: float | None = None
    changes_at: list[float] = field(default_factory=list)
    chunked: bool = False
    methods: tuple[str, ...] = ("GET", "HEAD")
    embeds: list[str] = field(default_factory=list)
    session: str | None = None                # "login" or "required"
    _made: dict = field(default_factory=dict, repr=False, compare=False)   # version → body

    def version(self, now: float) -> int:
        return sum(1 for t in self.changes_at if t <= now)

    def content(self, now: float) -> bytes:
        v = self.version(now)
        made = self._made.get(v)
        if made is None:
            made = self._made[v] = self._make(v)
        return made

    def etag_of(self, now: float) -> str:
        """A strong validator from the body's hash (RFC 9110 §8.8.3)."""
        return f'"{hashlib.sha256(self.content(now)).hexdigest()[:16]}"'

    def _make(self, v: int) -> bytes:
        if self.embeds:
            return page_html(self.path, self.embeds, self.body, v)
        if isinstance(self.body, int) and self.type == "image/png":
            return png_of(f"{self.path}#v{v}", self.body)
        if isinstance(self.body, int):
            return content_of(f"{self.path}#v{v}", self.body)
        return self.body if v == 0 else self.body + f"\n<!-- version {v} -->\n".encode()

    def modified(self, now: float) -> float | None:
        times = [t for t in self.changes_at if t <= now]
        if self.last_modified is not None:
            times.append(self.last_modified)
        return max(times) if times else None


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    chunked: bool = False

    @property
    def reason(self) -> str:
        return REASONS.get(self.status, "")


def resource_from_spec(path: str, spec: dict, parse_time, parse_size) -> Resource:
    body = spec.get("body", b"")
    if isinstance(body, str):
        try:
            body = parse_size(body)
        except ValueError:
            body = body.encode()
    if isinstance(body, int):
        check_generated_size(body, f"{path}'s body")
    return Resource(
        path, body, spec.get("type", "text/html"),
        status=int(spec.get("redirect", spec.get("status", 200))),
        redirect_to=spec.get("to"),
        cache_control=spec.get("cache_control"),
        expires=parse_time(spec["expires"]) if "expires" in spec else None,
        etag=spec.get("etag") == "auto",
        last_modified=parse_time(spec["last_modified"]) if "last_modified" in spec else None,
        changes_at=[parse_time(t) for t in (spec.get("changes_at") or [])],
        chunked=bool(spec.get("chunked", False)),
        methods=tuple(m.upper() for m in spec.get("methods", ["GET", "HEAD"])),
        embeds=list(spec.get("embeds", [])),
        session=spec.get("session"))


class Site:
    def __init__(self, name: str, resources: dict[str, Resource]) -> None:
        self.name = name
        self.resources = resources
        #: Session tokens handed out by login resources.
        self.sessions: set[str] = set()

    def respond(self, method: str, target: str, headers: dict[str, str], now: float,
                body: bytes = b"") -> Answer:
        """``headers``: request header names in lower case."""
        path = target.split("?", 1)[0]
        date = ("Date", http_date(now))
        resource = self.resources.get(path)
        if resource is None:
            return error_page(404, f"{path} is not on {self.name}", date)
        if resource.session == "login" and method in resource.methods:
            return self._log_in(resource, date)
        if resource.session == "required" and _cookie(headers, "session") not in self.sessions:
            return error_page(403, f"{path} needs a session: log in first", date)
        if method not in resource.methods and resource.status not in REDIRECTS:
            answer = error_page(405, f"{method} is not allowed on {path}", date)
            return Answer(405, answer.headers + [("Allow", ", ".join(resource.methods))], answer.body)
        if resource.status in REDIRECTS:
            answer = error_page(resource.status, f"moved to {resource.redirect_to}", date)
            return Answer(resource.status, answer.headers + [("Location", resource.redirect_to or "/")],
                          answer.body)
        if resource.status != 200:
            return error_page(resource.status, f"{path} answers {resource.status} on purpose", date)
        if method not in ("GET", "HEAD"):
            return error_page(200, f"{method} {path}: received {len(body)} bytes", date)
        body = resource.content(now)
        out = [date, ("Content-Type", resource.type)]
        etag = resource.etag_of(now) if resource.etag else None
        modified = resource.modified(now)
        if etag:
            out.append(("ETag", etag))
        if modified is not None:
            out.append(("Last-Modified", http_date(modified)))
        if resource.cache_control:
            out.append(("Cache-Control", resource.cache_control))
        if resource.expires is not None:
            out.append(("Expires", http_date(now + resource.expires)))
        if _not_modified(headers, etag, modified):
            return Answer(304, [(k, v) for k, v in out if k != "Content-Type"], b"")
        if resource.chunked:                # no length known up front: no ranges (nginx)
            return Answer(200, out, body, chunked=True)
        return _ranged(headers, out, body, etag, modified)


    def _log_in(self, resource: Resource, date: tuple[str, str]) -> Answer:
        token = hashlib.sha256(f"{self.name}#{len(self.sessions)}".encode()).hexdigest()[:24]
        self.sessions.add(token)
        cookie = ("Set-Cookie", f"session={token}; Path=/; HttpOnly")
        if resource.status in REDIRECTS:
            answer = error_page(resource.status, f"logged in; on to {resource.redirect_to}", date)
            return Answer(resource.status, answer.headers + [
                ("Location", resource.redirect_to or "/"), cookie], answer.body)
        answer = error_page(200, "logged in", date)
        return Answer(200, answer.headers + [cookie], answer.body)


def _cookie(headers: dict[str, str], name: str) -> str | None:
    for pair in headers.get("cookie", "").split(";"):
        key, _, value = pair.strip().partition("=")
        if key == name:
            return value
    return None


def _not_modified(headers: dict[str, str], etag: str | None, modified: float | None) -> bool:
    """RFC 9110 §13.1.2 (weak comparison for If-None-Match) and §13.1.3; If-None-Match,
    when present, decides alone (§13.2.2)."""
    if "if-none-match" in headers:
        wanted = [t.strip().removeprefix("W/") for t in headers["if-none-match"].split(",")]
        return etag is not None and ("*" in wanted or etag in wanted)
    if "if-modified-since" in headers and modified is not None:
        since = parse_http_date(headers["if-modified-since"])
        return since is not None and int(modified) <= since
    return False


def _ranged(headers: dict[str, str], out: list[tuple[str, str]], body: bytes,
             etag: str | None, modified: float | None) -> Answer:
    """A static body, whole (200, ``Accept-Ranges: bytes``) or the one range asked
    (206), or 416 for a range past its end (RFC 9110 §14.1.2, §14.4, §15.3.7)."""
    span = _one_range(headers.get("range"), len(body))
    if span is None or not _if_range_holds(headers.get("if-range"), etag, modified):
        return Answer(200, out + [("Accept-Ranges", "bytes")], body)
    if span == "unsatisfiable":
        page = error_page(416, "the range starts past the end", out[0])
        return Answer(416, page.headers + [("Content-Range", f"bytes */{len(body)}")], page.body)
    first, last = span
    return Answer(206, out + [("Content-Range", f"bytes {first}-{last}/{len(body)}")],
                  body[first:last + 1])


_RANGE = re.compile(r"\s*bytes\s*=\s*([0-9]*)\s*-\s*([0-9]*)\s*\Z", re.IGNORECASE)


def _number(digits: str) -> int:
    """ASCII digits as an int, past any body's length once they are 19 or more."""
    return int(digits) if len(digits) < 19 else 10 ** 18


def _one_range(value: str | None, length: int):
    """``bytes=0-99``, ``bytes=100-``, ``bytes=-100`` → (first, last) within the body,
    ``"unsatisfiable"``, or None: no Range, several, another unit, not one (ignored)."""
    match = _RANGE.match(value or "")
    if match is None:
        return None
    first, last = match.groups()
    if first == "":
        if last == "":
            return None
        n = _number(last)                             # the last n bytes (§14.1.1)
        return (max(0, length - n), length - 1) if n and length else "unsatisfiable"
    start = _number(first)
    if last != "" and _number(last) < start:
        return None                                   # an invalid range-spec: ignored
    if start >= length:
        return "unsatisfiable"
    return start, min(_number(last), length - 1) if last != "" else length - 1


def _if_range_holds(value: str | None, etag: str | None, modified: float | None) -> bool:
    """§13.1.5: the Range counts only while the validator still names this body — a
    strong ETag equal to ours, or exactly our Last-Modified."""
    if value is None:
        return True
    value = value.strip()
    if value.startswith('"') or value.startswith("W/"):
        return etag is not None and value == etag
    return modified is not None and value == http_date(modified)


def error_page(status: int, text: str, date: tuple[str, str]) -> Answer:
    reason = REASONS.get(status, "")
    body = (f"<html><head><title>{status} {reason}</title></head>"
            f"<body><h1>{status} {reason}</h1><p>{text}</p></body></html>\n").encode()
    return Answer(status, [date, ("Content-Type", "text/html")], body)

