"""An HTTP/1.x client connection, sans-I/O, over h11 (RFC 9112).

Requests are handed to it (at construction or later with :meth:`submit`) and go out one
after another — or, with ``pipeline``, as soon as they are handed over, without waiting
for the answers before (RFC 9112 §9.3.2) — and the responses are matched to them in
order. A connection made with ``keep_open`` stays open when it has nothing to do (a
browser's idle persistent connection); otherwise it closes after the last answer.

h11 speaks HTTP/1.1 only; an ``HTTP/1.0`` request is h11's request with its version
rewritten on the wire, which is all an HTTP/1.0 client's request differs in (no
keep-alive, so the server closes after answering and h11 sees the close).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import h11

from netsim.proto.stream import Close, Send


@dataclass
class Request:
    method: str = "GET"
    target: str = "/"
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


@dataclass
class Exchange:
    request: Request
    sent_at: float | None = None
    status: int | None = None
    reason: str = ""
    http_version: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    #: Bytes of the request and of the response (head and body) on the wire.
    sent_bytes: int = 0
    received_bytes: int = 0
    first_byte_at: float | None = None
    done_at: float | None = None
    error: str | None = None

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    def header_all(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]


class HttpClientConnection:
    def __init__(self, requests: list[Request] = (), *, host: str, version: str = "1.1",
                 pipeline: bool = False, keep_open: bool = False,
                 user_agent: str = "curl/8.5.0 (netsim)", accept: str = "*/*") -> None:
        self.host, self.version, self.pipeline = host, version, pipeline
        self.keep_open = keep_open and version == "1.1"
        self.user_agent, self.accept = user_agent, accept
        self.conn = h11.Connection(h11.CLIENT)
        self.exchanges = [Exchange(r) for r in requests]
        self._next = 0                  # the next request to send
        self._current = 0               # the exchange whose response is coming
        self._registered = -1           # the exchange h11's reading side expects
        self._out: list = []
        self.error: str | None = None
        self.finished = False
        self.started = False
        #: What went out, header by header, for a curl -v style print.
        self.sent_heads: list[list[str]] = []

    # -- what the driver calls ----------------------------------------------------------

    def start(self, now: float) -> None:
        self.started = True
        self._advance(now)

    def submit(self, request: Request, now: float) -> Exchange:
        """Another request on this connection; it goes out when its turn comes."""
        exchange = Exchange(request)
        self.exchanges.append(exchange)
        if self.started:
            self._advance(now)
        return exchange

    @property
    def idle(self) -> bool:
        """Open with no request outstanding: free for the next."""
        return not self.finished and self._current >= len(self.exchanges)

    @property
    def outstanding(self) -> int:
        return len(self.exchanges) - self._current

    def close(self) -> None:
        if not self.finished:
            self._finish()

    def receive(self, data: bytes, now: float) -> None:
        if self._current < len(self.exchanges):
            self.exchanges[self._current].received_bytes += len(data)
        self.conn.receive_data(data)
        self._drain(now)

    def connection_lost(self, now: float) -> None:
        try:
            self.conn.receive_data(b"")
        except RuntimeError:
            pass
        self._drain(now)
        if not self.finished:
            if self._current < len(self.exchanges):
                self.error = self.error or "the server closed the connection before answering"
            self.finished = True
        for exchange in self.unanswered():
            exchange.error = exchange.error or self.error

    def unanswered(self) -> list[Exchange]:
        """Exchanges with no complete response: a browser sends them again elsewhere."""
        return [e for e in self.exchanges[self._current:] if e.done_at is None]

    def outputs(self) -> list:
        out, self._out = self._out, []
        return out

    # -- inside -------------------------------------------------------------------------

    def _advance(self, now: float) -> None:
        """Register the answer expected next, then send what may go now."""
        while self._next < len(self.exchanges) and (self.pipeline or self._next == self._current):
            if self.version == "1.0" and self._next > 0:
                break                                   # one request per HTTP/1.0 connection
            exchange = self.exchanges[self._next]
            if self._next == self._current == self._registered + 1 and self.conn.our_state is h11.IDLE \
                    and self.version == "1.1":
                wire = self._register(exchange)        # the reading h11 writes it: no copy needed
                self._registered = self._current
            else:
                wire = self._wire(exchange)
            self._next += 1
            exchange.sent_at = now
            exchange.sent_bytes = len(wire)
            self.sent_heads.append(wire.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n"))
            self._out.append(Send(wire))
        if (self._registered < self._current < self._next
                and self.conn.our_state is h11.IDLE):
            self._register(self.exchanges[self._current])
            self._registered = self._current

    def _headers(self, r: Request) -> list[tuple[str, str]]:
        given = {name.lower() for name, _ in r.headers}
        headers = [("Host", self.host), ("User-Agent", self.user_agent)]
        if "accept" not in given:
            headers.append(("Accept", self.accept))
        headers += r.headers
        if r.body:
            headers.append(("Content-Length", str(len(r.body))))
        if self.version == "1.0":
            headers.append(("Connection", "close"))      # for h11's bookkeeping; not sent
        return headers

    def _wire(self, exchange: Exchange) -> bytes:
        """The request's bytes. h11 will not write a request before the previous answer
        (no pipelining in its state machine), so a fresh h11 connection writes each."""
        r = exchange.request
        writer = h11.Connection(h11.CLIENT)
        wire = writer.send(h11.Request(method=r.method, target=r.target, headers=self._headers(r)))
        if r.body:
            wire += writer.send(h11.Data(data=r.body))
        wire += writer.send(h11.EndOfMessage())
        if self.version == "1.0":
            head, _, rest = wire.partition(b"\r\n")
            rest = re.sub(rb"(?i)connection: close\r\n", b"", rest)
            wire = head[:-8] + b"HTTP/1.0\r\n" + rest
        return wire

    def _register(self, exchange: Exchange) -> bytes:
        """Tell the reading h11 connection which request the next response answers; the
        bytes it writes are the request's (sent now, or already by a pipelining writer)."""
        r = exchange.request
        wire = self.conn.send(h11.Request(method=r.method, target=r.target, headers=self._headers(r)))
        if r.body:
            wire += self.conn.send(h11.Data(data=r.body))
        return wire + self.conn.send(h11.EndOfMessage())

    def _drain(self, now: float) -> None:
        while not self.finished:
            try:
                event = self.conn.next_event()
            except h11.RemoteProtocolError as exc:
                self.error = f"bad response: {exc}"
                if self._current < len(self.exchanges):
                    self.exchanges[self._current].error = self.error
                self._finish()
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.ConnectionClosed):
                if self._current < len(self.exchanges):
                    self.error = "the server closed the connection before answering"
                self._finish()
                return
            exchange = self.exchanges[self._current]
            if isinstance(event, h11.Response):
                exchange.status, exchange.reason = event.status_code, event.reason.decode()
                exchange.http_version = event.http_version.decode()
                exchange.headers = [(k.decode(), v.decode("latin-1"))        # as the server cased them
                                    for k, v in event.headers.raw_items()]
                exchange.first_byte_at = now
            elif isinstance(event, h11.Data):
                exchange.body += bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                self._answered(exchange, now)
                if self.finished:
                    return

    def _answered(self, exchange: Exchange, now: float) -> None:
        exchange.done_at = now
        self._current += 1
        if self.conn.our_state is h11.MUST_CLOSE or self.conn.their_state is h11.MUST_CLOSE:
            if self._current < len(self.exchanges):
                self.error = "the server closed the connection; the rest need a new one"
            self._finish()
            return
        self.conn.start_next_cycle()
        if self._current >= len(self.exchanges) and not self.keep_open:
            self._finish()
            return
        self._advance(now)

    def _finish(self) -> None:
        self.finished = True
        self._out.append(Close())
