"""A client's connections to one origin (host and port), sans-I/O, as browsers keep them.

Up to ``limit`` connections at once (6 in every current browser); over HTTP/1.1 they
persist and are reused by the next request, and with ``pipeline`` a busy connection
takes more requests before the answers come (RFC 9112 §9.3.2); over HTTP/1.0 every
request has its own connection. Over HTTP/2 an origin has one connection and every
request is a stream on it, as many at once as the server's MAX_CONCURRENT_STREAMS
allows (RFC 9113 §9.1.1: clients SHOULD NOT open more than one); over TLS it is asked
for by ALPN (``h2``, then ``http/1.1``), and a server that chose ``http/1.1`` gets the
HTTP/1.1 pool's connections instead, as a browser falls back. Over HTTP/3 the one
connection is QUIC's, on UDP: asked for directly (``version="3"``), or learned from an
``Alt-Svc: h3=":443"`` answer (RFC 7838) by an HTTP/2 client for its next connections;
a QUIC handshake that fails or never completes (UDP blocked) marks QUIC broken for the
origin and its requests go again over HTTP/2, as Chrome does.

A request whose connection the server closed before answering (an idle connection
timed out as the request crossed it) is sent again once on a new one, as browsers do
for requests that are safe to repeat (RFC 9112 §9.3.1) — but not one the server
answered with something that is not HTTP.

Theory of operation
-------------------
An engine that fetches (a browser's navigation, a REST client's plan) is a
:class:`PoolClient`. It hands requests to an :class:`Origin` (:meth:`Origin.fetch`),
which says in the client's outputs what the runtime must do:

=====================  ===============================================================
:class:`Open`          connect to the origin and drive ``connection`` (a stream engine)
:class:`Kick`          ``connection`` has new work (a request was submitted on it)
=====================  ===============================================================

Each :class:`PoolConnection` is an HTTP client connection that also reports what
happened on it, as outputs its driver passes back to :meth:`PoolClient.connection_event`:
:class:`Established`, :class:`ResponseDone`, :class:`Finished`; when the runtime is done
with a connection (closed, failed, never made) it calls
:meth:`PoolClient.connection_ended`. A finished request comes back to the client as
:meth:`PoolClient.job_done` — after the pool has given the freed connection to the next
waiting request, so requests are served in the order they were made.
"""

from __future__ import annotations

from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from netsim.proto.http.client import Exchange, HttpClientConnection, Request
from netsim.proto.http.failures import CURL_HEADER_LIMIT, LIBRARY, RETRYABLE, Wording
from netsim.proto.http.h2client import Http2ClientConnection
from netsim.proto.http.url import host_header
from netsim.proto.stream import StreamEngine

if TYPE_CHECKING:
    from netsim.proto.http.h3 import Http3ClientConnection

#: Methods a client may send again on its own (RFC 9110 §9.2.2: idempotent).
IDEMPOTENT = ("GET", "HEAD", "OPTIONS", "PUT", "DELETE")


# -- what the runtime is asked to do -------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Open:
    """Connect to ``connection.origin``'s address and port and drive ``connection``."""
    connection: "PoolConnection"


@dataclass(frozen=True, slots=True)
class Kick:
    """``connection``'s engine has something new to send."""
    connection: "PoolConnection"


# -- what a pooled connection reports -------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Established:
    connection: "PoolConnection"


@dataclass(frozen=True, slots=True)
class ResponseDone:
    connection: "PoolConnection"
    exchange: Exchange


@dataclass(frozen=True, slots=True)
class Finished:
    """The connection's HTTP engine is done with it (closed by either side)."""
    connection: "PoolConnection"


@dataclass
class Job:
    """One request waiting for an answer; ``tag`` is the client's (what it was for)."""
    request: Request
    queued_at: float
    tag: object = None
    connect: tuple[float, float] | None = None    # the handshake, if this job opened it
    connection: int | None = None                 # which connection carried it (1, 2, …)
    tries: int = 0
    exchange: Exchange | None = None
    done: bool = False


