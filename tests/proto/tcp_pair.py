"""Two TCP engines over a fake wire with latency, loss, duplication and reordering.

The wire is a list of (deliver_at, order, receiver, segment); ``mangle`` decides per
segment how many copies arrive and with what extra delay (aioquic's ``roundtrip``
and ``drop`` helpers, made general). ``run`` advances time event by event.
"""

from __future__ import annotations

import heapq
import itertools

from netsim.proto.tcp import Segment, TcpConnection
from netsim.proto.tcp.segment import copy_segment as copy


class TcpPair:
    def __init__(self, client_options=None, server_options=None, *, latency=0.01, mangle=None,
                 client_iss=1000, server_iss=5000):
        self.client = TcpConnection(iss=client_iss, **(client_options or {}))
        self.server = TcpConnection(iss=server_iss, **(server_options or {}))
        self.latency = latency
        self.mangle = mangle or (lambda sender, seg, index: [0.0])
        self.now = 0.0
        self._wire: list = []
        self._order = itertools.count()
        self.sent = {id(self.client): [], id(self.server): []}
        self.events = {id(self.client): [], id(self.server): []}
        self.received = {id(self.client): bytearray(), id(self.server): bytearray()}
        self.auto_read = {id(self.client): True, id(self.server): True}

    def peer(self, conn):
        return self.server if conn is self.client else self.client

    def pump(self) -> None:
        for conn in (self.client, self.server):
            for out in conn.outputs():
                if isinstance(out, Segment):
                    index = len(self.sent[id(conn)])
                    self.sent[id(conn)].append(copy(out))
                    for extra in self.mangle(conn, out, index):
                        heapq.heappush(self._wire, (self.now + self.latency + extra,
                                                    next(self._order), self.peer(conn), copy(out)))
                else:
                    self.events[id(conn)].append(out)
            if self.auto_read[id(conn)] and conn.available:
                self.received[id(conn)] += conn.read(None, self.now)

    def step(self, until: float = float("inf")) -> bool:
        """Advance to the next delivery or timer (not past ``until``); False when none."""
        self.pump()
        timers = [(t, c) for c in (self.client, self.server) if (t := c.get_timer()) is not None]
        next_wire = self._wire[0][0] if self._wire else None
        next_timer = min(timers, key=lambda x: x[0]) if timers else None
        if next_wire is None and next_timer is None:
            return False
        if min(t for t in (next_wire, next_timer and next_timer[0]) if t is not None) > until:
            self.now = until
            return False
        if next_timer is not None and (next_wire is None or next_timer[0] < next_wire):
            self.now = max(self.now, next_timer[0])
            next_timer[1].handle_timer(self.now)
        else:
            at, _, receiver, seg = heapq.heappop(self._wire)
            self.now = max(self.now, at)
            receiver.receive(seg, self.now)
        self.pump()
        return True

    def run(self, until: float = 600.0, max_steps: int = 200_000) -> None:
        for _ in range(max_steps):
            if not self.step(until):
                return
        raise AssertionError("the pair did not settle")

    def states(self):
        return str(self.client.state), str(self.server.state)

    def event_types(self, conn):
        return [type(e).__name__ for e in self.events[id(conn)]]


def closed_into_time_wait(client_options=None) -> TcpPair:
    """A pair that connected, then both closed: the client is in TIME-WAIT."""
    pair = TcpPair(client_options=client_options)
    pair.server.listen()
    pair.client.connect(0.0)
    pair.run(until=1.0)
    pair.client.close(pair.now)
    pair.server.close(pair.now)
    pair.run(until=pair.now + 0.1)
    return pair
