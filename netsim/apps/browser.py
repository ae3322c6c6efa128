"""``browser``: a web browser loading a page and what it references, the way browsers do.

Each visit resolves the page's host (the browser remembers answers for the rest of the
run, as its DNS cache does), asks its HTTP cache (RFC 9111: a fresh copy is used with no
traffic, a stale one is revalidated and a ``304`` refreshes it), sends the cookies its jar
holds for the URL (RFC 6265), follows redirects by RFC 9110's method rules, reads the
HTML for stylesheets, scripts and images and fetches them all — over HTTP/1.1 on up to
``connections`` persistent connections per host (optionally pipelined), or over
HTTP/1.0 with a connection per request. Every fetch goes into the trace as an
``http-fetch`` note with its phases (queued, DNS, connect, send, wait, receive), which
the waterfall chart draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from netsim.apps.base import App
from netsim.apps.http import PORT, host_header, parse_url
from netsim.apps.http_pool import Origin
from netsim.apps.names import hosts_entry, lookup
from netsim.proto.http.cache import HttpCache
from netsim.proto.http.client import Exchange, Request
from netsim.proto.http.cookies import CookieJar
from netsim.proto.http.httpdns import read_answer
from netsim.proto.http.page import is_html, page_text, references
from netsim.proto.http.redirects import MAX_REDIRECTS, REDIRECTS, location, redirected
from netsim.units import parse_time
from netsim.wire.addr import int_to_ip, ip_to_int

USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) netsim-browser/1.0"
ACCEPT = "text/html,application/xhtml+xml,*/*;q=0.8"


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
    body_bytes: int = 0
    connection: int | None = None
    address: str | None = None              # the server it went to
    why: str = ""                           # the cache's reason, for the output
    then: str = ""                          # a redirect: the request it leads to
    error: str | None = None
    headers: list = field(default_factory=list, repr=False)
    body: bytes = field(default=b"", repr=False)

    def note(self) -> dict:
        # "kind" is the trace row's own key: the note calls it "role".
        d = {k: getattr(self, k) for k in (
            "visit", "url", "method", "source", "conditional", "status", "queued_at", "dns", "connect",
            "sent_at", "first_byte_at", "done_at", "sent_bytes", "received_bytes", "body_bytes",
            "connection", "address", "error")}
        d["role"] = self.kind
        return d


class Browser(App):
    """A browser: a page and its objects, with a cache, a cookie jar and redirects."""

    name = "browser"
    SCHEMA = {
        "url": {"$ref": "#/$defs/http_url", "description": "the page: http://host[:port]/path"},
        "version": {"enum": ["1.0", "1.1"], "default": "1.1", "description": "HTTP version"},
        "connections": {"type": "integer", "minimum": 1, "maximum": 64, "default": 6,
                        "description": "connections per host at once"},
        "pipeline": {"type": "boolean", "default": False,
                     "description": "HTTP/1.1 pipelining: more requests on a busy connection"},
        "visits": {"type": "array", "minItems": 1, "items": {"anyOf": [
                       {"$ref": "#/$defs/time"},
                       {"type": "object", "additionalProperties": False, "required": ["at"],
                        "properties": {"at": {"$ref": "#/$defs/time"},
                                       "url": {"$ref": "#/$defs/http_url"},
                                       "method": {"enum": ["GET", "POST"]},
                                       "body": {"type": "string"}}}]},
                   "description": "when to load the page (default: at); an entry may name "
                                  "another url, or POST a form: {at: 5s, url: …, method: POST, "
                                  "body: 'user=alice'}"},
        "method": {"enum": ["GET", "POST"], "default": "GET",
                   "description": "POST: the visits submit a form (body) to the URL"},
        "body": {"type": "string", "description": "the form's body (POST)"},
        "cache": {"type": "boolean", "default": True, "description": "use the HTTP cache"},
        "httpdns": {"type": "string",
                    "description": "resolve names by HTTPDNS at this address, not by DNS"},
    }
    REQUIRED = ["url"]
    EXAMPLE = {"node": "alice", "run": "browser", "url": "http://www.example.com/index.html",
               "visits": ["1s", "30s"]}

    def __init__(self, node, *, url: str, version: str = "1.1", connections: int = 6,
                 pipeline: bool = False, visits: list | None = None, method: str = "GET",
                 body: str | None = None, cache: bool = True, httpdns: str | None = None,
                 at: float = 0.0) -> None:
        plan = []
        for visit in visits or [at]:
            if isinstance(visit, dict):              # its own page: GET unless it says
                plan.append({"at": parse_time(visit["at"]), "url": visit.get("url", url),
                             "method": visit.get("method", "GET"),
                             "body": visit.get("body", "").encode()})
            else:
                plan.append({"at": parse_time(visit), "url": url, "method": method,
                             "body": (body or "").encode()})
        for visit in plan:
            parse_url(visit["url"])                        # a bad URL fails before the run
        self.plan = sorted(plan, key=lambda v: v["at"])
        super().__init__(node, at=self.plan[0]["at"])
        self.url, self.version, self.limit, self.pipeline = url, version, connections, pipeline
        self.cache = HttpCache() if cache else None
        self.jar = CookieJar()
        self.addresses: dict[str, int] = {}               # the browser's DNS cache
        self._looking_up: dict[str, object] = {}
        self.origins: dict[tuple[str, int], Origin] = {}
        self.httpdns = ip_to_int(httpdns) if httpdns else None
        self._connection_count = 0
        self.visits: list[dict] = []

    def start(self) -> None:
        for n, visit in enumerate(self.plan, 1):
            self.network.at(visit["at"], lambda n=n: self.env.process(self._visit(n)))

    # -- a visit --------------------------------------------------------------------------

    def _visit(self, n: int):
        start = self.env.now
        plan = self.plan[n - 1]
        url, method = plan["url"], plan["method"]
        self.say(f"visit {n} at {start:g} s: {method} {url}")
        fetches: list[Fetch] = []
        document = yield from self._navigate(n, url, method, plan["body"], fetches)
        if document.error is None and document.status is not None and \
                is_html(_header(document.headers, "Content-Type")):
            base = document.url
            wanted = [location(base, ref) for ref in references(document.body)]
            jobs = [self.env.process(self._fetch(n, url, "GET", b"", _kind(url)))
                    for url in wanted]
            for job in jobs:
                fetches.append((yield job))
        self._report(n, url, start, fetches)

    def _navigate(self, n: int, url: str, method: str, body: bytes, fetches: list):
        """The document, following redirects by RFC 9110 §15.4's rules."""
        for hop in range(MAX_REDIRECTS + 1):
            fetch = yield from self._fetch(n, url, method, body, "document" if hop == 0 else "redirect",
                                           noted=False)
            fetches.append(fetch)
            target = _header(fetch.headers, "Location")
            if fetch.error or fetch.status not in REDIRECTS or target is None:
                return self._done(fetch)
            if hop == MAX_REDIRECTS:
                fetch.error = f"net::ERR_TOO_MANY_REDIRECTS (more than {MAX_REDIRECTS})"
                return self._done(fetch)
            url = location(url, target)
            method, body = redirected(fetch.status, method, body)
            fetch.then = f"{method} {url}"
            self._done(fetch)

    def _fetch(self, n: int, url: str, method: str, body: bytes, kind: str, noted: bool = True):
        """One resource: from the cache if fresh, else over the network (conditionally if
        the cache holds a stale copy). Returns its :class:`Fetch`, noted in the trace
        unless the caller will note it once it has decided what the answer means."""
        fetch = yield from self._get(n, url, method, body, kind)
        return self._done(fetch) if noted else fetch

    def _get(self, n: int, url: str, method: str, body: bytes, kind: str):
        now = self.env.now
        fetch = Fetch(n, url, method, now, kind)
        try:
            host, port, path = parse_url(url)
        except ValueError as exc:
            # A link or a Location the browser cannot follow (mailto:, ftp://, no host):
            # that fetch fails, as Chrome's does, and the page goes on.
            kind_of_error = "INVALID_URL" if url.startswith("http://") else "UNKNOWN_URL_SCHEME"
            fetch.error = f"net::ERR_{kind_of_error} ({exc})"
            return fetch
        cached = self.cache.lookup(method, url, now) if self.cache else None
        fetch.why = cached.why if cached else ""
        if cached is not None and cached.state == "fresh":
            stored = cached.stored
            fetch.source, fetch.status, fetch.reason = "cache", stored.status, stored.reason
            fetch.headers, fetch.body = stored.headers, stored.body
            fetch.body_bytes, fetch.done_at = len(stored.body), now
            return fetch
        address = self.addresses.get(host)
        if address is None:
            started = self.env.now
            address, error = yield from self._resolve(host)
            if self.env.now > started:
                fetch.dns = (started, self.env.now)
            if error:
                fetch.error = f"net::ERR_NAME_NOT_RESOLVED ({error})"
                return fetch
        headers = []
        if cached is not None and cached.state == "stale":
            headers += cached.conditional
            fetch.conditional = bool(cached.conditional)
        cookie = self.jar.header(host, path, now)
        if cookie:
            headers.append(("Cookie", cookie))
        if body:
            headers.append(("Content-Type", "application/x-www-form-urlencoded"))
        fetch.address = int_to_ip(address)
        origin = self._origin(host, address, port)
        job = origin.fetch(Request(method, path, headers, body), now)
        exchange: Exchange = yield job.done
        fetch.connect, fetch.connection = job.connect, job.connection
        fetch.sent_at, fetch.first_byte_at = exchange.sent_at, exchange.first_byte_at
        fetch.done_at = exchange.done_at or self.env.now
        fetch.sent_bytes, fetch.received_bytes = exchange.sent_bytes, exchange.received_bytes
        if exchange.error or exchange.status is None:
            fetch.error = exchange.error or "no response"
            return fetch
        fetch.status, fetch.reason, fetch.headers = exchange.status, exchange.reason, exchange.headers
        fetch.body, fetch.body_bytes = exchange.body, len(exchange.body)
        for value in exchange.header_all("Set-Cookie"):
            self.jar.receive(host, path, value, fetch.done_at)
        if self.cache is not None:
            self._cache_answer(fetch, cached, exchange)
        return fetch

    def _cache_answer(self, fetch: Fetch, cached, exchange: Exchange) -> None:
        if exchange.status == 304 and cached is not None and cached.stored is not None:
            stored = self.cache.refresh(fetch.url, exchange.headers, exchange.sent_at, fetch.done_at)
            fetch.source, fetch.body = "304", stored.body
            fetch.headers = stored.headers
            return
        if fetch.method not in ("GET", "HEAD") and exchange.status < 400:
            self.cache.invalidate(fetch.url)                 # RFC 9111 §4.4
            return
        self.cache.store(fetch.method, fetch.url, exchange.status, exchange.reason,
                         exchange.headers, exchange.body, exchange.sent_at, fetch.done_at)

    def _done(self, fetch: Fetch) -> Fetch:
        self.node.trace.note(self.env.now, self.node.name, "http-fetch", **fetch.note())
        return fetch

    def _resolve(self, host: str):
        """The host's address: the hosts table, or a DNS lookup (one at a time per name)."""
        known = hosts_entry(self.network, host)
        if known is not None:
            self.addresses[host] = known
            return known, None
        pending = self._looking_up.get(host)
        if pending is None:
            pending = self._looking_up[host] = (
                self.env.process(self._ask_httpdns(host)) if self.httpdns is not None
                else lookup(self.node, host))
        answer = yield pending
        self._looking_up.pop(host, None)
        if answer.error:
            return None, answer.error
        self.addresses[host] = ip_to_int(answer.addresses[0])
        return self.addresses[host], None

    def _ask_httpdns(self, host: str):
        """``GET /d?dn=host`` to the HTTPDNS server: an answer like the stub resolver's."""
        origin = self._origin(int_to_ip(self.httpdns), self.httpdns, PORT)
        job = origin.fetch(Request("GET", f"/d?dn={host}"), self.env.now)
        exchange: Exchange = yield job.done
        if exchange.error or exchange.status != 200:
            return _Answer([], f"HTTPDNS: {exchange.error or exchange.status}")
        ips, _ttl = read_answer(exchange.body, exchange.header("Content-Type"))
        return _Answer(ips, None if ips else "HTTPDNS: no address")

    def _origin(self, host: str, address: int, port: int) -> Origin:
        origin = self.origins.get((host, port))
        if origin is None:
            origin = self.origins[(host, port)] = Origin(
                self.node, host_header(host, port), address, port,
                version=self.version, limit=self.limit, pipeline=self.pipeline,
                user_agent=USER_AGENT, accept=ACCEPT, numbering=self._next_connection)
        return origin

    def _next_connection(self) -> int:
        self._connection_count += 1
        return self._connection_count

    # -- what it says ---------------------------------------------------------------------

    def _report(self, n: int, url: str, start: float, fetches: list[Fetch]) -> None:
        end = max([start] + [f.done_at or start for f in fetches])
        on_wire = [f for f in fetches if f.source != "cache" and f.sent_at is not None]
        for f in fetches:
            self.say("  " + _row(f, start))
        cache = {"fresh": sum(f.source == "cache" for f in fetches),
                 "revalidated_304": sum(f.source == "304" for f in fetches),
                 "changed_200": sum(f.source == "network" and f.conditional for f in fetches),
                 "miss": sum(f.source == "network" and not f.conditional and f.method == "GET"
                             for f in fetches)}
        document = _final(fetches) if fetches else None
        failed = [f for f in fetches if f.error]
        visit = {
            "visit": n, "at": round(start, 6), "url": url,
            "status": _final(fetches).status if fetches else None,
            "load_time_s": round(end - start, 6),
            "requests": len(on_wire),
            "connections_opened": sum(1 for f in on_wire if f.connect is not None),
            "bytes_sent": sum(f.sent_bytes for f in on_wire),
            "bytes_received": sum(f.received_bytes for f in on_wire),
            "cache": cache,
            "redirects": sum(f.kind == "redirect" for f in fetches),
            "objects": [{"url": f.url, "method": f.method, "status": f.status, "from": f.source,
                         "time_s": round((f.done_at or start) - f.queued_at, 6),
                         **({"error": f.error} if f.error else {})} for f in fetches],
        }
        if document is not None and document.body and is_html(_header(document.headers, "Content-Type")):
            visit["page_text"] = page_text(document.body)
            self.say(f'  page: "{visit["page_text"]}"')
        if document is not None and document.error:
            visit["error"] = document.error
            self.error = document.error
        elif failed:
            visit["error"] = f"{len(failed)} object(s) failed: {failed[0].url}: {failed[0].error}"
        self.visits.append(visit)
        self.node.trace.note(self.env.now, self.node.name, "http-visit", visit=n, at=start,
                             url=url, version=self.version, pipeline=self.pipeline,
                             load_time=visit["load_time_s"], requests=visit["requests"],
                             error=visit.get("error"))
        self.say(f"  loaded in {(end - start) * 1000:.1f} ms: {visit['requests']} requests, "
                 f"{visit['bytes_received']:,} B received, {cache['fresh']} from cache, "
                 f"{cache['revalidated_304']} revalidated (304), {cache['changed_200']} changed (200), "
                 f"{visit['redirects']} redirects"
                 + (f"; FAILED: {visit['error']}" if "error" in visit else ""))

    @property
    def done(self) -> bool:
        return len(self.visits) == len(self.plan)

    def progress(self) -> str:
        return f"{len(self.visits)} of {len(self.plan)} visits loaded"

    def result(self) -> dict:
        return {"url": self.url, "version": self.version, "visits": self.visits,
                "cookies": sorted(f"{c.name}@{c.domain}{c.path}" for c in self.jar.cookies.values())}


