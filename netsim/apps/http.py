"""The web over HTTP/1.x and HTTP/2, first part: ``http-server`` (virtual hosts with
resources, validators, caching headers, redirects and error routes; keep-alive and
pipelining; HTTP/2 by ALPN ``h2`` over TLS or with prior knowledge in cleartext, as
nginx's ``http2 on``) and ``http-get`` (one request, printed as ``curl -v`` prints it),
on TCP port 80.
"""

from __future__ import annotations

import hashlib

from netsim.apps.base import App
from netsim.apps.tls import TLS_SCHEMA, tls_options, tls_world
from netsim.proto.http import Answered, HttpServerConnection, Site, resource_from_spec
from netsim.proto.http.client import HttpClientConnection, Request
from netsim.proto.http.h2server import Http2ServerConnection
from netsim.proto.http.negotiate import ServerByPreface
from netsim.proto.http.url import PORT, TLS_PORT, host_header, is_https, parse_url
from netsim.proto.stream import StreamEngine
from netsim.sim.datagrams import DatagramDriver
from netsim.sim.runtime import StreamDriver, serve
from netsim.units import parse_size, parse_time
from netsim.wire.addr import int_to_ip


_RESOURCE = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "body": {"anyOf": [{"$ref": "#/$defs/size"}, {"type": "string"}],
                 "description": "a size ('4KiB': deterministic text) or the text itself"},
        "type": {"$ref": "#/$defs/header_value", "description": "Content-Type (text/html)"},
        "status": {"enum": [200, 400, 403, 404, 500, 503],
                   "description": "answer with this status on purpose"},
        "redirect": {"enum": [301, 302, 303, 307, 308], "description": "a redirect, to 'to'"},
        "to": {"$ref": "#/$defs/url_ref", "description": "where a redirect points (Location)"},
        "cache_control": {"$ref": "#/$defs/header_value", "description": "Cache-Control: 'max-age=60', 'no-cache'"},
        "expires": {"$ref": "#/$defs/time", "description": "Expires: this long after the response"},
        "etag": {"enum": ["auto", "none"], "description": "auto: an ETag from the body's hash"},
        "last_modified": {"$ref": "#/$defs/time", "description": "Last-Modified (simulated time)"},
        "changes_at": {"type": "array", "items": {"$ref": "#/$defs/time"},
                       "description": "times the content changes (a new version)"},
        "chunked": {"type": "boolean", "description": "send with Transfer-Encoding: chunked"},
        "methods": {"type": "array", "items": {"$ref": "#/$defs/token"},
                    "description": "methods allowed (GET, HEAD); others get 405 with Allow"},
        "embeds": {"type": "array", "items": {"$ref": "#/$defs/url_ref"},
                   "description": "objects the page references (HTML that a browser reads)"},
        "session": {"enum": ["login", "required"],
                    "description": "login: hands out a session cookie; required: 403 without one"}}}


