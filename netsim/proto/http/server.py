"""One HTTP/1.x server connection, sans-I/O: h11 reads requests and writes responses
(RFC 9112); :class:`~netsim.proto.http.site.Site` decides what they say.

Theory of operation
-------------------
Requests are answered in the order they came, so pipelined requests (several sent
before the first answer) get their answers in order (RFC 9112 §9.3.2). What one read
brings is answered with one write, as a server flushes its output buffer once per
read. A request in HTTP/1.0, or one that says ``Connection: close``, gets its answer
and then the connection closes; otherwise it stays open for the next (keep-alive)
until ``keep_alive`` seconds pass with nothing received — the engine's own timer, as
nginx's ``keepalive_timeout`` is — counted from the last bytes received, or from the
moment our answer was all in the send buffer when the driver had to wait for room
(:meth:`pause_writing`/:meth:`resume_writing`, asyncio's flow-control calls): a
connection still busy sending is not idle.

Where a real server's behaviour is the expectation, it is nginx's: an HTTP/1.0 request
with ``Connection: keep-alive`` is answered ``Connection: keep-alive`` and the connection
kept (h11 speaks no HTTP/1.0 keep-alive, so the next request is read by a fresh h11
connection); a ``HEAD`` is answered with the head its ``GET`` would have, its
``Content-Length`` too, and no body (RFC 9110 §9.3.2); a request in absolute form
(``GET http://host/path``, RFC 9112 §3.2.2) is for the host it names, whatever its
``Host`` says; ``Expect: 100-continue`` on an HTTP/1.1 request with a body is answered
``100 Continue`` at once (RFC 9110 §10.1.1), unless the body is refused first (413).

What a hostile client sends gets what nginx gives it:

=======================================  ==============================================
h11 rejects the bytes (a bad request     ``400 Bad Request`` and close (nginx: "client
line, header, Content-Length, chunk      sent invalid request", 400)
size), or a head past ``MAX_HEAD``
both ``Content-Length`` and              ``400`` and close: a request that can be read
``Transfer-Encoding`` (RFC 9112 §6.3),   two ways is how requests are smuggled past a
or ``Transfer-Encoding`` in HTTP/1.0     proxy (nginx 1.21.1 and later)
a ``Transfer-Encoding`` not chunked      ``501`` and close (nginx: "client sent unknown
                                         Transfer-Encoding")
a body past ``MAX_BODY``                 ``413`` and close (``client_max_body_size``)
a version other than HTTP/1.x            ``505`` and close
=======================================  ==============================================

so no client's bytes are this engine's failure: nothing here raises
:class:`~netsim.errors.PeerError`, and anything else that escapes is a bug.

Each answered request is an :class:`Answered` output (one access-log line), given
before the bytes of the write it is in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import h11

from netsim.proto.http.site import Answer, Site, error_page, http_date
from netsim.proto.stream import Close, Send, StreamEngine

CHUNK = 4096
#: nginx's ``client_max_body_size`` default (1m): a longer request body is 413.
MAX_BODY = 1 << 20
#: The largest request head (line and headers) taken, h11's default bound. h11 applies
#: it only to a head still incomplete in its buffer, so one that came whole in a single
#: read is measured here too: the answer must not depend on how TCP cut the bytes.
MAX_HEAD = 16 * 1024
#: A request target in absolute form: a scheme, "://", the authority, then the path.
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)(.*)\Z", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Answered:
    """A request answered: one line of the access log (``"GET / HTTP/1.1" 200``)."""
    #: The request's method, ``?`` for a request h11 could not read.
    method: str
    #: The request target as sent (``/index.html?x=1``), ``?`` if unread.
    target: str
    #: The request's HTTP version (``1.1``), ``?`` if unread.
    version: str
    #: The status we answered.
    status: int


class HttpServerConnection(StreamEngine):
    """The server side of one connection for ``sites`` (Host → handler with
    ``respond(method, target, headers, now, body)``; ``*`` for any host).
    ``keep_alive``: seconds an idle persistent connection is kept (None: forever)."""

    def __init__(self, sites: dict[str, Site], *, server_name: str = "netsim",
                 keep_alive: float | None = None, alt_svc: str | None = None) -> None:
        super().__init__()
        self.sites = sites
        self.server_name = server_name
        #: An ``Alt-Svc`` value announced on every answer (RFC 7838: ``h3=":443"``).
        self.alt_svc = alt_svc
        self.keep_alive = keep_alive
        self.conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        self._request: h11.Request | None = None
        self._body = bytearray()
        self._unsent = bytearray()          # this read's answers, written together
        self._closing = False               # close once the answers are out
        self._idle_since = 0.0
        self._writing = False               # the driver waits for send-buffer room
        self._kept_1_0 = False              # an HTTP/1.0 keep-alive request is being read
        self.closed = False
        #: Every request answered, in order.
        self.log: list[Answered] = []

    # -- the stream-engine contract ----------------------------------------------------

    def start(self, now: float) -> None:
        self._idle_since = now

    def receive(self, data: bytes, now: float) -> None:
        if self.closed:
            return
        self._idle_since = now
        self.conn.receive_data(data)
        self._drain(now)
        self._flush()

    def connection_lost(self, now: float = 0.0) -> None:
        if not self.closed:
            self.conn.receive_data(b"")
            self.closed = True

    def get_timer(self) -> float | None:
        if self.closed or self.keep_alive is None or self._writing:
            return None
        return self._idle_since + self.keep_alive

    def handle_timer(self, now: float) -> None:
        deadline = self.get_timer()
        if deadline is not None and now >= deadline:
            self._closing = True            # idle too long: close without a word, as nginx
            self._flush()

    def pause_writing(self, now: float) -> None:
        """The driver's write is waiting for room in the send buffer."""
        self._writing = True

    def resume_writing(self, now: float) -> None:
        """All we wrote is in the send buffer: idle from now."""
        self._writing = False
        self._idle_since = now

    # -- reading requests --------------------------------------------------------------

    def _drain(self, now: float) -> None:
        while not self._closing:
            try:
                event = self.conn.next_event()
            except h11.RemoteProtocolError as exc:
                # h11 hints 501 for a Transfer-Encoding it does not know, as nginx answers.
                self._request = None            # (what h11 could not read is no request)
                self._refuse(501 if exc.error_status_hint == 501 else 400, str(exc), now)
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Request):
                self._request, self._body = event, bytearray()
                refusal = _refusal(event)
                if refusal is not None:
                    self._refuse(*refusal, now)
                    return
                if self.conn.their_state is h11.SEND_BODY and _declared_length(event) > MAX_BODY:
                    self._refuse(413, "the body is larger than this server takes", now)
                    return
                self._kept_1_0 = event.http_version == b"1.0" and _keep_alive_1_0(event)
                if self.conn.they_are_waiting_for_100_continue and _has_body(event):
                    self._continue()
            elif isinstance(event, h11.Data):
                self._body += event.data
                if len(self._body) > MAX_BODY:
                    self._refuse(413, "the body is larger than this server takes", now)
                    return
            elif isinstance(event, h11.EndOfMessage) and self._request is not None:
                self._answer(self._request, now)
                self._request = None
                if self._kept_1_0:
                    self._kept_1_0 = False
                    self._read_afresh()             # the next request, on a fresh reader
                    continue
                if self.conn.our_state is h11.MUST_CLOSE or self.conn.their_state is h11.MUST_CLOSE:
                    self._closing = True
                    return
                self.conn.start_next_cycle()        # the next (maybe pipelined) request
            elif isinstance(event, h11.ConnectionClosed):
                self._closing = True
                return

    def _continue(self) -> None:
        """``100 Continue`` (RFC 9110 §10.1.1), a write of its own as nginx's is."""
        self._flush()
        self._out.append(Send(self.conn.send(h11.InformationalResponse(
            status_code=100, headers=[], reason=b"Continue"))))

    def _read_afresh(self) -> None:
        """A new h11 reader for what follows an HTTP/1.0 keep-alive request: the one
        that read it holds that connection must close."""
        trailing, closed = self.conn.trailing_data
        self.conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        if trailing:
            self.conn.receive_data(bytes(trailing))
        if closed:
            self.conn.receive_data(b"")         # (h11 reads b"" as the end of stream)

    def _answer(self, request: h11.Request, now: float) -> None:
        headers = {name.decode().lower(): value.decode("latin-1") for name, value in request.headers}
        target = request.target.decode("latin-1")
        host = headers.get("host", "")
        absolute = _ABSOLUTE.match(target)
        if absolute:                        # RFC 9112 §3.2.2: its authority, not Host
            host, target = absolute.group(1), absolute.group(2) or "/"
            if not target.startswith("/"):
                target = "/" + target       # "http://h?q": the path is empty, then the query
        host = host.rpartition("@")[2].split(":")[0].lower()
        site = self.sites.get(host) or self.sites.get("*") or next(iter(self.sites.values()))
        method = request.method.decode()
        answer = site.respond(method, target, headers, now, bytes(self._body))
        self._logged(request, answer.status)
        self._send_answer(answer, method)

    def _logged(self, request: h11.Request | None, status: int) -> None:
        if request is None:
            entry = Answered("?", "?", "?", status)
        else:
            entry = Answered(request.method.decode(), request.target.decode("latin-1"),
                             request.http_version.decode(), status)
        self.log.append(entry)
        self._out.append(entry)

    # -- writing responses -------------------------------------------------------------

    def _send_answer(self, answer: Answer, method: str) -> None:
        headers = [("Server", self.server_name), *answer.headers]
        if self.alt_svc:
            headers.append(("Alt-Svc", self.alt_svc))
        body = answer.body
        chunked = answer.chunked and self.conn.their_http_version == b"1.1"
        if answer.status in (204, 304):
            pass                             # no body, no Content-Length (RFC 9110 §8.6)
        elif chunked:
            headers.append(("Transfer-Encoding", "chunked"))
        else:                                # a HEAD's too: the GET's length (§9.3.2)
            headers.append(("Content-Length", str(len(body))))
        writer = self.conn
        if self._kept_1_0:
            writer = _writer_for(method)
        if self._kept_1_0 or _keeps_open(self._request):
            # nginx says so on every HTTP/1.x answer; h11 itself adds "close" (at the end)
            # when the connection closes after this one.
            headers.append(("Connection", "keep-alive"))
        out = [writer.send(h11.Response(status_code=answer.status, headers=nginx_order(headers),
                                        reason=answer.reason.encode()))]
        if body and method != "HEAD" and answer.status not in (204, 304):
            pieces = [body[i:i + CHUNK] for i in range(0, len(body), CHUNK)] if chunked else [body]
            out += [writer.send(h11.Data(data=piece)) for piece in pieces]
        out.append(writer.send(h11.EndOfMessage()))
        self._unsent += b"".join(o for o in out if o)

    def _refuse(self, status: int, why: str, now: float) -> None:
        """Answer a request we will not serve (400, 413, 505) and close, as nginx does.
        h11 lets a server answer after the client's error: our side is idle or about
        to respond, since every answer is written whole when its request is in."""
        if status == 400:
            # nginx's own page, no Server or Date: the request never reached a site.
            body = f"<html><body><h1>400 Bad Request</h1><p>{why}</p></body></html>\n".encode()
            answer = Answer(400, [("Content-Type", "text/html"), ("Content-Length", str(len(body))),
                                  ("Connection", "close")], body)
        else:
            page = error_page(status, why, ("Date", http_date(now)))
            answer = Answer(status, [("Server", self.server_name), *page.headers,
                                     ("Content-Length", str(len(page.body))),
                                     ("Connection", "close")], page.body)
        self._unsent += (self.conn.send(h11.Response(status_code=answer.status,
                                                     headers=answer.headers,
                                                     reason=answer.reason.encode()))
                         + self.conn.send(h11.Data(data=answer.body))
                         + self.conn.send(h11.EndOfMessage()))
        self._logged(self._request if status != 400 else None, status)
        self._closing = True

    def _flush(self) -> None:
        """This turn's answers as one write, then the close if one is due."""
        if self._unsent:
            self._out.append(Send(bytes(self._unsent)))
            self._unsent.clear()
        if self._closing and not self.closed:
            self.closed = True
            self._out.append(Close())