@dataclass
class _Answer:
    addresses: list[str]
    error: str | None


def _final(fetches: list[Fetch]) -> Fetch:
    """The document that ended the redirect chain."""
    chain = [f for f in fetches if f.kind in ("document", "redirect")]
    return chain[-1] if chain else fetches[-1]


def _header(headers, name: str) -> str | None:
    name = name.lower()
    return next((v for k, v in headers if k.lower() == name), None)


def _kind(url: str) -> str:
    path = urlsplit(url).path
    for suffix, kind in ((".css", "stylesheet"), (".js", "script")):
        if path.endswith(suffix):
            return kind
    return "image" if path.rsplit(".", 1)[-1] in ("png", "jpg", "jpeg", "gif", "svg", "webp",
                                                   "ico") else "other"


def _row(f: Fetch, start: float) -> str:
    # A path for what went to the server; the whole URL for one it could not follow.
    path = urlsplit(f.url).path or "/" if f.url.startswith("http://") else f.url
    if f.error:
        status = f"{f.status} {f.reason}  " if f.status is not None else ""
        return f"{f.method} {path}  {status}FAILED: {f.error}"
    if f.source == "cache":
        return f"{f.method} {path}  {f.status} (from cache: {f.why})"
    took = ((f.done_at or start) - f.queued_at) * 1000
    extra = (" (304: not modified, cached copy used)" if f.source == "304"
             else " (revalidated: changed)" if f.conditional
             else f" → {f.then}" if f.then else "")
    return (f"{f.method} {path}  {f.status} {f.reason}  {f.received_bytes:,} B  "
            f"{took:.1f} ms  conn #{f.connection} to {f.address}{extra}")
