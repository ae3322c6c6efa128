"""A browser's navigation, sans-I/O: visits of a page and what it references, the way
browsers load them.

Each visit starts at its time (the engine's timer) and fetches the document: the cache
first (RFC 9111: a fresh copy is used with no traffic, a stale one is revalidated and a
``304`` refreshes it), the host's address from the browser's DNS cache, the hosts table
or a lookup (DNS, or HTTPDNS over HTTP), the cookies its jar holds for the URL (RFC
6265), and redirects followed by RFC 9110 §15.4's method rules. An HTML document is read
for stylesheets, scripts and images, fetched all at once over the connection pools of
:mod:`netsim.proto.http.pool` — HTTP/1.1 on up to ``limit`` persistent connections per
host (optionally pipelined), or HTTP/1.0 with a connection per request.

A fetch the browser cannot make fails alone, worded as Chrome words it, and the page
goes on: a URL it cannot parse (``net::ERR_INVALID_URL``) or of another scheme
(``net::ERR_UNKNOWN_URL_SCHEME``), a ``Location`` that is no URL
(``net::ERR_INVALID_REDIRECT``), a host name no resolver would ask for (a label of 70
letters: ``net::ERR_NAME_NOT_RESOLVED``), a response that is not HTTP
(:mod:`netsim.proto.http.failures`).

Outputs, besides the pools' :class:`~netsim.proto.http.pool.Open` and
:class:`~netsim.proto.http.pool.Kick`: :class:`Lookup` (ask DNS; the answer comes back
through :meth:`Navigator.resolved`), :class:`VisitStarted`, :class:`FetchDone` (a row of
the network panel, for the trace) and :class:`VisitDone` (with the visit's summary).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Callable

from netsim.proto.http.cache import HttpCache
from netsim.proto.http.client import Exchange, Request
from netsim.proto.http.cookies import CookieJar
from netsim.proto.http.failures import CHROME, CHROME_HEADER_LIMIT
from netsim.proto.http.httpdns_answer import parse_httpdns_answer
from netsim.proto.http.page import is_html, page_text, references
from netsim.proto.http.pool import Job, PoolClient
from netsim.proto.http.redirects import MAX_REDIRECTS, REDIRECTS, redirected
from netsim.proto.http.url import (PORT, UrlError, host_problem, is_https, parse_url, path_of,
                                   resolve_reference)

USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) netsim-browser/1.0"
ACCEPT = "text/html,application/xhtml+xml,*/*;q=0.8"


@dataclass
class Visit:
    """One load of a page, planned at ``at``."""
    number: int
    at: float
    url: str
    method: str = "GET"
    body: bytes = b""
    start: float | None = None
    fetches: list = field(default_factory=list)
    #: The summary, once every fetch is done (what ``result()`` lists per visit).
    record: dict | None = None
    _embeds: list = field(default_factory=list, repr=False)
    _left: int = 0


@dataclass
class Fetch:
    """One row of the network panel: a request and where its answer came from."""
    visit: int
    url: str
    method: str
    queued_at: float
    kind: str = "document"                 # document, redirect, stylesheet, script, image
    source: str = "network"                # network, cache (fresh hit), 304 (revalidated)
    conditional: bool = False              # sent with the cache's validators
    status: int | None = None
    reason: str = ""
    dns: tuple[float, float] | None = None
    connect: tuple[float, float] | None = None
    sent_at: float | None = None
    first_byte_at: float | None = None
    done_at: float | None = None
    sent_bytes: int = 0
    received_bytes: int = 0
    head_sent: int = 0                      # of those, header sections (HPACK's, over h2)
    head_received: int = 0
    http_version: str = ""                  # what the answer came in: 1.0, 1.1, 2
    body_bytes: int = 0
    connection: int | None = None
    address: str | None = None              # the server it went to
    why: str = ""                           # the cache's reason, for the output
    then: str = ""                          # a redirect: the request it leads to
    error: str | None = None
    headers: list = field(default_factory=list, repr=False)
    body: bytes = field(default=b"", repr=False)
    #: What to do once it is done (the engine's own continuation).
    _next: Callable | None = field(default=None, repr=False, compare=False)
    _cached: object = field(default=None, repr=False, compare=False)
    _host: str = field(default="", repr=False, compare=False)
    _path: str = field(default="", repr=False, compare=False)
    _request_body: bytes = field(default=b"", repr=False, compare=False)
    #: The request's own headers (no validators), which a response's Vary may name.
    _request_headers: list = field(default_factory=list, repr=False, compare=False)

    def note(self) -> dict:
        # "kind" is the trace row's own key: the note calls it "role".
        d = {k: getattr(self, k) for k in (
            "visit", "url", "method", "source", "conditional", "status", "queued_at", "dns", "connect",
            "sent_at", "first_byte_at", "done_at", "sent_bytes", "received_bytes", "body_bytes",
            "head_sent", "head_received", "http_version", "connection", "address", "error")}
        d["role"] = self.kind
        return d

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)


@dataclass(frozen=True, slots=True)
class Lookup:
    """Ask the host's resolver for ``host``'s address (answer: :meth:`Navigator.resolved`)."""
    host: str


@dataclass(frozen=True, slots=True)
class VisitStarted:
    visit: Visit


@dataclass(frozen=True, slots=True)
class FetchDone:
    fetch: Fetch


@dataclass(frozen=True, slots=True)
class VisitDone:
    visit: Visit


@dataclass(frozen=True, slots=True)
class _HttpDnsQuery:
    host: str


class Navigator(PoolClient):
    """The visits of ``plan``; ``hosts(name)`` is the hosts table (an address or None),
    ``httpdns`` the address of an HTTPDNS server to ask instead of DNS."""

    def __init__(self, plan: list[Visit], *, version: str = "1.1", limit: int = 6,
                 pipeline: bool = False, cache: bool = True, httpdns=None,
                 hosts: Callable[[str], object] = lambda name: None) -> None:
        super().__init__(version=version, limit=limit, pipeline=pipeline,
                         user_agent=USER_AGENT, accept=ACCEPT, wording=CHROME,
                         header_limit=CHROME_HEADER_LIMIT)
        self.plan = sorted(plan, key=lambda v: v.at)
        self._next_visit = 0
        self.cache = HttpCache() if cache else None
        self.jar = CookieJar()
        self.hosts = hosts
        self.httpdns = httpdns
        self.addresses: dict[str, object] = {}            # the browser's DNS cache
        self._looking_up: dict[str, list[Callable]] = {}
        self.visits: list[Visit] = []                     # the visits done, in order

    # -- the clock ----------------------------------------------------------------------

    def get_timer(self) -> float | None:
        return self.plan[self._next_visit].at if self._next_visit < len(self.plan) else None

    def handle_timer(self, now: float) -> None:
        while self._next_visit < len(self.plan) and self.plan[self._next_visit].at <= now:
            visit = self.plan[self._next_visit]
            self._next_visit += 1
            visit.start = now
            self._out.append(VisitStarted(visit))
            self._navigate(visit, visit.url, visit.method, visit.body, 0, now)

    @property
    def done(self) -> bool:
        return len(self.visits) == len(self.plan)

    # -- a visit: the document and its redirects ------------------------------------------

    def _navigate(self, visit: Visit, url: str, method: str, body: bytes, hop: int,
                  now: float) -> None:
        def arrived(fetch: Fetch, now: float) -> None:
            self._followed(visit, fetch, method, body, hop, now)

        self._fetch(visit.number, url, method, body, "document" if hop == 0 else "redirect",
                    now, arrived, noted=False)

    def _followed(self, visit: Visit, fetch: Fetch, method: str, body: bytes, hop: int,
                  now: float) -> None:
        """The document chain, by RFC 9110 §15.4's rules: follow, or that is the page."""
        visit.fetches.append(fetch)
        target = fetch.header("Location")
        if fetch.error or fetch.status not in REDIRECTS or target is None:
            return self._document(visit, self._noted(fetch), now)
        if hop == MAX_REDIRECTS:
            fetch.error = f"net::ERR_TOO_MANY_REDIRECTS (more than {MAX_REDIRECTS})"
            return self._document(visit, self._noted(fetch), now)
        try:
            url = resolve_reference(fetch.url, target)
        except UrlError as exc:
            fetch.error = f"net::ERR_INVALID_REDIRECT ({exc})"     # Chrome: not a URL
            return self._document(visit, self._noted(fetch), now)
        method, body = redirected(fetch.status, method, body)
        fetch.then = f"{method} {url}"
        self._noted(fetch)
        self._navigate(visit, url, method, body, hop + 1, now)

    def _document(self, visit: Visit, document: Fetch, now: float) -> None:
        """The page is here: fetch what it references, all at once."""
        wanted = []
        if document.error is None and document.status is not None and \
                is_html(document.header("Content-Type")):
            for ref in references(document.body):
                try:
                    wanted.append(resolve_reference(document.url, ref))
                except UrlError as exc:
                    wanted.append(exc)           # fails on its own below
        visit._embeds = [None] * len(wanted)
        visit._left = len(wanted)
        for index, url in enumerate(wanted):
            def arrived(fetch: Fetch, now: float, index: int = index) -> None:
                visit._embeds[index] = fetch
                visit._left -= 1
                if visit._left == 0:
                    self._visit_done(visit, now)

            if isinstance(url, UrlError):        # a reference that is no URL at all
                fetch = Fetch(visit.number, url.reference, "GET", now, "other")
                fetch.error = f"net::ERR_INVALID_URL ({url})"
                fetch._next = arrived
                self._finish(self._noted(fetch), now)
                continue
            self._fetch(visit.number, url, "GET", b"", kind_of_object(url), now, arrived)
        if not wanted:
            self._visit_done(visit, now)

    def _visit_done(self, visit: Visit, now: float) -> None:
        visit.fetches += visit._embeds
        visit._embeds = []
        visit.record = summary(visit)
        self.visits.append(visit)
        self._out.append(VisitDone(visit))

    # -- one fetch ------------------------------------------------------------------------

    def _fetch(self, n: int, url: str, method: str, body: bytes, kind: str, now: float,
               then: Callable, noted: bool = True) -> None:
        """One resource: from the cache if fresh, else over the network (conditionally if
        the cache holds a stale copy); ``then(fetch, now)`` when it is done, noted in the
        trace unless the caller notes it once it has decided what the answer means."""
        fetch = Fetch(n, url, method, now, kind)
        fetch._request_body = body
        fetch._next = then if not noted else (lambda f, now: then(self._noted(f), now))
        try:
            host, port, path = parse_url(url)
        except UrlError as exc:
            # A link or a Location the browser cannot follow (mailto:, ftp://, no host):
            # that fetch fails, as Chrome's does, and the page goes on.
            fetch.error = f"net::ERR_{'UNKNOWN_URL_SCHEME' if exc.scheme else 'INVALID_URL'} ({exc})"
            return self._finish(fetch, now)
        fetch._host, fetch._path = host, path
        fetch._request_headers = self._request_headers(host, path, now)
        cached = (self.cache.lookup(method, url, now, fetch._request_headers)
                  if self.cache else None)
        fetch._cached = cached
        fetch.why = cached.why if cached else ""
        if cached is not None and cached.state == "fresh":
            stored = cached.stored
            fetch.source, fetch.status, fetch.reason = "cache", stored.status, stored.reason
            fetch.headers, fetch.body = stored.headers, stored.body
            fetch.body_bytes, fetch.done_at = len(stored.body), now
            return self._finish(fetch, now)
        address = self.addresses.get(host)
        if address is not None:
            return self._send(fetch, address, port, now)

        def resolved(address, error: str | None, at: float) -> None:
            if at > now:
                fetch.dns = (now, at)
            if error:
                fetch.error = f"net::ERR_NAME_NOT_RESOLVED ({error})"
                return self._finish(fetch, at)
            self._send(fetch, address, port, at)

        self._resolve(host, now, resolved)

    def _request_headers(self, host: str, path: str, now: float) -> list[tuple[str, str]]:
        """What a request for ``path`` on ``host`` says of itself at ``now`` (besides the
        cache's validators): what the cache compares for ``Vary`` (RFC 9111 §4.1)."""
        headers = [("User-Agent", USER_AGENT), ("Accept", ACCEPT)]
        cookie = self.jar.header(host, path, now)
        if cookie:
            headers.append(("Cookie", cookie))
        return headers

    def _send(self, fetch: Fetch, address, port: int, now: float) -> None:
        headers = []
        cached = fetch._cached
        if cached is not None and cached.state == "stale":
            headers += cached.conditional
            fetch.conditional = bool(cached.conditional)
        # The cookies as they are now (a lookup may have taken time).
        fetch._request_headers = self._request_headers(fetch._host, fetch._path, now)
        headers += [(k, v) for k, v in fetch._request_headers if k == "Cookie"]
        body = fetch._request_body
        if body:
            headers.append(("Content-Type", "application/x-www-form-urlencoded"))
        fetch.address = str(address)
        origin = self.origin(fetch._host, address, port, secure=is_https(fetch.url))
        origin.fetch(Request(fetch.method, fetch._path, headers, body), now, tag=fetch)

    def job_done(self, job: Job, now: float) -> None:
        if isinstance(job.tag, _HttpDnsQuery):
            return self._httpdns_answered(job.tag.host, job.exchange, now)
        fetch: Fetch = job.tag
        exchange: Exchange = job.exchange
        fetch.connect, fetch.connection = job.connect, job.connection
        fetch.sent_at, fetch.first_byte_at = exchange.sent_at, exchange.first_byte_at
        fetch.done_at = exchange.done_at or now
        fetch.sent_bytes, fetch.received_bytes = exchange.sent_bytes, exchange.received_bytes
        fetch.head_sent, fetch.head_received = exchange.head_sent, exchange.head_received
        fetch.http_version = exchange.http_version
        if exchange.error or exchange.status is None:
            fetch.error = exchange.error or "no response"
            return self._finish(fetch, now)
        fetch.status, fetch.reason, fetch.headers = exchange.status, exchange.reason, exchange.headers
        fetch.body, fetch.body_bytes = exchange.body, len(exchange.body)
        for value in exchange.header_all("Set-Cookie"):
            self.jar.receive(fetch._host, fetch._path, value, fetch.done_at)
        if self.cache is not None:
            self._cache_answer(fetch, fetch._cached, exchange)
        self._finish(fetch, now)

    def _cache_answer(self, fetch: Fetch, cached, exchange: Exchange) -> None:
        if exchange.status == 304 and cached is not None and cached.stored is not None:
            stored = self.cache.refresh(fetch.url, exchange.headers, exchange.sent_at,
                                        fetch.done_at, fetch._request_headers)
            if stored is not None:          # (not dropped meanwhile by another answer)
                fetch.source, fetch.body = "304", stored.body
                fetch.headers = stored.headers
            return
        if fetch.method not in ("GET", "HEAD") and exchange.status < 400:
            self.cache.invalidate(fetch.url)                 # RFC 9111 §4.4
            return
        self.cache.store(fetch.method, fetch.url, exchange.status, exchange.reason,
                         exchange.headers, exchange.body, exchange.sent_at, fetch.done_at,
                         fetch._request_headers)

    def _finish(self, fetch: Fetch, now: float) -> None:
        then, fetch._next = fetch._next, None
        then(fetch, now)

    def _noted(self, fetch: Fetch) -> Fetch:
        self._out.append(FetchDone(fetch))
        return fetch

    # -- names ----------------------------------------------------------------------------

    def _resolve(self, host: str, now: float, then: Callable) -> None:
        """The host's address: the hosts table, or a lookup (one at a time per name);
        ``then(address, error, now)``."""
        known = self.hosts(host)
        if known is not None:
            self.addresses[host] = known
            return then(known, None, now)
        problem = host_problem(host)
        if problem is not None:
            return then(None, problem, now)
        waiting = self._looking_up.get(host)
        if waiting is not None:
            waiting.append(then)
            return
        self._looking_up[host] = [then]
        if self.httpdns is None:
            self._out.append(Lookup(host))
            return
        # ``GET /d?dn=host`` to the HTTPDNS server, by address: no DNS before it.
        origin = self.origin(str(self.httpdns), self.httpdns, PORT)
        origin.fetch(Request("GET", f"/d?dn={host}"), now, tag=_HttpDnsQuery(host))

    def resolved(self, host: str, addresses: list, error: str | None, now: float) -> None:
        """The resolver's answer for ``host``: addresses (first is used) or an error
        (what getaddrinfo would say)."""
        if not error and not addresses:
            error = "no address"
        waiting = self._looking_up.pop(host, [])
        if not error:
            self.addresses[host] = addresses[0]
        for then in waiting:
            then(None if error else addresses[0], error, now)

    def _httpdns_answered(self, host: str, exchange: Exchange, now: float) -> None:
        if exchange.error or exchange.status != 200:
            return self.resolved(host, [], f"HTTPDNS: {exchange.error or exchange.status}", now)
        ips = [ipaddress.IPv4Address(ip) for ip in
               parse_httpdns_answer(exchange.body, exchange.header("Content-Type"))[0]]
        self.resolved(host, ips, None if ips else "HTTPDNS: no address", now)