def _head_size(request: h11.Request) -> int:
    """The bytes of a request's head as it came: the request line and each header line."""
    return (len(request.method) + len(request.target) + len(b"  HTTP/1.1\r\n\r\n")
            + sum(len(name) + len(value) + 4 for name, value in request.headers.raw_items()))


def _refusal(request: h11.Request) -> tuple[int, str] | None:
    """What nginx refuses in a request's head before reading on: (status, why)."""
    if _head_size(request) > MAX_HEAD:
        return 400, "the request head is larger than this server takes"
    if not request.http_version.startswith(b"1."):
        return 505, f"HTTP/{request.http_version.decode()} is not spoken here"
    names = [name for name, _ in request.headers]
    if b"transfer-encoding" in names:
        if request.http_version == b"1.0":
            return 400, "client sent HTTP/1.0 request with \"Transfer-Encoding\" header"
        if b"content-length" in names:
            return 400, ("client sent \"Content-Length\" and \"Transfer-Encoding\" headers "
                         "at the same time")
    return None


def _has_body(request: h11.Request) -> bool:
    """A request whose head announces a body (RFC 9112 §6.3): chunked, or a length > 0."""
    return any(name == b"transfer-encoding" for name, _ in request.headers) \
        or _declared_length(request) > 0


#: The headers nginx's header filter writes itself, in the order it writes them
#: (ngx_http_header_filter_module.c); the others follow in the order they were added —
#: ETag, Expires, Cache-Control, Accept-Ranges, … — as its other filters push them.
_NGINX_FIRST = ("server", "date", "content-type", "content-length", "last-modified", "location",
                "transfer-encoding", "connection")


