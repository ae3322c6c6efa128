"""A fake wire for engine pairs (the h11 ``ConnectionPair`` / aioquic ``roundtrip`` idea).

Engines exchange the messages they output; the wire can drop them by a predicate.
Time is advanced by hand, firing each engine's timer when its deadline comes.
"""

from __future__ import annotations

from netsim.proto import arp
from netsim.wire.addr import BROADCAST_MAC, ZERO_MAC
from netsim.wire.headers import ARP_REPLY, ARP_REQUEST


class ArpLan:
    """ARP resolvers on one broadcast segment; ``drop(message)`` loses messages."""

    def __init__(self, *resolvers, drop=lambda message: False):
        self.resolvers = list(resolvers)
        self.drop = drop
        self.now = 0.0
        self.released: list = []
        self.abandoned: list = []
        self.sent: list = []

    def pump(self) -> None:
        moved = True
        while moved:
            moved = False
            for sender in self.resolvers:
                for out in sender.outputs():
                    moved = True
                    self._carry(sender, out)

    def _carry(self, sender, out) -> None:
        if isinstance(out, arp.Release):
            self.released.append((sender, out))
            return
        if isinstance(out, arp.Abandon):
            self.abandoned.append((sender, out))
            return
        if isinstance(out, arp.Learned):
            return
        if isinstance(out, (arp.Learned, arp.Forgot)):
            return
        if isinstance(out, arp.SendRequest):
            message = (ARP_REQUEST, sender.mac, sender.ip, ZERO_MAC, out.target_ip,
                       out.unicast_mac or BROADCAST_MAC)
        else:
            message = (ARP_REPLY, sender.mac, out.sender_ip, out.target_mac, out.target_ip,
                       out.target_mac)
        self.sent.append(message)
        if self.drop(message):
            return
        op, sha, spa, tha, tpa, dst = message
        for receiver in self.resolvers:
            if receiver is not sender and dst in (BROADCAST_MAC, receiver.mac):
                receiver.receive(op, sha, spa, tha, tpa, self.now, unicast=dst == receiver.mac)

    def advance(self, until: float) -> None:
        """Fire every timer due up to ``until``, in deadline order."""
        while True:
            due = [(r.get_timer(), i) for i, r in enumerate(self.resolvers) if r.get_timer() is not None]
            due = [d for d in due if d[0] <= until]
            if not due:
                break
            deadline, i = min(due)
            self.now = deadline
            self.resolvers[i].handle_timer(deadline)
            self.pump()
        self.now = until