class HttpService(App):
    """What every HTTP server app shares: a listener, one engine per TCP connection
    driven by the runtime (:func:`~netsim.sim.runtime.serve`), and an access log.

    Subclasses give ``handlers`` (Host → an object with ``respond(method, target,
    headers, now, body)``, ``*`` for any host). A subclass with an engine of its own
    (WebSocket) overrides :meth:`make_engine` and, for that engine's outputs,
    :meth:`engine_output`, leaving :class:`~netsim.proto.http.Answered` outputs to
    this class (the access log)."""

    SERVICE = True
    BINDS = ("tcp", PORT)
    handlers: dict

    #: ALPN protocols this server speaks over TLS (RFC 7301), in its order of preference:
    #: HTTP/2 first, as nginx with ``http2 on`` offers it.
    ALPN: tuple[str, ...] = ("h2", "http/1.1")

    @classmethod
    def port_of(cls, args: dict) -> int:
        return args.get("port", TLS_PORT if tls_options(args.get("tls")) is not None else PORT)

    def __init__(self, node, *, port: int | None = None, keep_alive: float = 5.0,
                 tls: dict | bool | None = None, at: float = 0.0) -> None:
        super().__init__(node, at=at)
        self.tls = tls_options(tls)
        self.port = port if port is not None else (TLS_PORT if self.tls is not None else PORT)
        self.keep_alive = keep_alive
        self.log: list[dict] = []
        self.connections = 0

    #: Whether it also serves HTTP/3 on UDP (the scenario's ``http3``).
    http3 = False

    def start(self) -> None:
        layer = None
        if self.tls is not None:
            # A certificate for every site it serves (and its node's name and address).
            world = tls_world(self.network)
            names = [host for host in getattr(self, "handlers", {}) if host != "*"]
            layer = world.server_layer(world.server_context(self, names, self.tls,
                                                            alpn=self.ALPN))
            if self.http3:
                self._serve_quic(world, names)
        serve(self, self.port, self._accepted, layer=layer, on_output=self.engine_output)

    def _serve_quic(self, world, names: list[str]) -> None:
        """HTTP/3 on UDP at the same port number, with the same certificate (RFC 9114 §3)."""
        # Imported here: aioquic costs every run 70 ms to import, and few serve QUIC.
        from netsim.proto.http.h3 import SimulatedQlog
        from netsim.proto.http.h3server import Http3Server
        qlog = SimulatedQlog(lambda: self.env.now)
        world.qlogs[f"{self.node.name}-server"] = qlog
        configuration = world.quic_server(self, names, self.tls, qlog=qlog)
        self.quic = Http3Server(self.handlers, configuration,
                                server_name=f"netsim ({self.node.name})")
        DatagramDriver(self, self.quic, on_output=self._quic_output).listen(self.port)

    def _quic_output(self, out) -> None:
        from netsim.proto.http.h3server import AnsweredFrom
        if isinstance(out, AnsweredFrom):
            self.access(out.client[0], out.answered)

    def _accepted(self, sock) -> StreamEngine:
        self.connections += 1
        return self.make_engine(sock)

    def make_engine(self, sock) -> StreamEngine:
        """The engine for one accepted connection: HTTP/2 if the client's first bytes
        are its preface (after ALPN ``h2``, or ``h2c`` with prior knowledge), else
        HTTP/1.x; either with the keep-alive timeout."""
        return ServerByPreface(lambda: self.http1_engine(sock), lambda: self.http2_engine(sock))

    def http1_engine(self, sock) -> HttpServerConnection:
        return HttpServerConnection(self.handlers, server_name=f"netsim ({self.node.name})",
                                    keep_alive=self.keep_alive, alt_svc=self.alt_svc())

    def http2_engine(self, sock) -> Http2ServerConnection:
        return Http2ServerConnection(self.handlers, server_name=f"netsim ({self.node.name})",
                                     keep_alive=self.keep_alive, alt_svc=self.alt_svc())

    def alt_svc(self) -> str | None:
        """The ``Alt-Svc`` this server announces (RFC 7838): HTTP/3 at its port for a
        day, as nginx's ``add_header Alt-Svc 'h3=":443"; ma=86400'``; None without it."""
        if self.http3 and self.tls is not None:
            return f'h3=":{self.port}"; ma=86400'
        return None

    def engine_output(self, driver: StreamDriver, out) -> None:
        """An engine's own output on one connection: an answered request is logged."""
        if isinstance(out, Answered):
            self.access(driver.sock.remote[0], out)

    def access(self, client: str, answered: Answered) -> None:
        """One access-log line: the client, the request line, the status."""
        method, target, version = answered.method, answered.target, answered.version
        self.log.append({"t": round(self.env.now, 6), "client": client, "method": method,
                         "target": target, "version": f"HTTP/{version}",
                         "status": answered.status})
        self.say(f'{client} "{method} {target} HTTP/{version}" {answered.status}')

    def summary_line(self) -> str:
        quic = getattr(self, "quic", None)
        over_quic = f" and {quic.accepted} QUIC connections" if quic is not None else ""
        return f"{self.name}: {len(self.log)} requests on {self.connections} connections{over_quic}"

    def result(self) -> dict:
        out = {"connections": self.connections, "requests": self.log}
        quic = getattr(self, "quic", None)
        if quic is not None:
            out["quic_connections"] = quic.accepted
        return out


_SERVICE_SCHEMA = {
    "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": PORT,
             "description": "TCP port (443 with tls)"},
    "tls": {**TLS_SCHEMA, "description": "serve over TLS (HTTPS): true, or {version, alpn, "
                                         "fault} — a certificate from the scenario's CA"},
    "keep_alive": {"$ref": "#/$defs/interval", "default": "5s",
                   "description": "how long an idle persistent connection is kept open"},
}

_HTTP3_SCHEMA = {
    "http3": {"type": "boolean", "default": False,
              "description": "with tls: also serve HTTP/3 over QUIC on UDP at the same port, "
                             "and announce it (Alt-Svc: h3=\":443\"; ma=86400)"},
}