# -- what a visit comes to -------------------------------------------------------------------

def final(fetches: list[Fetch]) -> Fetch:
    """The document that ended the redirect chain."""
    chain = [f for f in fetches if f.kind in ("document", "redirect")]
    return chain[-1] if chain else fetches[-1]


def summary(visit: Visit) -> dict:
    """A visit's record: its load time, requests, bytes, cache use, objects."""
    fetches, start = visit.fetches, visit.start
    end = max([start] + [f.done_at or start for f in fetches])
    on_wire = [f for f in fetches if f.source != "cache" and f.sent_at is not None]
    cache = {"fresh": sum(f.source == "cache" for f in fetches),
             "revalidated_304": sum(f.source == "304" for f in fetches),
             "changed_200": sum(f.source == "network" and f.conditional for f in fetches),
             "miss": sum(f.source == "network" and not f.conditional and f.method == "GET"
                         for f in fetches)}
    document = final(fetches) if fetches else None
    failed = [f for f in fetches if f.error]
    record = {
        "visit": visit.number, "at": round(start, 6), "url": visit.url,
        "status": document.status if document else None,
        "load_time_s": round(end - start, 6),
        "requests": len(on_wire),
        "connections_opened": sum(1 for f in on_wire if f.connect is not None),
        # The first connection's handshake (TCP and TLS, or QUIC's): what a protocol's
        # load time owes to round trips before the first request, not to the transfer.
        "handshake_s": round(next((f.connect[1] - f.connect[0] for f in on_wire
                                   if f.connect is not None), 0.0), 6),
        "bytes_sent": sum(f.sent_bytes for f in on_wire),
        "bytes_received": sum(f.received_bytes for f in on_wire),
        # The header sections alone: HTTP/1.x's text, or HTTP/2's HPACK blocks — the
        # saving of header compression, page against page.
        "header_bytes": {"sent": sum(f.head_sent for f in on_wire),
                         "received": sum(f.head_received for f in on_wire)},
        "http_versions": sorted({f.http_version for f in on_wire if f.http_version}),
        "cache": cache,
        "redirects": sum(f.kind == "redirect" for f in fetches),
        "objects": [{"url": f.url, "method": f.method, "status": f.status, "from": f.source,
                     "time_s": round((f.done_at or start) - f.queued_at, 6),
                     **({"error": f.error} if f.error else {})} for f in fetches],
    }
    if document is not None and document.body and is_html(document.header("Content-Type")):
        record["page_text"] = page_text(document.body)
    if document is not None and document.error:
        record["error"] = document.error
    elif failed:
        record["error"] = f"{len(failed)} object(s) failed: {failed[0].url}: {failed[0].error}"
    return record


def kind_of_object(url: str) -> str:
    """What a referenced object is, by its path's ending (for the waterfall's colours)."""
    path = path_of(url)
    for suffix, kind in ((".css", "stylesheet"), (".js", "script")):
        if path.endswith(suffix):
            return kind
    return "image" if path.rsplit(".", 1)[-1] in ("png", "jpg", "jpeg", "gif", "svg", "webp",
                                                   "ico") else "other"
