"""The Spanning Tree Protocol of one bridge (IEEE 802.1D-1998 §8), sans-I/O.

Theory of operation. Every bridge starts believing it is the root. It sends
configuration BPDUs — (root id, cost to the root, its own id, port id) — on its
designated ports every ``hello`` seconds. A port keeps the best BPDU it has heard
(lowest vector, compared field by field, §8.6.2) for ``max_age`` less the BPDU's
age. From what its ports heard a bridge computes (§8.6.8–8.6.10):

* the root: the lowest root id heard, or itself;
* its root port: the port with the best path to that root (cost + the port's
  own path cost, then the sender's bridge id, then the sender's port id, then its
  own port id);
* designated ports: those on which its own vector beats what the port heard;
* every other port is an *alternate* and blocks: it receives BPDUs but neither
  learns addresses nor forwards frames. That is what breaks the loop.

A root or designated port that was blocking goes through listening and learning,
``forward_delay`` each (§8.4), before it forwards. A BPDU worse than ours heard on
a designated port is answered at once (§8.7.1). Edge ports — facing a host or a
router, never a bridge — forward from the start and send no BPDUs (the "port
fast" of most switches, the edge port of 802.1D-2004); a BPDU heard on one makes
it an ordinary port at once. Topology change notification (§8.6.14) is not
modelled: learned addresses age out as usual.

Outputs, pulled with :meth:`outputs`: :class:`SendBpdu`, :class:`PortChanged`,
:class:`RootChanged`. Time is given in; :meth:`get_timer` says when to come back.
"""

from __future__ import annotations

from dataclasses import dataclass

from netsim.wire.stp import Bpdu

BLOCKING, LISTENING, LEARNING, FORWARDING = "blocking", "listening", "learning", "forwarding"
ROOT, DESIGNATED, ALTERNATE, EDGE = "root", "designated", "alternate", "edge"
#: What a BPDU's message age grows by at each bridge it crosses (§8.10.2's increment).
MESSAGE_AGE_INCREMENT = 1.0


def path_cost(rate: float) -> int:
    """802.1D-1998 Table 8-5's recommended port path cost for a link rate in bit/s."""
    for limit, cost in ((4e6, 250), (10e6, 100), (16e6, 62), (100e6, 19), (1e9, 4), (10e9, 2)):
        if rate <= limit:
            return cost
    return 1


@dataclass(frozen=True, kw_only=True, slots=True)
class SendBpdu:
    port: int
    bpdu: Bpdu


@dataclass(frozen=True, kw_only=True, slots=True)
class PortChanged:
    port: int
    role: str
    state: str


@dataclass(frozen=True, kw_only=True, slots=True)
class RootChanged:
    root: int
    cost: int
    root_port: int | None


@dataclass(slots=True)
class _Port:
    number: int
    cost: int
    edge: bool
    role: str = DESIGNATED
    state: str = BLOCKING
    heard: Bpdu | None = None
    heard_until: float = 0.0
    next_state_at: float | None = None

    @property
    def id(self) -> int:
        return 0x80 << 8 | (self.number & 0xFF)     # port priority 128, port number


