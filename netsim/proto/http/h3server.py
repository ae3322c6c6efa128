"""The HTTP/3 server (RFC 9114 over QUIC, RFC 9000), sans-I/O, with aioquic: every
connection that reaches one UDP port, routed by destination connection ID (§5.2), each
answered from the same sites as the HTTP/1.x and HTTP/2 servers. Its datagrams are
:class:`~netsim.proto.stream.SendTo` outputs; each answered request is an
:class:`AnsweredFrom` (the access log's line with the client's address)."""

from __future__ import annotations

from dataclasses import dataclass

from aioquic.buffer import Buffer, BufferReadError
from aioquic.h3.connection import ErrorCode, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.h3.exceptions import H3Error
from aioquic.quic import events as quic_events
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection
from aioquic.quic.logger import QuicLogger
from aioquic.quic.packet import PACKET_TYPE_INITIAL, pull_quic_header

from netsim.proto.http.fields import answer
from netsim.proto.http.h3 import TIMER_SLACK, handled_at
from netsim.proto.http.server import Answered
from netsim.proto.http.site import Site
from netsim.proto.stream import SendTo, StreamEngine


@dataclass(frozen=True, slots=True)
class AnsweredFrom:
    """A request the server answered, and the client (address, port) that asked."""
    answered: Answered
    client: tuple[str, int]



class Http3Server(StreamEngine):
    """Every HTTP/3 connection that reaches one UDP port, for ``sites``: datagrams are
    routed by their destination connection ID (RFC 9000 §5.2); a client's Initial that
    matches none starts a connection. ``configuration`` is the server's (certificate,
    key, ALPN h3); tickets it issues are kept so that clients can resume and send 0-RTT."""

    def __init__(self, sites: dict[str, Site], configuration: QuicConfiguration, *,
                 server_name: str = "netsim", qlog: QuicLogger | None = None) -> None:
        super().__init__()
        self.sites, self.configuration, self.server_name = sites, configuration, server_name
        self.qlog = qlog
        self._by_cid: dict[bytes, _ServerConnection] = {}
        self.connections: list[_ServerConnection] = []
        self._tickets: dict[bytes, object] = {}
        self.log: list[Answered] = []
        self.accepted = 0
        self.ignored = 0                              # datagrams that were not QUIC we know

    def receive_from(self, data: bytes, address: tuple[str, int], now: float) -> None:
        try:
            header = pull_quic_header(Buffer(data=data),
                                      host_cid_length=self.configuration.connection_id_length)
        except (ValueError, BufferReadError):
            self.ignored += 1                         # not QUIC: dropped, as a server does
            return
        connection = self._by_cid.get(header.destination_cid)
        if connection is None:
            if header.packet_type != PACKET_TYPE_INITIAL or len(data) < 1200:
                self.ignored += 1                     # RFC 9000 §14.1: too small an Initial
                return
            quic = QuicConnection(configuration=self.configuration,
                                  original_destination_connection_id=header.destination_cid,
                                  session_ticket_fetcher=self._ticket,
                                  session_ticket_handler=self._keep_ticket)
            connection = _ServerConnection(self, quic, address)
            self.connections.append(connection)
            self.accepted += 1
            self._by_cid[header.destination_cid] = connection
            self._by_cid[quic.host_cid] = connection
        connection.receive(data, address, now)

    def _keep_ticket(self, ticket) -> None:
        self._tickets[ticket.ticket] = ticket

    def _ticket(self, label: bytes):
        # Each ticket is taken once: a replayed 0-RTT flight finds none (RFC 8446 §8.1).
        return self._tickets.pop(label, None)

    def get_timer(self) -> float | None:
        timers = [t for c in self.connections if (t := c.quic.get_timer()) is not None]
        return min(timers) if timers else None

    def handle_timer(self, now: float) -> None:
        for connection in list(self.connections):
            timer = connection.quic.get_timer()
            if timer is not None and now >= timer - TIMER_SLACK:
                connection.quic.handle_timer(now=handled_at(timer, now))
                connection.after(now)

    def forget(self, connection: "_ServerConnection") -> None:
        self.connections.remove(connection)
        for cid in [c for c, owner in self._by_cid.items() if owner is connection]:
            del self._by_cid[cid]


class _ServerConnection:
    """One client's QUIC connection to the server and the requests on it."""

    def __init__(self, server: Http3Server, quic: QuicConnection, address) -> None:
        self.server, self.quic, self.address = server, quic, address
        self.h3 = H3Connection(quic)
        self._requests: dict[int, tuple[list, bytearray]] = {}

    def receive(self, data: bytes, address, now: float) -> None:
        self.address = address                        # a client may migrate (RFC 9000 §9)
        self.quic.receive_datagram(data, address, now=now)
        self.after(now)

    def after(self, now: float) -> None:
        server, quic = self.server, self.quic
        while (event := quic.next_event()) is not None:
            kind = type(event)
            if kind is quic_events.ConnectionIdIssued:
                server._by_cid[event.connection_id] = self
            elif kind is quic_events.ConnectionIdRetired:
                server._by_cid.pop(event.connection_id, None)
            elif kind is quic_events.ConnectionTerminated:
                self._flush(now)
                server.forget(self)
                return
            try:
                h3_events = self.h3.handle_event(event)
            except H3Error:
                quic.close(error_code=ErrorCode.H3_GENERAL_PROTOCOL_ERROR)
                break
            for h3_event in h3_events:
                self._h3_event(h3_event, now)
        self._flush(now)

    def _h3_event(self, event, now: float) -> None:
        if isinstance(event, HeadersReceived):
            self._requests[event.stream_id] = (event.headers, bytearray())
        elif isinstance(event, DataReceived):
            request = self._requests.get(event.stream_id)
            if request is not None:
                request[1].extend(event.data)
        if getattr(event, "stream_ended", False) and event.stream_id in self._requests:
            self._answer(event.stream_id, now)

    def _answer(self, stream_id: int, now: float) -> None:
        server = self.server
        raw, body = self._requests.pop(stream_id)
        reply = answer(server.sites, raw, bytes(body), now, version="3",
                       server_name=server.server_name)
        server.log.append(reply.entry)
        server._out.append(AnsweredFrom(reply.entry, self.address))
        self.h3.send_headers(stream_id, reply.fields, end_stream=not reply.body)
        if reply.body:
            self.h3.send_data(stream_id, reply.body, end_stream=True)

    def _flush(self, now: float) -> None:
        for data, address in self.quic.datagrams_to_send(now=now):
            self.server._out.append(SendTo(data, address))