class PoolConnection(StreamEngine):
    """One connection of an :class:`Origin`: its HTTP engine, and events for the pool."""

    def __init__(self, origin: "Origin", number: int,
                 http: HttpClientConnection | Http2ClientConnection | Http3ClientConnection,
                 opening: Job, opened_at: float) -> None:
        super().__init__()
        self.origin, self.number, self.http = origin, number, http
        self.jobs: deque[Job] = deque()          # submitted, answer not yet read
        self.opening: Job | None = opening       # the job that waits for the handshake
        self.opened_at = opened_at
        self.established = False
        self.closed = False
        self._reported: set[int] = set()         # exchanges reported done (their index)
        self._unreported = 0                     # the first index not yet reported
        self._finish_reported = False
        self._established_reported = False
        self._started = False

    @property
    def busy(self) -> int:
        return len(self.jobs) + (1 if self.opening is not None else 0)

    @property
    def multiplexed(self) -> bool:
        """Requests are concurrent streams on this connection (HTTP/2 and HTTP/3)."""
        return self.http.version in ("2", "3")

    def negotiated(self, info, now: float) -> None:
        """What TLS agreed, before the engine starts: a server that chose ``http/1.1``
        by ALPN (RFC 7301) — or none — gets HTTP/1.1 on this connection, not h2."""
        if self.multiplexed and info.alpn != "h2":
            self.http = self.origin._http1()

    # The stream contract, passed to the HTTP engine; what it did comes out as events.
    def start(self, now: float) -> None:
        self._started = True
        self.http.start(now)
        self._report_established()

    def _report_established(self) -> None:
        # QUIC is ready for requests once its handshake is done (or at once with 0-RTT).
        if not self._established_reported and getattr(self.http, "ready", True):
            self._established_reported = True
            self._out.append(Established(self))

    def receive(self, data: bytes, now: float) -> None:
        self.http.receive(data, now)

    def connection_lost(self, now: float) -> None:
        self.http.connection_lost(now)

    def tls_failed(self, error, now: float) -> None:
        self.http.tls_failed(error, now)

    def get_timer(self) -> float | None:
        return self.http.get_timer()

    def handle_timer(self, now: float) -> None:
        self.http.handle_timer(now)

    def outputs(self) -> list:
        out = self.http.outputs()
        if self._started:
            self._report_established()
        if self._out:
            out += self._out
            self._out = []
        # Answers in the order they completed — any order over HTTP/2's streams.
        exchanges, reported = self.http.exchanges, self._reported
        for index in range(self._unreported, len(exchanges)):
            if index not in reported and exchanges[index].done_at is not None:
                reported.add(index)
                out.append(ResponseDone(self, exchanges[index]))
        while self._unreported in reported:
            reported.discard(self._unreported)
            self._unreported += 1
        if self.http.finished and not self._finish_reported:
            self._finish_reported = True
            out.append(Finished(self))
        return out