class HttpServer(HttpService):
    """An HTTP/1.0 and 1.1 server (RFC 9110–9112) for the sites it is given."""

    name = "http-server"
    SCHEMA = {
        # x-key: what `netsim apps` calls the free-form keys (the validator ignores it).
        "sites": {"type": "object", "minProperties": 1, "x-key": "HOST",
                  "additionalProperties": {"type": "object", "additionalProperties": _RESOURCE,
                                           "x-key": "PATH"},
                  "description": "Host name ('*' for any) → path → resource"},
        **_SERVICE_SCHEMA,
        **_HTTP3_SCHEMA,
    }
    REQUIRED = ["sites"]
    EXAMPLE = {"node": "web", "run": "http-server", "sites": {"www.example.com": {
        "/index.html": {"body": "4KiB", "cache_control": "max-age=60", "etag": "auto"},
        "/old": {"redirect": 301, "to": "/index.html"}}}}

    def __init__(self, node, *, sites: dict, port: int | None = None, keep_alive: float = 5.0,
                 tls: dict | bool | None = None, http3: bool = False, at: float = 0.0) -> None:
        super().__init__(node, port=port, keep_alive=keep_alive, tls=tls, at=at)
        self.http3 = http3
        self.handlers = {host: Site(host, {path: resource_from_spec(path, spec, parse_time, parse_size)
                                           for path, spec in resources.items()})
                         for host, resources in sites.items()}


