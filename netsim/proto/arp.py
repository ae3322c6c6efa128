"""ARP (RFC 826) for one interface: cache, resolution with retries, held packets.

Theory of operation
-------------------
``lookup(ip, now)`` answers from the cache while an entry is fresh (its lifetime,
default 60 s, counts from when it was learned or refreshed). On a miss the caller
``hold()``s the packet: the first held packet for an address starts a resolution,
which broadcasts a request at once and again every ``retry_interval`` until
``max_requests`` have gone unanswered (RFC 1122 §2.3.2.1 asks for no more than one
request a second per address). Up to ``queue_limit`` packets wait per address
(default 100, about what Linux's ``unres_qlen_bytes`` of 212,992 bytes holds in
full-size frames); when full, the oldest gives way, as in Linux, and the caller drops
it (``arp-queue-full``). When the reply comes the waiting packets are released in
order; when the retries run out
they are abandoned with reason ``arp-timeout``.

Reception follows RFC 826's algorithm: a sender already in the cache is updated
(the *merge* flag); if the packet targets us the sender is added, and a request
is answered. A gratuitous ARP (sender address = target address) therefore
refreshes existing entries and adds none, as RFC 5227 §3 describes.

Outputs, drained with :meth:`outputs`: :class:`SendRequest`, :class:`SendReply`,
:class:`Release`, :class:`Abandon`, :class:`Learned`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from netsim.errors import FrameError

from netsim.wire.headers import ARP_REPLY, ARP_REQUEST


@dataclass(frozen=True, kw_only=True, slots=True)
class SendRequest:
    """Broadcast ``who-has target_ip``."""
    target_ip: int
    #: How many requests for this address this one makes (1 for the first).
    attempt: int


@dataclass(frozen=True, kw_only=True, slots=True)
class SendReply:
    """Answer a request: ``sender_ip is-at`` our MAC, sent to the asker."""
    target_mac: bytes
    target_ip: int


@dataclass(frozen=True, kw_only=True, slots=True)
class Release:
    """The address resolved; send the held packets to ``mac``."""
    ip: int
    mac: bytes
    packets: list


@dataclass(frozen=True, kw_only=True, slots=True)
class Abandon:
    """Resolution failed after every retry; drop the held packets (``arp-timeout``)."""
    ip: int
    packets: list


@dataclass(frozen=True, kw_only=True, slots=True)
class Learned:
    """A cache entry was added or changed (for the trace)."""
    ip: int
    mac: bytes


@dataclass(slots=True)
class _Pending:
    packets: list = field(default_factory=list)
    requests: int = 0
    next_retry: float = 0.0


class ArpResolver:
    """The ARP state of one interface with address ``ip`` and hardware address ``mac``."""

    def __init__(self, ip: int | None, mac: bytes, *, lifetime: float = 60.0,
                 retry_interval: float = 1.0, max_requests: int = 3,
                 queue_limit: int = 100) -> None:
        self.ip = ip
        self.mac = mac
        self.lifetime = lifetime
        self.retry_interval = retry_interval
        self.max_requests = max_requests
        self.queue_limit = queue_limit
        #: ip -> (mac, expires_at)
        self.cache: dict[int, tuple[bytes, float]] = {}
        self._pending: dict[int, _Pending] = {}
        self._out: list = []

    # -- asked by the IP layer -------------------------------------------------

    def lookup(self, ip: int, now: float) -> bytes | None:
        entry = self.cache.get(ip)
        if entry is not None and entry[1] > now:
            return entry[0]
        return None

    def hold(self, ip: int, packet, now: float):
        """Keep ``packet`` until ``ip`` resolves. When the queue is full the oldest packet
        makes room, as Linux's neighbour queue (``unres_qlen``) does; it is returned, to
        be dropped, else None."""
        pending = self._pending.get(ip)
        if pending is None:
            pending = self._pending[ip] = _Pending()
            self._request(ip, pending, now)
        evicted = pending.packets.pop(0) if len(pending.packets) >= self.queue_limit else None
        pending.packets.append(packet)
        return evicted

    # -- fed by the wire ---------------------------------------------------------

    def receive(self, op: int, sha: bytes, spa: int, tha: bytes, tpa: int, now: float) -> None:
        """RFC 826 "packet reception" for an ARP packet that reached this interface.

        An opcode other than request or reply is refused before anything is learned
        (as Linux's ``arp_process`` does; RFC 826 merges first, which lets a stray
        opcode poison the cache)."""
        if op not in (ARP_REQUEST, ARP_REPLY):
            raise FrameError(f"ARP opcode {op} is neither request (1) nor reply (2)")
        merged = False
        if spa in self.cache:
            self._learn(spa, sha, now)
            merged = True
        if self.ip is None or tpa != self.ip:
            return
        if not merged and spa != 0:
            self._learn(spa, sha, now)
        if op == ARP_REQUEST:
            self._out.append(SendReply(target_mac=sha, target_ip=spa))

    def _learn(self, ip: int, mac: bytes, now: float) -> None:
        old = self.cache.get(ip)
        self.cache[ip] = (mac, now + self.lifetime)
        if old is None or old[0] != mac:
            self._out.append(Learned(ip=ip, mac=mac))
        pending = self._pending.pop(ip, None)
        if pending is not None:
            self._out.append(Release(ip=ip, mac=mac, packets=pending.packets))

    def _request(self, ip: int, pending: _Pending, now: float) -> None:
        pending.requests += 1
        pending.next_retry = now + self.retry_interval
        self._out.append(SendRequest(target_ip=ip, attempt=pending.requests))

    # -- the sans-I/O contract -----------------------------------------------------

    def outputs(self) -> list:
        out, self._out = self._out, []
        return out

    def get_timer(self) -> float | None:
        if not self._pending:
            return None
        return min(p.next_retry for p in self._pending.values())

    def handle_timer(self, now: float) -> None:
        for ip, pending in list(self._pending.items()):
            if pending.next_retry > now:
                continue
            if pending.requests >= self.max_requests:
                del self._pending[ip]
                self._out.append(Abandon(ip=ip, packets=pending.packets))
            else:
                self._request(ip, pending, now)


__all__ = ["Abandon", "ArpResolver", "Learned", "Release", "SendReply", "SendRequest",
           "ARP_REPLY", "ARP_REQUEST"]