class StpBridge:
    """One bridge's spanning tree: ports by number, each with a path cost and whether
    it is an edge port."""

    def __init__(self, bridge_id: int, ports: dict[int, tuple[int, bool]], *, hello: float = 2.0,
                 max_age: float = 20.0, forward_delay: float = 15.0) -> None:
        if hello <= 0 or forward_delay <= 0 or max_age <= 0:
            raise ValueError("STP timers must be positive")
        self.bridge_id = bridge_id
        self.hello, self.max_age, self.forward_delay = hello, max_age, forward_delay
        self.ports = {n: _Port(n, cost, edge) for n, (cost, edge) in ports.items()}
        self.root = bridge_id
        self.root_cost = 0
        self.root_port: int | None = None
        self._root_age = 0.0
        self._next_hello: float | None = None
        self._out: list = []

    # -- what the switch asks --------------------------------------------------------------

    def forwarding(self, port: int) -> bool:
        p = self.ports.get(port)
        return p is not None and p.state == FORWARDING

    def learning(self, port: int) -> bool:
        p = self.ports.get(port)
        return p is not None and p.state in (LEARNING, FORWARDING)

    # -- events in -------------------------------------------------------------------------

    def start(self, now: float) -> None:
        for p in self.ports.values():
            if p.edge:
                p.role, p.state = EDGE, FORWARDING
                self._out.append(PortChanged(port=p.number, role=EDGE, state=FORWARDING))
        self._recompute(now)
        self._next_hello = now
        self.handle_timer(now)

    def receive(self, port: int, bpdu: Bpdu | None, now: float) -> None:
        """A BPDU arrived on ``port`` (None: a topology change notification)."""
        p = self.ports.get(port)
        if p is None or bpdu is None:
            return
        if p.edge:
            # A bridge behind an edge port: it is not an edge after all (§ port fast).
            p.edge = False
            p.role, p.state = DESIGNATED, BLOCKING
            self._out.append(PortChanged(port=p.number, role=DESIGNATED, state=BLOCKING))
        if bpdu.age >= bpdu.max_age:
            return                                    # §8.6.1.3: too old, ignore
        if p.heard is None or _vector(bpdu) <= _vector(p.heard) or \
                (bpdu.bridge, bpdu.port) == (p.heard.bridge, p.heard.port):
            p.heard = bpdu
            p.heard_until = now + bpdu.max_age - bpdu.age
        self._recompute(now)
        if p.role == DESIGNATED and _vector(bpdu) > self._vector_on(p):
            self._out.append(SendBpdu(port=p.number, bpdu=self._bpdu(p)))   # §8.7.1 reply

    # -- the sans-I/O contract -------------------------------------------------------------

    def outputs(self) -> list:
        out, self._out = self._out, []
        return out

    def get_timer(self) -> float | None:
        times = [t for t in (self._next_hello,) if t is not None]
        times += [p.next_state_at for p in self.ports.values() if p.next_state_at is not None]
        times += [p.heard_until for p in self.ports.values() if p.heard is not None]
        return min(times) if times else None

    def handle_timer(self, now: float) -> None:
        expired = False
        for p in self.ports.values():
            if p.heard is not None and now >= p.heard_until:
                p.heard = None                        # §8.6.2.3: the information aged out
                expired = True
            if p.next_state_at is not None and now >= p.next_state_at:
                p.state = LEARNING if p.state == LISTENING else FORWARDING
                p.next_state_at = now + self.forward_delay if p.state == LEARNING else None
                self._out.append(PortChanged(port=p.number, role=p.role, state=p.state))
        if expired:
            self._recompute(now)
        if self._next_hello is not None and now >= self._next_hello:
            self._next_hello = now + self.hello
            for p in self.ports.values():
                if p.role == DESIGNATED and not p.edge:
                    self._out.append(SendBpdu(port=p.number, bpdu=self._bpdu(p)))

    # -- the computation -------------------------------------------------------------------

    def _vector_on(self, p: _Port) -> tuple:
        return (self.root, self.root_cost, self.bridge_id, p.id)

    def _bpdu(self, p: _Port) -> Bpdu:
        return Bpdu(self.root, self.root_cost, self.bridge_id, p.id, age=self._root_age,
                    max_age=self.max_age, hello=self.hello, forward_delay=self.forward_delay)

    def _recompute(self, now: float) -> None:
        best = None
        for p in self.ports.values():
            if p.heard is None or p.edge:
                continue
            h = p.heard
            candidate = (h.root, h.cost + p.cost, h.bridge, h.port, p.id)
            if h.root < self.bridge_id and (best is None or candidate < best[0]):
                best = (candidate, p)
        old = (self.root, self.root_cost, self.root_port)
        if best is None:
            self.root, self.root_cost, self.root_port, self._root_age = self.bridge_id, 0, None, 0.0
        else:
            (root, cost, *_), p = best
            self.root, self.root_cost, self.root_port = root, cost, p.number
            self._root_age = p.heard.age + MESSAGE_AGE_INCREMENT
        if (self.root, self.root_cost, self.root_port) != old:
            self._out.append(RootChanged(root=self.root, cost=self.root_cost,
                                         root_port=self.root_port))
        for p in self.ports.values():
            if p.edge:
                continue
            if p.number == self.root_port:
                role = ROOT
            elif p.heard is None or self._vector_on(p) < _vector(p.heard):
                role = DESIGNATED
            else:
                role = ALTERNATE
            self._set_role(p, role, now)

    def _set_role(self, p: _Port, role: str, now: float) -> None:
        if role == p.role and not (role != ALTERNATE and p.state == BLOCKING):
            return
        p.role = role
        if role == ALTERNATE:
            changed = p.state != BLOCKING
            p.state, p.next_state_at = BLOCKING, None
        elif p.state == BLOCKING:
            changed = True
            p.state, p.next_state_at = LISTENING, now + self.forward_delay
        else:
            changed = True                            # a new role, the same state
        if changed:
            self._out.append(PortChanged(port=p.number, role=p.role, state=p.state))


def _vector(b: Bpdu) -> tuple:
    return (b.root, b.cost, b.bridge, b.port)