class HttpGet(App):
    """One HTTP request, printed as ``curl -v`` prints it: the connection, the request's
    headers (``>``), the response's (``<``), the body's size."""

    name = "http-get"
    TARGETS = ("host",)
    SCHEMA = {
        "url": {"$ref": "#/$defs/http_url", "description": "http://host[:port]/path or https://…"},
        "method": {"enum": ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"],
                   "default": "GET", "description": "the request method"},
        "headers": {"type": "object", "propertyNames": {"$ref": "#/$defs/token"},
                    "additionalProperties": {"$ref": "#/$defs/header_value"},
                    "description": "extra request headers"},
        "body": {"type": "string", "description": "a request body"},
        "version": {"enum": ["1.0", "1.1"], "default": "1.1", "description": "HTTP version"},
        "max_time": {"$ref": "#/$defs/interval",
                     "description": "give up after this long, as curl --max-time does"},
        "tls": {**TLS_SCHEMA, "description": "for an https:// URL: {version, alpn, verify} "
                                             "(verify: false is curl -k)"},
    }
    REQUIRED = ["url"]
    EXAMPLE = {"node": "alice", "at": "1s", "run": "http-get", "url": "http://web/index.html"}

    def __init__(self, node, *, url: str, method: str = "GET", headers: dict | None = None,
                 body: str | None = None, version: str = "1.1", max_time: float | None = None,
                 tls: dict | bool | None = None, at: float = 0.0) -> None:
        super().__init__(node, at=at)
        self.url, self.max_time = url, max_time
        self.host, self.port, self.path = parse_url(url)
        self.secure = is_https(url)
        self.tls = tls_options(tls) if tls_options(tls) is not None else {}
        self.driver: StreamDriver | None = None
        self.request = Request(method, self.path, list((headers or {}).items()),
                               (body or "").encode())
        self.version = version
        self.engine: HttpClientConnection | None = None
        self._reported = False

    def start(self) -> None:
        _, self.address = self.resolve(self.host)
        self.say(f"*   Trying {int_to_ip(self.address)}:{self.port}...")
        # --max-time counts from the start, the connect included: the engine's timer
        # once connected, the driver's connect timeout before.
        self.engine = HttpClientConnection([self.request],
                                           host=host_header(self.host, self.port, self.secure),
                                           version=self.version, max_time=self.max_time,
                                           since=self.at)
        left = None if self.max_time is None else max(0.0, self.at + self.max_time - self.env.now)
        layer = None
        if self.secure:
            world = tls_world(self.network)
            context = world.client_context(self.tls, alpn=("http/1.1",))
            layer = world.client_layer(context, self, self.host, self.port)
        self.driver = StreamDriver(self, self.engine, layer=layer, on_output=self._output,
                                   on_end=self._ended)
        self.driver.connect(self.address, self.port, timeout=left)

    def name_failed(self, name: str, error: str) -> None:
        # curl -v: "* Could not resolve host: NAME", exit 6 (CURLE_COULDNT_RESOLVE_HOST).
        self.error = f"Could not resolve host: {name}"
        self.say(f"* {self.error}")

    def _output(self, out) -> None:
        from netsim.proto.http.client import Done

        if isinstance(out, Done):
            self._report()               # every answer is in: say so now, not at the FIN

    def _ended(self, driver: StreamDriver) -> None:
        if driver.refused is not None:
            self._refused(driver.refused)
        else:
            self._report(driver.failure)

    def _refused(self, reason: str) -> None:
        if reason == "Network is unreachable":
            self.error = "Failed to connect: Network is unreachable"
        elif reason == "Connection timed out" and self.max_time is not None:
            self.error = f"Connection timed out after {self.max_time * 1000:.0f} milliseconds"
        else:
            self.error = f"Failed to connect to {self.host} port {self.port}: {reason}"
        self.say(f"* {self.error}")

    def _report(self, failure: str | None = None) -> None:
        """What curl -v prints of the exchange, once: the request's head, the response's
        (or why there is none)."""
        if self._reported:
            return
        self._reported = True
        self._sent()
        engine = self.engine
        exchange = engine.exchanges[0]
        if exchange.status is None or exchange.error:
            # curl's error buffer; its exit code is in result() (curl: (8) Weird server reply).
            self.error = exchange.error or failure or engine.error or "no response"
            self.say(f"* {self.error}")
            return
        self.say(f"< HTTP/{exchange.http_version} {exchange.status} {exchange.reason}")
        for name, value in exchange.headers:
            self.say(f"< {name}: {value}")
        self.say("<")
        if exchange.body:
            self.say(f"{{ [{len(exchange.body)} bytes data]")
        self.say(f"* Connection #0 to host {self.host} "
                 + ("closed" if self.version == "1.0" else "left intact"))

    def _sent(self) -> None:
        engine = self.engine
        self.say(f"* Connected to {self.host} ({int_to_ip(self.address)}) port {self.port}")
        if self.secure:
            self._handshake_lines()
        if engine.sent_heads:
            for line in engine.sent_heads[0]:
                self.say(f"> {line}")
            self.say(">")

    def _handshake_lines(self) -> None:
        """What curl -v says of the TLS handshake (lib/vtls/openssl.c), once it is done."""
        layer = self.driver.layer
        self.say("* ALPN: curl offers http/1.1")
        if not layer.ready():
            return                       # refused: the error buffer's line follows
        info = layer.info()
        self.say(f"* SSL connection using {info.version} / {info.cipher}")
        if info.alpn:
            self.say(f"* ALPN: server accepted {info.alpn}")
        cert = layer.peer_certificate()
        if cert:
            self.say("* Server certificate:")
            self.say(f"*  subject: {_dn(cert.get('subject', ()))}")
            self.say(f"*  start date: {cert.get('notBefore')}")
            self.say(f"*  expire date: {cert.get('notAfter')}")
            self.say(f"*  issuer: {_dn(cert.get('issuer', ()))}")
            self.say("*  SSL certificate verify ok.")
        elif not self.tls.get("verify", True):
            self.say("*  SSL certificate verify result: not checked (-k), continuing anyway.")

    def wrap_up(self) -> None:
        # A run that ends with no answer yet: what curl -v had printed by then.
        if not self._reported and self.engine is not None and self.engine.started:
            self._reported = True
            self._sent()
        super().wrap_up()

    @property
    def done(self) -> bool:
        return self.engine is not None and self.engine.finished or self.error is not None

    def result(self) -> dict:
        from netsim.proto.http.failures import curl_exit_code

        e = self.engine.exchanges[0] if self.engine else None
        if e is None and (self.error or "").startswith("Could not resolve host"):
            return {"url": self.url, "status": None, "curl_exit": 6}
        if e is None or e.status is None or e.error:
            return {"url": self.url, "status": e.status if e is not None else None,
                    **({"curl_exit": curl_exit_code(e.failure)} if e is not None and e.failure else {})}
        return {"url": self.url, "status": e.status, "http_version": e.http_version,
                "headers": dict(e.headers), "bytes": len(e.body),
                "sha256": hashlib.sha256(e.body).hexdigest(),
                "time_s": round((e.done_at or self.env.now) - self.at, 6)}


def _dn(name) -> str:
    """``getpeercert()``'s name → curl's ``O=netsim; CN=…``."""
    return "; ".join(f"{_SHORT.get(k, k)}={v}" for rdn in name for k, v in rdn)


_SHORT = {"commonName": "CN", "organizationName": "O", "countryName": "C"}
