"""``browser``: a web browser loading a page and what it references, the way browsers do.

The navigation — visits, the cache, cookies, redirects, the objects a page references,
connections per HTTP version, HTTPDNS — is the sans-I/O engine of
:mod:`netsim.proto.http.navigation`; this app runs it on its node (connections through
the runtime, names through the node's resolver) and prints each visit as a network
panel. Every fetch goes into the trace as an ``http-fetch`` note with its phases
(queued, DNS, connect, send, wait, receive), which the waterfall chart draws.
"""

from __future__ import annotations

import ipaddress

from netsim.apps.base import App
from netsim.apps.http_pool import PoolDriver
from netsim.apps.tls import TLS_SCHEMA, handshake_timing, tls_options
from netsim.apps.names import hosts_entry, lookup
from netsim.proto.http.navigation import (FetchDone, Lookup, Navigator, Visit, VisitDone,
                                          VisitStarted, final)
from netsim.proto.http.url import UrlError, parse_url, path_of
from netsim.units import parse_time


class Browser(App):
    """A browser: a page and its objects, with a cache, a cookie jar and redirects."""

    name = "browser"
    SCHEMA = {
        "url": {"$ref": "#/$defs/http_url", "description": "the page: http://host[:port]/path"},
        "version": {"enum": ["1.0", "1.1", "2", "3"], "default": "1.1",
                    "description": "HTTP version: 1.0, 1.1, 2 (one connection per origin, "
                                   "the page's objects as concurrent streams; over https by "
                                   "ALPN h2 — and HTTP/3 from then on where an answer's "
                                   "Alt-Svc offers it —, over http with prior knowledge, "
                                   "h2c) or 3 (https over QUIC on UDP at once; HTTP/2 if "
                                   "QUIC fails)"},
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
        "tls": {**TLS_SCHEMA, "description": "for https:// URLs: {version, alpn, verify} "
                                             "(it trusts the scenario's CA)"},
    }
    REQUIRED = ["url"]
    EXAMPLE = {"node": "alice", "run": "browser", "url": "http://www.example.com/index.html",
               "visits": ["1s", "30s"]}

    def __init__(self, node, *, url: str, version: str = "1.1", connections: int = 6,
                 pipeline: bool = False, visits: list | None = None, method: str = "GET",
                 body: str | None = None, cache: bool = True, httpdns: str | None = None,
                 tls: dict | bool | None = None, at: float = 0.0) -> None:
        plan = []
        for visit in visits or [at]:
            if isinstance(visit, dict):              # its own page: GET unless it says
                plan.append((parse_time(visit["at"]), visit.get("url", url),
                             visit.get("method", "GET"), visit.get("body", "").encode()))
            else:
                plan.append((parse_time(visit), url, method, (body or "").encode()))
        for _at, page, _method, _body in plan:
            parse_url(page)                                 # a bad URL fails before the run
        plan.sort(key=lambda v: v[0])
        super().__init__(node, at=plan[0][0])
        self.url, self.version, self.pipeline = url, version, pipeline
        self.engine = Navigator(
            [Visit(n, *v) for n, v in enumerate(plan, 1)], version=version, limit=connections,
            pipeline=pipeline, cache=cache,
            httpdns=ipaddress.IPv4Address(httpdns) if httpdns else None,
            hosts=self._hosts_entry)
        #: Each TLS handshake: where, when, what it agreed (the summary's ``tls``).
        self.handshakes: list[dict] = []
        self.runner = PoolDriver(self, self.engine, self._output, self._failed,
                                 tls=tls_options(tls), handshake=self._handshake)

    def start(self) -> None:
        self.runner.kick()                  # arms the first visit's time

    def _hosts_entry(self, name: str):
        address = hosts_entry(self.network, name)
        return ipaddress.IPv4Address(address) if address is not None else None

    def _output(self, out) -> None:
        kind = type(out)
        if kind is FetchDone:
            self.node.trace.note(self.env.now, self.node.name, "http-fetch", **out.fetch.note())
        elif kind is Lookup:
            host = out.host
            lookup(self.node, host).callbacks.append(
                lambda event: self.runner.call(self._resolved, host, event.value))
        elif kind is VisitStarted:
            visit = out.visit
            self.say(f"visit {visit.number} at {visit.start:g} s: {visit.method} {visit.url}")
        elif kind is VisitDone:
            self._report(out.visit)

    def _handshake(self, connection, driver) -> None:
        if connection.http.version == "3":
            return self._quic_handshake(connection, driver)
        info = driver.layer.info()
        record = {"t": round(self.env.now, 6), "host": connection.origin.server_name,
                  "connection": connection.number, **info.as_dict(),
                  **handshake_timing(driver)}
        self.handshakes.append(record)
        resumed = ", resumed" if info.resumed else ""
        self.say(f"  TLS: {info.version} {info.cipher} with {record['host']}"
                 f"{f', ALPN {info.alpn}' if info.alpn else ''}{resumed}: handshake "
                 f"{record['handshake_ms']:.1f} ms = {record['handshake_rtts']:g} RTT "
                 f"after TCP's")

    def _quic_handshake(self, connection, driver) -> None:
        http = connection.http
        done = http.handshake
        took = (done.at - driver.connect_at) * 1000
        rtt = http.quic._loss._rtt_min if http.quic._loss._rtt_initialized else None
        record = {"t": round(self.env.now, 6), "host": connection.origin.server_name,
                  "connection": connection.number, "version": "TLSv1.3", "transport": "QUIC",
                  "alpn": done.alpn, "resumed": done.resumed, "early_data": done.early_data,
                  "handshake_ms": round(took, 3),
                  "handshake_rtts": round(took / 1000 / rtt, 1) if rtt else None}
        self.handshakes.append(record)
        how = ", resumed" if done.resumed else ""
        how += ", 0-RTT: the requests went with the ClientHello" if done.early_data else ""
        rtts = f" = {record['handshake_rtts']:g} RTT" if rtt else ""
        self.say(f"  QUIC: TLSv1.3 inside QUIC with {record['host']} (UDP {http.address[1]}), "
                 f"ALPN {done.alpn}{how}: handshake {took:.1f} ms{rtts}")

    def _resolved(self, host: str, answer) -> None:
        addresses = [ipaddress.IPv4Address(a) for a in answer.addresses] if not answer.error else []
        self.engine.resolved(host, addresses, answer.error, self.env.now)

    def _failed(self, message: str) -> None:
        self.error = message
        self.say(f"{self.name}: {message}")

    # -- what it says ---------------------------------------------------------------------

    def _report(self, visit: Visit) -> None:
        record, start, fetches = visit.record, visit.start, visit.fetches
        for f in fetches:
            self.say("  " + _row(f, start))
        if "page_text" in record:
            self.say(f'  page: "{record["page_text"]}"')
        document = final(fetches) if fetches else None
        if document is not None and document.error:
            self.error = document.error
        self.node.trace.note(self.env.now, self.node.name, "http-visit", visit=visit.number,
                             at=start, url=visit.url, version=self.version,
                             pipeline=self.pipeline, load_time=record["load_time_s"],
                             requests=record["requests"], error=record.get("error"))
        cache = record["cache"]
        self.say(f"  loaded in {record['load_time_s'] * 1000:.1f} ms: {record['requests']} requests, "
                 f"{record['bytes_received']:,} B received, {cache['fresh']} from cache, "
                 f"{cache['revalidated_304']} revalidated (304), {cache['changed_200']} changed (200), "
                 f"{record['redirects']} redirects"
                 + (f"; FAILED: {record['error']}" if "error" in record else ""))
        if self.version in ("2", "3") and record["requests"]:
            compression = "HPACK" if record["http_versions"] != ["3"] else "QPACK"
            heads = record["header_bytes"]
            self.say(f"  header sections on the wire ({compression}): {heads['sent']:,} B sent, "
                     f"{heads['received']:,} B received over {', '.join(f'HTTP/{v}' for v in record['http_versions'])}")

    @property
    def visits(self) -> list[dict]:
        return [v.record for v in self.engine.visits]

    @property
    def jar(self):
        return self.engine.jar

    @property
    def done(self) -> bool:
        return self.engine.done

    def progress(self) -> str:
        return f"{len(self.engine.visits)} of {len(self.engine.plan)} visits loaded"

    def result(self) -> dict:
        out = {"url": self.url, "version": self.version, "visits": self.visits,
               "cookies": sorted(f"{c.name}@{c.domain}{c.path}" for c in self.jar.cookies.values())}
        if self.handshakes:
            out["tls"] = self.handshakes
        first = self.visits[0] if self.visits else None
        if first is not None:
            # The first visit's figures as numbers of their own (a sweep's table columns).
            out["load_time_s"] = first["load_time_s"]
            out["handshake_s"] = first["handshake_s"]
            out["after_handshake_s"] = round(first["load_time_s"] - first["handshake_s"], 6)
            out["failed"] = int("error" in first)
        return out


def _row(f, start: float) -> str:
    # A path for what went to the server; the whole URL for one it could not follow.
    try:
        parse_url(f.url)
        path = path_of(f.url)
    except UrlError:
        path = f.url
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