def nginx_order(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    rank = {name: k for k, name in enumerate(_NGINX_FIRST)}
    return sorted(headers, key=lambda item: rank.get(item[0].lower(), len(rank)))


def _keeps_open(request: h11.Request | None) -> bool:
    """An HTTP/1.1 request that did not ask to close (RFC 9112 §9.3)."""
    if request is None or request.http_version != b"1.1":
        return False
    tokens = {t.strip().lower() for name, value in request.headers if name.lower() == b"connection"
              for t in value.split(b",")}
    return b"close" not in tokens


def _keep_alive_1_0(request: h11.Request) -> bool:
    """An HTTP/1.0 request that asks to keep the connection (RFC 9112 §C.2.2)."""
    tokens = {t.strip().lower() for name, value in request.headers if name == b"connection"
              for t in value.split(b",")}
    return b"keep-alive" in tokens and b"close" not in tokens


def _writer_for(method: str) -> h11.Connection:
    """An h11 connection that has read an HTTP/1.1 ``method`` request: it writes the
    answer to an HTTP/1.0 keep-alive request as nginx does (HTTP/1.1, not closing),
    which the reading connection — bound to close after HTTP/1.0 — will not."""
    writer = h11.Connection(h11.SERVER)
    framing = b"HEAD" if method == "HEAD" else b"GET"      # all the method changes here
    writer.receive_data(framing + b" / HTTP/1.1\r\nHost: x\r\n\r\n")
    writer.next_event()
    writer.next_event()
    return writer


def _declared_length(request: h11.Request) -> int:
    """The Content-Length a request announced (h11 has checked it is digits), 0 if none."""
    for name, value in request.headers:
        if name == b"content-length":
            return int(value)
    return 0
