"""An HTTP/1.x client connection, sans-I/O, over h11 (RFC 9112): a stream engine
(:mod:`netsim.proto.stream`) that the application runtime drives.

Requests are handed to it (at construction or later with :meth:`submit`) and go out one
after another — or, with ``pipeline``, as soon as they are handed over, without waiting
for the answers before (RFC 9112 §9.3.2) — and the responses are matched to them in
order. A connection made with ``keep_open`` stays open when it has nothing to do (a
browser's idle persistent connection); otherwise it closes after the last answer.
``max_time`` is curl's ``--max-time``: the engine's timer, and at its deadline the
connection is reset and the request has failed.

h11 speaks HTTP/1.1 only; an ``HTTP/1.0`` request is h11's request with its version
rewritten on the wire, which is all an HTTP/1.0 client's request differs in (no
keep-alive, so the server closes after answering and h11 sees the close).

The receive boundary: a response h11 cannot parse — a status line that is not one, a
Content-Length that is no number or two that differ, broken chunking, a head past the
client's limit, a body cut short by the close — raises :class:`~netsim.errors.PeerError`
worded by ``wording`` as the client's tool words it (:mod:`netsim.proto.http.failures`),
and the exchange keeps that error and its kind. A close before any byte of an answer is
no peer error but an ``empty`` failure, which a browser retries. Bytes on a connection
that has asked nothing (a second, unsolicited response; junk after a body) make it
unusable, as Chrome drops such an idle socket: it is closed, and no request fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import h11

from netsim.errors import PeerError
from netsim.proto.http.failures import CURL, CURL_HEADER_LIMIT, Wording, kind_of
from netsim.proto.stream import Close, Failed, Send, StreamEngine


@dataclass(frozen=True, slots=True)
class Done:
    """Output: the connection has nothing more to do (its Close is before this) — every
    answer is in, or none will come; the application may report now rather than when the
    TCP connection is finally gone."""


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
    #: Of those, the octets of the request's and the response's header sections: HTTP/1.x's
    #: text heads, HTTP/2's HEADERS frames (HPACK-compressed, RFC 7541).
    head_sent: int = 0
    head_received: int = 0
    first_byte_at: float | None = None
    done_at: float | None = None
    error: str | None = None
    #: The kind of failure (:mod:`netsim.proto.http.failures`), when ``error`` is set by it.
    failure: str | None = None

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    def header_all(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]


class HttpClientConnection(StreamEngine):
    def __init__(self, requests: list[Request] = (), *, host: str, version: str = "1.1",
                 pipeline: bool = False, keep_open: bool = False,
                 user_agent: str = "curl/8.5.0 (netsim)", accept: str = "*/*",
                 wording: Wording = CURL, header_limit: int = CURL_HEADER_LIMIT,
                 max_time: float | None = None, since: float = 0.0) -> None:
        super().__init__()
        self.host, self.version, self.pipeline = host, version, pipeline
        self.keep_open = keep_open and version == "1.1"
        self.user_agent, self.accept = user_agent, accept
        self.wording = wording
        self.max_time = max_time
        self.deadline = since + max_time if max_time is not None else None
        self.conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=header_limit)
        self.exchanges = [Exchange(r) for r in requests]
        self._next = 0                  # the next request to send
        self._current = 0               # the exchange whose response is coming
        self._registered = -1           # the exchange h11's reading side expects
        self.error: str | None = None
        #: The kind of the failure that ended the connection, if one did.
        self.failure: str | None = None
        self.finished = False
        self.started = False
        #: Bytes came that nothing had asked for: the connection was dropped unused.
        self.unsolicited = False
        #: What went out, header by header, for a curl -v style print.
        self.sent_heads: list[list[str]] = []
        #: The first bytes of the answer being read (what a failure's message quotes).
        self._head = bytearray()
        #: The body being read, gathered here (appending to ``bytes`` copies all of it
        #: each time: 8 MiB in 1 KiB pieces was 21 s of copying, against 0.06 s) and
        #: made the exchange's ``body`` when the answer ends or the connection does.
        self._body = bytearray()

    # -- the stream contract -------------------------------------------------------------

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
        if self.finished:
            return
        if self._current >= self._next:
            # Nothing asked: a second response nobody requested, or junk. Chrome drops an
            # idle socket that has bytes to read (it cannot be reused); so do we.
            self.unsolicited = True
            self._finish()
            return
        self.exchanges[self._current].received_bytes += len(data)
        if len(self._head) < 8192:
            self._head += data[:8192]
        self.conn.receive_data(data)
        self._drain(now)

    def connection_lost(self, now: float) -> None:
        if self.finished:
            return
        if self._current >= self._next:
            self.finished = True              # an idle connection the server closed
            self._out.append(Done())
            return
        exchange = self.exchanges[self._current]
        if exchange.status is None and not self.conn.trailing_data[0]:
            # Not a byte of an answer: the server closed as the request crossed (an idle
            # connection timing out), or never answers. A browser asks again elsewhere.
            self._set_failure("empty", self.wording.response("empty"))
            self.finished = True
            self._out.append(Failed(self.error))
            return
        self.conn.receive_data(b"")
        self._drain(now)
        if not self.finished:                 # h11 took the close as the end of a body
            self._settle_body()
            self.finished = True
            self._out.append(Done())

    def tls_failed(self, error, now: float) -> None:
        """The TLS layer under this connection refused the server (its certificate, an
        alert, not TLS): nothing was sent; the failure is worded as the tool words it."""
        if self.finished:
            return
        kind = "tls_certificate" if error.kind == "certificate" else "tls_handshake"
        self._set_failure(kind, self.wording.response(kind, error=error))
        self.finished = True
        self._out.append(Failed(self.error))

    def get_timer(self) -> float | None:
        return None if self.finished else self.deadline

    def handle_timer(self, now: float) -> None:
        if self.finished or self.deadline is None or now < self.deadline:
            return
        self._settle_body()
        got = sum(len(e.body) for e in self.exchanges) + len(self.conn.trailing_data[0])
        self._set_failure("timeout", self.wording.response(
            "timeout", ms=self.max_time * 1000, received=got))
        self.finished = True
        self._out.append(Failed(self.error, reset=True))    # curl gives up: RST

    # -- sending -------------------------------------------------------------------------

    def _advance(self, now: float) -> None:
        """Register the answer expected next, then send what may go now."""
        if self.finished:
            return
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
            exchange.head_sent = wire.find(b"\r\n\r\n") + 4
            self.sent_heads.append(wire.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n"))
            self._out.append(Send(wire))
        if (self._registered < self._current < self._next
                and self.conn.our_state is h11.IDLE):
            self._register(self.exchanges[self._current])
            self._registered = self._current

    def _headers(self, r: Request) -> list[tuple[str, bytes]]:
        given = {name.lower() for name, _ in r.headers}
        headers = [("Host", self.host), ("User-Agent", self.user_agent)]
        if "accept" not in given:
            headers.append(("Accept", self.accept))
        headers += r.headers
        if r.body:
            headers.append(("Content-Length", str(len(r.body))))
        if self.version == "1.0":
            headers.append(("Connection", "close"))      # for h11's bookkeeping; not sent
        # Values as bytes: one a server gave (a cookie, an ETag) may hold obs-text, which
        # goes back as the octets it came as (h11 would encode a str as ASCII).
        return [(name, value.encode("latin-1")) for name, value in headers]

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

    # -- receiving -----------------------------------------------------------------------

    def _drain(self, now: float) -> None:
        while not self.finished:
            exchange = self.exchanges[self._current] if self._current < self._next else None
            try:
                event = self.conn.next_event()
            except h11.RemoteProtocolError as exc:
                self._peer_failed(kind_of(exc, in_body=exchange is not None
                                          and exchange.status is not None), exchange, exc)
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.ConnectionClosed):
                self._finish()
                return
            if exchange is None:
                # A response before any request was registered (h11 lets a server answer
                # first): unsolicited, as on an idle connection.
                self.unsolicited = True
                self._finish()
                return
            if isinstance(event, h11.Response):
                exchange.status = event.status_code
                exchange.reason = event.reason.decode("latin-1")
                exchange.http_version = event.http_version.decode("ascii")
                exchange.headers = [(k.decode("ascii"), v.decode("latin-1"))    # as the server cased them
                                    for k, v in event.headers.raw_items()]
                # The status line, each "name: value" line and the blank line.
                exchange.head_received = (len(event.http_version) + len(event.reason) + 14
                                          + sum(len(k) + len(v) + 4
                                                for k, v in event.headers.raw_items()))
                exchange.first_byte_at = now
            elif isinstance(event, h11.Data):
                self._body += event.data
            elif isinstance(event, h11.EndOfMessage):
                self._settle_body()
                self._answered(exchange, now)
            # An InformationalResponse (100 Continue, 103) is not the answer: read on.

    def _answered(self, exchange: Exchange, now: float) -> None:
        exchange.done_at = now
        self._current += 1
        self._head = bytearray(self.conn.trailing_data[0][:8192])
        if self.conn.our_state is h11.MUST_CLOSE or self.conn.their_state is h11.MUST_CLOSE:
            if self._current < len(self.exchanges):
                self.error = "the server closed the connection; the rest need a new one"
            self._finish()
            return
        self.conn.start_next_cycle()
        if self._current >= self._next and self.conn.trailing_data[0]:
            # Bytes after the answer and nothing else asked (junk after the body, a body
            # to HEAD or 304, a second response): the connection is not reused.
            self.unsolicited = True
            self._finish()
            return
        if self._current >= len(self.exchanges) and not self.keep_open:
            self._finish()
            return
        self._advance(now)

    def _settle_body(self) -> None:
        """What has come of the body being read becomes its exchange's ``body``."""
        if self._body and self._current < len(self.exchanges):
            self.exchanges[self._current].body = bytes(self._body)
        self._body.clear()

    def _set_failure(self, kind: str, message: str) -> None:
        self.error, self.failure = message, kind
        if self._current < len(self.exchanges):
            exchange = self.exchanges[self._current]
            exchange.error, exchange.failure = message, kind

    def _peer_failed(self, kind: str, exchange: Exchange | None, exc: Exception):
        self._settle_body()
        detail = {}
        if kind == "content_length":
            detail["value"] = _content_length(bytes(self._head))
        elif kind == "length_mismatch" and exchange is not None:
            declared = exchange.header("Content-Length") or "0"
            detail["remaining"] = int(declared) - len(exchange.body)
        elif kind == "headers_too_big":
            detail["size"] = len(self.conn.trailing_data[0])
        self._set_failure(kind, self.wording.response(kind, **detail))
        self.finished = True
        raise PeerError(self.error) from exc

    def _finish(self) -> None:
        self._settle_body()
        self.finished = True
        self._out += [Close(), Done()]


def _content_length(head: bytes) -> str:
    """The Content-Length value a response head gives, for curl's message."""
    match = re.search(rb"(?im)^content-length:[ \t]*([^\r\n]*)", head)
    return match.group(1).decode("latin-1")[:40].strip() if match else ""
