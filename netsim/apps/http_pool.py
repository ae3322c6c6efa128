"""The runtime side of HTTP connection pools (:mod:`netsim.proto.http.pool`): an engine
that fetches over pools — a browser's navigation, a caller's plan — driven in simulated
time. Its :class:`~netsim.proto.http.pool.Open` outputs become connections, each driven
by a :class:`~netsim.sim.runtime.StreamDriver`; :class:`~netsim.proto.http.pool.Kick`
wakes one; what a connection reports goes back to the engine; the engine's own timer
(a visit's time, a poll's) is one alarm. Any other output goes to the application.
"""

from __future__ import annotations

from typing import Callable

from netsim.proto.http.pool import Established, Finished, Kick, Open, PoolConnection, ResponseDone
from netsim.sim.driver import Alarm
from netsim.apps.tls import tls_world
from netsim.sim.datagrams import DatagramDriver
from netsim.sim.runtime import StreamDriver, contain

_CONNECTION_EVENTS = (Established, ResponseDone, Finished)


class PoolDriver(Alarm):
    """Drives ``engine`` (a :class:`~netsim.proto.http.pool.PoolClient`) for ``app``;
    ``handle(output)`` gets the engine's outputs that are the application's business.
    Everything the engine does runs inside the app's error boundary; a failure there
    is ``failed(message)``."""

    def __init__(self, app, engine, handle: Callable[[object], None],
                 failed: Callable[[str], None], tls: dict | None = None,
                 handshake: Callable[[object, StreamDriver], None] | None = None) -> None:
        super().__init__(app.env, engine.get_timer)
        self.app, self.engine, self.handle, self.failed = app, engine, handle, failed
        #: The app's ``tls`` options for https origins (None: its defaults).
        self.tls = tls
        #: ``handshake(connection, driver)`` once an https connection's TLS is up.
        self.handshake = handshake
        self._tls_context = None
        self.drivers: dict[PoolConnection, StreamDriver] = {}
        self.broken = False
        self._carrying = False
        self._told: set[PoolConnection] = set()       # QUIC handshakes reported

    def call(self, function, *args) -> None:
        """Hand the engine something from outside (a start, a DNS answer), then carry
        out what it has to say."""
        if self.broken:
            return
        error = contain(self.app, function, *args)
        if error is not None:
            self.broken = True
            self.failed(error.message)
            return
        self.kick()

    def kick(self) -> None:
        # Outputs are carried in the order the engine made them; one made while another
        # is being carried (a connection refused at once) waits its turn in the loop.
        if self._carrying or self.broken:
            return
        self._carrying = True
        try:
            while True:
                outputs = self.engine.outputs()
                if not outputs:
                    break
                for out in outputs:
                    self._carry(out)
        finally:
            self._carrying = False
        self.want(self.engine.get_timer())

    def _carry(self, out) -> None:
        kind = type(out)
        if kind is Open and out.connection.http.version == "3":
            self._open_quic(out.connection)
        elif kind is Open:
            connection = out.connection
            driver = StreamDriver(self.app, connection, layer=self._layer(connection.origin),
                                  on_output=self._reported,
                                  on_end=lambda d, c=connection: self._ended(c, d))
            self.drivers[connection] = driver
            driver.connect(connection.origin.address, connection.origin.port)
        elif kind is Kick:
            driver = self.drivers.get(out.connection)
            if driver is not None:
                driver.kick()
        else:
            self.handle(out)

    def _open_quic(self, connection: PoolConnection) -> None:
        """HTTP/3: the connection's QUIC configuration (the run's CA, the session ticket
        kept from the last connection to the origin), driven on a UDP socket."""
        origin, http = connection.origin, connection.http
        world = tls_world(self.app.network)
        qlog = world.qlogs.get(self._qlog_name)
        if qlog is None:
            from netsim.proto.http.h3 import SimulatedQlog     # aioquic: only when used
            qlog = world.qlogs[self._qlog_name] = SimulatedQlog(lambda: self.env.now)
        http.configuration = world.quic_client(self.tls or {}, origin.server_name, self.app,
                                               http.address[1], qlog=qlog)
        http.ticket_handler = lambda ticket: world.keep_quic_ticket(
            self.app, origin.server_name, http.address[1], ticket)
        driver = DatagramDriver(self.app, connection, on_output=self._reported,
                                on_end=lambda d, c=connection: self._ended(c, d))
        self.drivers[connection] = driver
        driver.connect(*http.address)

    @property
    def _qlog_name(self) -> str:
        return f"{self.app.node.name}-{self.app.name}"

    def _layer(self, origin):
        """TLS under every connection to an https origin; nothing under http ones."""
        if not origin.secure:
            return None
        world = tls_world(self.app.network)
        if self._tls_context is None:
            # HTTP/2 is asked for by ALPN, HTTP/1.1 offered beside it (RFC 9113 §3.2).
            alpn = ("h2", "http/1.1") if self.engine.version in ("2", "3") else ("http/1.1",)
            self._tls_context = world.client_context(self.tls or {}, alpn=alpn)
        return world.client_layer(self._tls_context, self.app, origin.server_name, origin.port)

    def _reported(self, event) -> None:
        connection = getattr(event, "connection", None)
        driver = self.drivers.get(connection) if connection is not None else None
        if self.handshake is not None and driver is not None:
            if connection.http.version == "3":
                # QUIC's handshake may complete after the connection took requests (0-RTT).
                if connection.http.handshake is not None and connection not in self._told:
                    self._told.add(connection)
                    self.handshake(connection, driver)
            elif type(event) is Established and getattr(driver.layer, "info", None) is not None:
                self.handshake(connection, driver)
        if type(event) in _CONNECTION_EVENTS:
            self.call(self.engine.connection_event, event, self.env.now)

    def _ended(self, connection: PoolConnection, driver: StreamDriver) -> None:
        self.drivers.pop(connection, None)
        self.call(lambda: self.engine.connection_ended(
            connection, refused=driver.refused, failure=driver.failure, now=self.env.now))

    def _due(self, now: float) -> None:
        self.call(self.engine.handle_timer, now)