class Origin:
    """The connections of one client to ``address:port``, named ``host`` in requests."""

    def __init__(self, client: "PoolClient", host: str, address, port: int, *,
                 version: str = "1.1", limit: int = 6, pipeline: bool = False,
                 user_agent: str, accept: str, secure: bool = False) -> None:
        self.client = client
        self.host, self.address, self.port = host, address, port
        #: https: every connection of this origin runs over TLS (its name: ``server_name``).
        self.secure = secure
        self.server_name = host.rpartition(":")[0] if host.endswith(f":{port}") else host
        self.version, self.limit, self.pipeline = version, limit, pipeline
        self.user_agent, self.accept = user_agent, accept
        self.connections: list[PoolConnection] = []
        self.waiting: deque[Job] = deque()
        self.opened = 0
        #: The UDP port of HTTP/3 that an Alt-Svc answer announced (RFC 7838), if any.
        self.alternative: int | None = None
        #: A QUIC handshake to this origin failed: HTTP/2 from now on.
        self.quic_broken = False

    def fetch(self, request: Request, now: float, tag=None) -> Job:
        job = Job(request, now, tag)
        self.waiting.append(job)
        self._dispatch(now)
        return job

    def close_idle(self) -> None:
        for c in self.connections:
            if c.established and not c.jobs and not c.closed:
                c.http.close()
                self.client._kick(c)

    # -- matching requests to connections -----------------------------------------------

    @property
    def uses_quic(self) -> bool:
        return self.secure and not self.quic_broken and (self.version == "3"
                                                         or self.alternative is not None)

    def _dispatch(self, now: float) -> None:
        if self.version in ("2", "3"):
            return self._dispatch_streams(now)
        while self.waiting:
            idle = next((c for c in self.connections if c.established and not c.closed
                         and c.busy == 0 and c.http.idle), None)
            if idle is not None:
                self._submit(idle, self.waiting.popleft(), now)
                continue
            if len(self.connections) < self.limit:
                self._open(self.waiting.popleft(), now)
                continue
            if self.pipeline and self.version == "1.1":
                open_ones = [c for c in self.connections if c.established and not c.closed
                             and not c.http.finished]
                if open_ones:
                    self._submit(min(open_ones, key=lambda c: c.busy), self.waiting.popleft(), now)
                    continue
            return                                  # every connection busy: wait for one

    def _dispatch_streams(self, now: float) -> None:
        """HTTP/2: every waiting request a stream on the origin's one connection, as many
        as it takes now; a connection that fell back to HTTP/1.1 (ALPN) is dispatched as
        the HTTP/1.1 pool is."""
        while self.waiting:
            live = [c for c in self.connections if not c.closed and not c.http.finished]
            # An HTTP/3 connection first, then one of HTTP/2.
            streams = next((c for c in sorted(live, key=lambda c: c.http.version != "3")
                            if c.established and c.multiplexed), None)
            if streams is not None:
                if streams.http.capacity <= 0:
                    return                          # MAX_CONCURRENT_STREAMS: wait for one
                self._submit(streams, self.waiting.popleft(), now)
                continue
            if any(c.multiplexed for c in live):
                return                              # the connection is being made
            idle = next((c for c in live if c.established and c.busy == 0 and c.http.idle), None)
            if idle is not None:                    # fell back to HTTP/1.1
                self._submit(idle, self.waiting.popleft(), now)
            elif not self.connections or (len(self.connections) < self.limit
                                          and all(not c.multiplexed for c in self.connections)
                                          and any(c.established for c in self.connections)):
                self._open(self.waiting.popleft(), now)
            else:
                return

    def _http1(self) -> HttpClientConnection:
        client = self.client
        version = "1.1" if self.version in ("2", "3") else self.version
        return HttpClientConnection(host=self.host, version=version, pipeline=self.pipeline,
                                    keep_open=True, user_agent=self.user_agent,
                                    accept=self.accept, wording=client.wording,
                                    header_limit=client.header_limit)

    def _open(self, job: Job, now: float) -> None:
        client = self.client
        if self.uses_quic:
            # Imported here: aioquic costs every run 70 ms to import, and few use QUIC.
            from netsim.proto.http.h3 import Http3ClientConnection
            # Its QUIC configuration (the CA, a session ticket) is the runtime's to give.
            http = Http3ClientConnection(None, host=self.host, address=(str(self.address),
                                         self.alternative or self.port),
                                         user_agent=self.user_agent, accept=self.accept,
                                         wording=client.wording)
        elif self.version in ("2", "3"):
            http = Http2ClientConnection(host=self.host,
                                         scheme="https" if self.secure else "http",
                                         user_agent=self.user_agent, accept=self.accept,
                                         wording=client.wording)
        else:
            http = self._http1()
        connection = PoolConnection(self, client._next_number(), http, job, now)
        self.connections.append(connection)
        self.opened += 1
        client._out.append(Open(connection))

    def _submit(self, connection: PoolConnection, job: Job, now: float) -> None:
        job.connection = connection.number
        job.tries += 1
        job.exchange = connection.http.submit(job.request, now)
        connection.jobs.append(job)
        self.client._kick(connection)

    # -- what happened on a connection ------------------------------------------------------

    def established(self, c: PoolConnection, now: float) -> None:
        job = c.opening
        job.connect = (c.opened_at, now)
        c.opening, c.established = None, True
        with self.client._on(c):
            self._submit(c, job, now)
            self._dispatch(now)                     # pipelining may put more on it now

    def response_done(self, c: PoolConnection, now: float) -> None:
        done = [job for job in c.jobs if job.exchange.done_at is not None]
        for job in done:
            self._learn_alternative(job.exchange)
        for job in done:
            c.jobs.remove(job)
        if not c.jobs or c.multiplexed:
            with self.client._on(c):
                self._dispatch(now)                 # free: the next waiting request
        for job in done:
            self._done(job, now)

    def _learn_alternative(self, exchange: Exchange) -> None:
        """``Alt-Svc: h3=":443"; ma=86400`` (RFC 7838 §3) on an answer over TLS: the next
        connections to this origin are HTTP/3's — for an HTTP/2 client, as a current
        browser is (one pinned to HTTP/1.1 is not)."""
        if self.version != "2" or not self.secure or self.alternative is not None:
            return
        for value in exchange.header_all("alt-svc"):
            for entry in value.split(","):
                protocol, _, rest = entry.strip().partition("=")
                if protocol == "h3" and rest.startswith('"'):
                    port = rest.split('"')[1].rpartition(":")[2]
                    if port.isdigit() and 0 < int(port) < 65536:
                        self.alternative = int(port)
                        return

    def ended(self, c: PoolConnection, why: str, now: float) -> None:
        """A connection is gone: its unanswered requests go again once, or fail."""
        if c.closed:
            return
        c.closed = True
        self.connections.remove(c)
        if c.http.version == "3" and c.http.failure in ("quic", "quic_timeout") \
                and c.http.handshake is None:
            # QUIC could not be had (UDP blocked, a handshake refused): HTTP/2 instead.
            self.quic_broken = True
            again = [j for j in ([c.opening] if c.opening is not None else []) + list(c.jobs)
                     if not j.done]
            for job in reversed(again):
                job.exchange, job.connection = None, None
                self.waiting.appendleft(job)
            c.opening = None
            c.jobs.clear()
            self._dispatch(now)
            return
        failed = []
        for job in ([c.opening] if c.opening is not None else []) + list(c.jobs):
            if job.done:
                continue
            exchange = job.exchange
            nothing_back = exchange is None or exchange.status is None
            if (job.tries == 1 and nothing_back and job.request.method in IDEMPOTENT
                    and c.established
                    and (exchange is None or exchange.failure in (None, *RETRYABLE))):
                job.exchange = None
                self.waiting.appendleft(job)
                continue
            exchange = exchange or Exchange(job.request)
            exchange.error = exchange.error or why
            job.exchange = exchange
            failed.append(job)
        c.opening = None
        c.jobs.clear()
        self._dispatch(now)
        for job in failed:
            self._done(job, now)

    def _done(self, job: Job, now: float) -> None:
        job.done = True
        self.client.job_done(job, now)


