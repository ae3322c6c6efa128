"""A browser's connections to one origin (host and port), as browsers keep them: up to
``limit`` at once (6 in every current browser); over HTTP/1.1 they persist and are reused
by the next request, and with ``pipeline`` a busy connection takes more requests before
the answers come (RFC 9112 §9.3.2); over HTTP/1.0 every request has its own connection.
A request whose connection the server closed before answering (an idle connection timed
out as the request crossed it) is sent again once on a new one, as browsers do for
requests that are safe to repeat (RFC 9112 §9.3.1).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from netsim.apps.stream_io import batch
from netsim.proto.http.client import Exchange, HttpClientConnection, Request

RETRYABLE = ("GET", "HEAD", "OPTIONS", "PUT", "DELETE")


@dataclass
class Job:
    """One request waiting for an answer; ``done`` succeeds with its Exchange."""
    request: Request
    done: object
    queued_at: float
    connect: tuple[float, float] | None = None    # the handshake, if this job opened it
    connection: int | None = None                 # which connection carried it (1, 2, …)
    tries: int = 0
    exchange: Exchange | None = None


@dataclass
class PooledConnection:
    number: int
    engine: HttpClientConnection
    jobs: deque = field(default_factory=deque)      # submitted, answer not yet read
    opening: Job | None = None                      # the job that waits for the handshake
    established: bool = False
    closed: bool = False
    kick: object = None

    @property
    def busy(self) -> int:
        return len(self.jobs) + (1 if self.opening is not None else 0)


class Origin:
    """The connections of one node to ``address:port``, named ``host`` in requests."""

    def __init__(self, node, host: str, address: int, port: int, *, version: str = "1.1",
                 limit: int = 6, pipeline: bool = False, user_agent: str, accept: str,
                 numbering) -> None:
        self.node, self.env = node, node.env
        self.host, self.address, self.port = host, address, port
        self.version, self.limit, self.pipeline = version, limit, pipeline
        self.user_agent, self.accept = user_agent, accept
        self._numbering = numbering                 # the browser's connection counter
        self.connections: list[PooledConnection] = []
        self.waiting: deque[Job] = deque()
        self.opened = 0

    def fetch(self, request: Request, queued_at: float) -> Job:
        job = Job(request, self.env.event(), queued_at)
        self.waiting.append(job)
        self._dispatch()
        return job

    def close_idle(self) -> None:
        for c in self.connections:
            if c.established and not c.jobs and not c.closed:
                c.engine.close()
                self._wake(c)

    # -- matching requests to connections -----------------------------------------------

    def _dispatch(self) -> None:
        while self.waiting:
            idle = next((c for c in self.connections if c.established and not c.closed
                         and c.busy == 0 and c.engine.idle), None)
            if idle is not None:
                self._submit(idle, self.waiting.popleft())
                continue
            if len(self.connections) < self.limit:
                self._open(self.waiting.popleft())
                continue
            if self.pipeline and self.version == "1.1":
                open_ones = [c for c in self.connections if c.established and not c.closed]
                if open_ones:
                    self._submit(min(open_ones, key=lambda c: c.busy), self.waiting.popleft())
                    continue
            return                                  # every connection busy: wait for one

    def _open(self, job: Job) -> None:
        engine = HttpClientConnection(host=self.host, version=self.version, pipeline=self.pipeline,
                                      keep_open=True, user_agent=self.user_agent,
                                      accept=self.accept)
        connection = PooledConnection(self._numbering(), engine, opening=job)
        self.connections.append(connection)
        self.opened += 1
        self.env.process(self._run(connection))

    def _submit(self, connection: PooledConnection, job: Job) -> None:
        job.connection = connection.number
        job.tries += 1
        job.exchange = connection.engine.submit(job.request, self.env.now)
        connection.jobs.append(job)
        self._wake(connection)

    def _wake(self, connection: PooledConnection) -> None:
        if connection.kick is not None and not connection.kick.triggered:
            connection.kick.succeed()

    # -- one connection -----------------------------------------------------------------

    def _run(self, c: PooledConnection):
        job, started = c.opening, self.env.now
        try:
            sock = self.node.tcp_connect(self.address, self.port)
            yield sock.connected
        except (OSError, ConnectionError) as exc:
            reason = ("Connection refused" if isinstance(exc, ConnectionError)
                      else "Network is unreachable")
            self._lost(c, [job], f"connect: {reason}")
            return
        job.connect = (started, self.env.now)
        c.opening, c.established = None, True
        c.engine.start(self.env.now)
        self._submit(c, job)
        self._dispatch()                            # pipelining may put more on it now
        reading = None
        while True:
            self._finish_answered(c)                # which may give it the next request
            data, closing = batch(c.engine.outputs())
            if data:
                sock.send(data)
            if closing:
                sock.close()
                break
            if reading is None:
                reading = sock.recv()
            c.kick = self.env.event()
            yield reading | c.kick
            if not reading.triggered:
                continue
            received, reading = reading.value, None
            if not received:
                c.engine.connection_lost(self.env.now)
                continue
            c.engine.receive(received, self.env.now)
        self._lost(c, list(c.jobs), c.engine.error or "the connection closed")

    def _finish_answered(self, c: PooledConnection) -> None:
        while c.jobs and c.jobs[0].exchange.done_at is not None:
            job = c.jobs.popleft()
            job.done.succeed(job.exchange)
        if not c.jobs:
            self._dispatch()                        # free: the next waiting request

    def _lost(self, c: PooledConnection, jobs: list[Job], why: str) -> None:
        """A connection is gone: its unanswered requests go again once, or fail."""
        c.closed = True
        self.connections.remove(c)
        for job in jobs:
            if job is None or job.done.triggered:
                continue
            sent_nothing_back = job.exchange is None or job.exchange.status is None
            if (job.tries == 1 and sent_nothing_back and job.request.method in RETRYABLE
                    and c.established):
                job.exchange = None
                self.waiting.appendleft(job)
                continue
            exchange = job.exchange or Exchange(job.request)
            exchange.error = exchange.error or why
            job.exchange = exchange
            job.done.succeed(exchange)
        self._dispatch()
