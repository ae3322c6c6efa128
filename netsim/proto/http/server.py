"""One HTTP/1.x server connection, sans-I/O: h11 reads requests and writes responses
(RFC 9112); :class:`~netsim.proto.http.site.Site` decides what they say.

Requests are answered in the order they came, so pipelined requests (several sent
before the first answer) get their answers in order (RFC 9112 §9.3.2). A request in
HTTP/1.0, or one that says ``Connection: close``, gets its answer and then the
connection closes; otherwise it stays open for the next (keep-alive), until the
driver's idle timeout. A request h11 cannot parse gets 400 and a close.
"""

from __future__ import annotations

import h11

from netsim.proto.http.site import Answer, Site
from netsim.proto.stream import Close, Send

CHUNK = 4096


class HttpServerConnection:
    def __init__(self, sites: dict[str, Site], *, server_name: str = "netsim") -> None:
        self.sites = sites
        self.server_name = server_name
        self.conn = h11.Connection(h11.SERVER)
        self._out: list = []
        self._request: h11.Request | None = None
        self._body = b""
        self.closed = False
        #: (method, target, HTTP version, status) of every request answered.
        self.log: list[tuple[str, str, str, int]] = []

    def receive(self, data: bytes, now: float) -> None:
        if self.closed:
            return
        self.conn.receive_data(data)
        self._drain(now)

    def connection_lost(self, now: float = 0.0) -> None:
        if not self.closed:
            self.conn.receive_data(b"")
            self.closed = True

    def _drain(self, now: float) -> None:
        while not self.closed:
            try:
                event = self.conn.next_event()
            except h11.RemoteProtocolError as exc:
                self._bad_request(str(exc), now)
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Request):
                self._request, self._body = event, b""
            elif isinstance(event, h11.Data):
                self._body += bytes(event.data)
            elif isinstance(event, h11.EndOfMessage) and self._request is not None:
                self._answer(self._request, now)
                self._request = None
                if self.conn.our_state is h11.MUST_CLOSE or self.conn.their_state is h11.MUST_CLOSE:
                    self._close()
                    return
                self.conn.start_next_cycle()        # the next (maybe pipelined) request
            elif isinstance(event, h11.ConnectionClosed):
                self._close()
                return

    def _answer(self, request: h11.Request, now: float) -> None:
        headers = {name.decode().lower(): value.decode("latin-1") for name, value in request.headers}
        host = headers.get("host", "").split(":")[0]
        site = self.sites.get(host) or self.sites.get("*") or next(iter(self.sites.values()))
        method = request.method.decode()
        answer = site.respond(method, request.target.decode("latin-1"), headers, now, self._body)
        self.log.append((method, request.target.decode("latin-1"),
                         request.http_version.decode(), answer.status))
        self._send_answer(answer, method)

    def _send_answer(self, answer: Answer, method: str) -> None:
        headers = [("Server", self.server_name), *answer.headers]
        body = answer.body
        chunked = answer.chunked and self.conn.their_http_version == b"1.1"
        if answer.status in (204, 304) or method == "HEAD":
            pass                             # no body, no Content-Length (RFC 9110 §8.6)
        elif chunked:
            headers.append(("Transfer-Encoding", "chunked"))
        else:
            headers.append(("Content-Length", str(len(body))))
        out = [self.conn.send(h11.Response(status_code=answer.status, headers=headers,
                                           reason=answer.reason.encode()))]
        if body and method != "HEAD" and answer.status not in (204, 304):
            pieces = [body[i:i + CHUNK] for i in range(0, len(body), CHUNK)] if chunked else [body]
            out += [self.conn.send(h11.Data(data=piece)) for piece in pieces]
        out.append(self.conn.send(h11.EndOfMessage()))
        self._out.append(Send(b"".join(o for o in out if o)))

    def _bad_request(self, why: str, now: float) -> None:
        if self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            body = f"<html><body><h1>400 Bad Request</h1><p>{why}</p></body></html>\n".encode()
            try:
                self._out.append(Send(self.conn.send(h11.Response(
                    status_code=400, reason=b"Bad Request",
                    headers=[("Content-Type", "text/html"), ("Content-Length", str(len(body))),
                             ("Connection", "close")])) + self.conn.send(h11.Data(data=body))
                    + self.conn.send(h11.EndOfMessage())))
            except h11.LocalProtocolError:
                pass
        self.log.append(("?", "?", "?", 400))
        self._close()

    def _close(self) -> None:
        if not self.closed:
            self.closed = True
            self._out.append(Close())

    def outputs(self) -> list:
        out, self._out = self._out, []
        return out