class PoolClient:
    """What an engine that fetches over connection pools shares: its origins, the
    outputs for the runtime, the connection numbering (1, 2, … over all origins) and the
    routing of connection events. Subclasses implement :meth:`job_done`."""

    def __init__(self, *, version: str = "1.1", limit: int = 6, pipeline: bool = False,
                 user_agent: str, accept: str, wording: Wording = LIBRARY,
                 header_limit: int = CURL_HEADER_LIMIT) -> None:
        self._out: list = []
        self.version, self.limit, self.pipeline = version, limit, pipeline
        self.user_agent, self.accept = user_agent, accept
        self.wording, self.header_limit = wording, header_limit
        self.origins: dict[tuple[str, int], Origin] = {}
        self._connections = 0
        self._later: list[Kick] = []
        self._current: PoolConnection | None = None

    def origin(self, host: str, address, port: int, *, limit: int | None = None,
               secure: bool = False) -> Origin:
        """The pool for ``host:port`` (made on first use, at ``address``); ``secure``: an
        https origin, another from the http one on the same host and port (RFC 6454)."""
        key = (host, port) if not secure else ("https", host, port)
        origin = self.origins.get(key)
        if origin is None:
            origin = self.origins[key] = Origin(
                self, host_header(host, port, secure), address, port, version=self.version,
                limit=self.limit if limit is None else limit, pipeline=self.pipeline,
                user_agent=self.user_agent, accept=self.accept, secure=secure)
        return origin

    # Which goes first when one event leads to several things on the wire: a request
    # on the connection the event happened on at once, then new connections and lookups,
    # then requests handed to other connections and the client's own new requests. Any
    # order is valid HTTP; this one is the order the SimPy processes of the apps before
    # this engine had (a new connection's process started before a busy one was woken),
    # kept so that the captures of every bundled scenario stay byte-identical.
    def _kick(self, connection: PoolConnection) -> None:
        if connection is self._current:
            self._out.append(Kick(connection))
        else:
            self._later.append(Kick(connection))

    @contextmanager
    def _on(self, connection: PoolConnection):
        self._current = connection
        try:
            yield
        finally:
            self._current = None

    def _next_number(self) -> int:
        self._connections += 1
        return self._connections

    def connection_event(self, event, now: float) -> None:
        """An event a pooled connection reported (its driver's output)."""
        c = event.connection
        if type(event) is Established:
            c.origin.established(c, now)
        elif type(event) is ResponseDone:
            c.origin.response_done(c, now)
        elif type(event) is Finished:
            c.origin.ended(c, c.http.error or "the connection closed", now)

    def connection_ended(self, c: PoolConnection, *, refused: str | None,
                         failure: str | None, now: float) -> None:
        """The runtime is done with ``c``: it could not be made (``refused``), failed
        (``failure``), or closed."""
        if refused is not None:
            why = self.wording.connect(refused, c.origin.host.partition(":")[0], c.origin.port)
        else:
            why = failure or c.http.error or "the connection closed"
        c.origin.ended(c, why, now)

    def job_done(self, job: Job, now: float) -> None:
        raise NotImplementedError

    def outputs(self) -> list:
        out, self._out = self._out + self._later, []
        self._later = []
        return out
