"""Point-to-point, full-duplex links: serialization, propagation, a drop-tail queue, loss.

Each direction is a :class:`Channel` (ns-3's ``PointToPointChannel::TransmitStart``
is the model). A frame handed to a channel starts transmission when the wire is
free — at once, or when the frames queued before it are through — takes
``len(frame) × 8 / rate`` seconds to serialize (the frame's own bytes, as a textbook
computes L/R; preamble and inter-frame gap are not modelled), and arrives
``delay`` (plus up to ``jitter``) after its last bit left. Because a FIFO queue
feeding one wire is fully determined when a frame joins it, the channel computes
each frame's start and arrival at once and schedules a single SimPy event, for the
arrival: no process per queue, no event per transmission start.

Queue occupancy at time *t* is the number of frames accepted whose transmission
has not started by *t*. A frame that finds ``queue_packets`` frames (or
``queue_bytes`` bytes) waiting is dropped (``queue-full``). A frame lost to the
link's Bernoulli ``loss`` still occupies the wire for its serialization time but
never arrives (``loss``). Jitter never reorders: a wire delivers in order, and two
arrivals are at least the later frame's serialization time apart.
"""

from __future__ import annotations

import random
from collections import deque
from heapq import heappush

from simpy.events import NORMAL

from netsim.errors import FrameBudgetExceeded
from netsim.sim.schedule import Callback
from netsim.trace import DROP, ENQUEUE, TX
from netsim.trace.recorder import FRAME_SHIFT


class Channel:
    """One direction of a :class:`Link`, from interface ``src`` to interface ``dst``."""

    def __init__(self, link: "Link", src, dst) -> None:
        self.link = link
        self.src = src
        self.dst = dst
        self._env = link.network.env
        # Each direction of each link draws its losses and jitter from its own stream of
        # the seed: traffic added elsewhere does not change what happens here.
        self._rng = random.Random(f"{link.network.seed}:{link.name}:{src.node.name}:{src.name}")
        self._trace = link.network.trace
        self._busy_until = 0.0
        self._last_arrival = 0.0
        self._waiting: deque = deque()      # (start time, size) of frames not yet started
        self._waiting_bytes = 0
        self._in_flight: deque = deque()    # frames on their way, in arrival order
        self._deliver_to = dst.node.receive
        # Each arrival is an entry in SimPy's queue, pushed here as Environment.schedule
        # pushes it (time, priority, insertion number, event), without the call; the one
        # Callback serves every arrival: netsim's Environment calls it, nothing waits on it.
        self._queue = self._env._queue
        self._eid = self._env._eid
        self._arrival = Callback(self._deliver)
        self._record = self._trace.record
        # A transmission is the commonest record: appended here, without a call.
        self._tx_append = self._trace.appender(TX, src.port)
        self._reason_queue = self._trace.reason("queue-full")
        self._reason_loss = self._trace.reason("loss")
        self.sent = self.lost = self.queue_drops = 0
        self._allowance = 0                 # transmissions left of this channel's budget share
        self.bytes_sent = 0

    def transmit(self, frame) -> bool:
        link = self.link
        now = self._env._now
        self._allowance -= 1
        if self._allowance < 0:
            self._draw_allowance()
        size = len(frame.data)
        port = self.src.port
        if self._busy_until <= now:
            start = now                         # the wire is free: no queue to look at
            if self._waiting:
                self._waiting.clear()
                self._waiting_bytes = 0
        else:
            waiting = self._waiting
            while waiting and waiting[0][0] <= now:
                self._waiting_bytes -= waiting.popleft()[1]
            if len(waiting) >= link.queue_packets or (
                    link.queue_bytes and self._waiting_bytes + size > link.queue_bytes):
                self.queue_drops += 1
                self._record(now, DROP, port, frame, self._reason_queue)
                return False
            start = self._busy_until
            waiting.append((start, size))
            self._waiting_bytes += size
            self._record(now, ENQUEUE, port, frame)
        end = self._busy_until = start + size * 8 / link.rate
        if link.loss and self._rng.random() < link.loss:
            self.lost += 1
            self._record(start, DROP, port, frame, self._reason_loss)
            return True
        if self._tx_append is None:
            self._record(start, TX, port, frame)
        else:
            append_time, append_meta, word = self._tx_append
            fid = frame.id
            if fid < 0:
                fid = self._trace.new_frame(frame)
            append_time(start)
            append_meta(fid << FRAME_SHIFT | word)
        self.sent += 1
        self.bytes_sent += size
        arrival = end + link.delay
        if link.jitter:
            arrival += self._rng.random() * link.jitter
            # A wire delivers in order, and a frame's last bit cannot arrive sooner after
            # the previous frame's than its own serialization takes.
            earliest = self._last_arrival + (end - start)
            if arrival < earliest:
                arrival = earliest
        self._last_arrival = arrival
        self._in_flight.append(frame)
        # now + (arrival − now), not arrival: the time Environment.schedule would compute,
        # to the last bit, so the captures' timestamps stay as they were.
        heappush(self._queue, (now + (arrival - now), NORMAL, next(self._eid), self._arrival))
        return True

    def _draw_allowance(self) -> None:
        """Take the next share of the run's frame budget (kept per channel, in shares of
        1,000, so the check per frame costs one decrement); none left: stop the run."""
        trace = self._trace
        share = min(1000, trace.budget - trace.budget_drawn)
        if share <= 0:
            raise FrameBudgetExceeded(trace.budget)
        trace.budget_drawn += share
        self._allowance = share - 1

    def _deliver(self, _event) -> None:
        # Whatever the receiver sends while handling this frame was caused by it. (No
        # try/finally: receive paths never raise, and the next delivery resets it anyway.)
        frame = self._in_flight.popleft()
        trace = self._trace
        trace.cause = (frame.id + 1) << 8
        self._deliver_to(frame, self.dst)
        trace.cause = 0


class Link:
    """A full-duplex point-to-point link between interfaces ``a`` and ``b``."""

    def __init__(self, network, name: str, a, b, *, rate: float = 100e6, delay: float = 1e-3,
                 jitter: float = 0.0, loss: float = 0.0, queue_packets: int = 100,
                 queue_bytes: int = 0, mtu: int = 1500) -> None:
        if rate <= 0 or delay < 0 or jitter < 0 or not 0 <= loss <= 1 or queue_packets < 1:
            raise ValueError("a link needs rate > 0, delay ≥ 0, jitter ≥ 0, 0 ≤ loss ≤ 1, queue ≥ 1")
        self.network = network
        self.name = name
        self.a, self.b = a, b
        self.rate, self.delay, self.jitter, self.loss = rate, delay, jitter, loss
        self.queue_packets, self.queue_bytes, self.mtu = queue_packets, queue_bytes, mtu
        self.forward = Channel(self, a, b)
        self.backward = Channel(self, b, a)
        for iface, channel in ((a, self.forward), (b, self.backward)):
            iface.channel = channel
            iface.link = self
            iface.mtu = min(iface.mtu, mtu)
            network.trace.set_link(iface.port, name)

    def __repr__(self) -> str:
        return f"<Link {self.name} {self.a.node.name}:{self.a.name} — {self.b.node.name}:{self.b.name}>"
