"""ARP (RFC 826) for one interface: cache, resolution with retries, held packets.

Theory of operation
-------------------
``lookup(ip, now)`` answers from the cache. On a miss the caller ``hold()``s the
packet: the first held packet for an address starts a resolution, which broadcasts a
request at once and again every ``retry_interval`` until ``max_requests`` have gone
unanswered (RFC 1122 §2.3.2.1 asks for no more than one request a second per
address). Up to ``queue_limit`` packets wait per address (default 100, about what
Linux's ``unres_qlen_bytes`` of 212,992 bytes holds in full-size frames); when full,
the oldest gives way, as in Linux, and the caller drops it (``arp-queue-full``). When
the reply comes the waiting packets are released in order; when the retries run out
they are abandoned with reason ``arp-timeout``.

How long an entry is trusted depends on the stack:

* **textbook** (``nud=False``): an entry is fresh for ``lifetime`` (60 s) from when it
  was learned or refreshed, then forgotten — the next packet waits for a broadcast
  request again. Reception follows RFC 826's algorithm: a sender already in the cache
  is updated (the *merge* flag); if the packet targets us the sender is added, and a
  request is answered. A gratuitous ARP (sender address = target address) therefore
  refreshes existing entries and adds none, as RFC 5227 §3 describes.
* **Linux** (``nud=True``): neighbour unreachability detection, the state machine of
  RFC 4861 §7.3.2 that Linux's neighbour table applies to ARP too. An entry is
  REACHABLE for a random 0.5–1.5 × ``base_reachable_time`` (30 s; one draw per
  interface, redrawn every 300 s, as ``neigh_rand_reach_time`` does) after it was last
  *confirmed* — by a unicast ARP reply, or by the layer above (TCP's acknowledgment of
  new data: :meth:`confirm`). Then it is STALE and still used: the first packet sent
  through a stale entry moves it to DELAY, and if nothing confirms it within
  ``delay_first_probe`` (5 s) it becomes PROBE — up to ``unicast_probes`` (3) requests
  sent *unicast* to the cached address, a second apart — and is forgotten if none is
  answered. No packet waits and no broadcast is sent while an entry is being checked.
  Reception follows Linux's ``arp_process``: a request for one of the host's
  addresses — on any interface (``arp_ignore=0``), never a loopback one — is answered
  and adds its sender as STALE; a unicast reply makes its sender REACHABLE; a new
  hardware address replaces the old one and makes the entry STALE; anything else
  leaves an entry's state alone and adds nothing.

Outputs, drained with :meth:`outputs`: :class:`SendRequest`, :class:`SendReply`,
:class:`Release`, :class:`Abandon`, :class:`Learned`, :class:`Forgot`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from netsim.errors import FrameError

from netsim.wire.headers import ARP_REPLY, ARP_REQUEST

# Neighbour states (RFC 4861 §7.3.2); an address being resolved (INCOMPLETE) is a
# _Pending, not an entry.
REACHABLE, STALE, DELAY, PROBE = "reachable", "stale", "delay", "probe"

#: Linux redraws the randomised reachable time this often (``neigh_periodic_work``).
_REDRAW_REACHABLE = 300.0


@dataclass(frozen=True, kw_only=True, slots=True)
class SendRequest:
    """``who-has target_ip``: broadcast, or unicast to ``unicast_mac`` to check an
    entry (Linux's PROBE state)."""
    target_ip: int
    #: How many requests for this address this one makes (1 for the first).
    attempt: int
    unicast_mac: bytes | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class SendReply:
    """Answer a request: ``sender_ip is-at`` our MAC, sent to the asker."""
    target_mac: bytes
    target_ip: int
    #: The address asked about: the interface's own, or (Linux) another of the host's.
    sender_ip: int


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


@dataclass(frozen=True, kw_only=True, slots=True)
class Forgot:
    """An entry's unicast probes went unanswered; it is gone (Linux's FAILED)."""
    ip: int
    mac: bytes


@dataclass(slots=True)
class _Pending:
    packets: list = field(default_factory=list)
    requests: int = 0
    next_retry: float = 0.0


@dataclass(slots=True)
class _Entry:
    mac: bytes
    state: str
    #: When the neighbour was last known to be there (learned, refreshed, confirmed).
    confirmed: float
    #: REACHABLE: until when (confirmed + the reachable time or lifetime then in force).
    expires: float = 0.0
    #: DELAY and PROBE: when the state's timer fires.
    deadline: float = 0.0
    probes: int = 0


class ArpResolver:
    """The ARP state of one interface with address ``ip`` and hardware address ``mac``.

    ``local_addresses`` (Linux) is the host's address book, consulted live: a request
    for any address in it is answered here."""

    def __init__(self, ip: int | None, mac: bytes, *, lifetime: float = 60.0,
                 retry_interval: float = 1.0, max_requests: int = 3,
                 queue_limit: int = 100, nud: bool = False, base_reachable_time: float = 30.0,
                 delay_first_probe: float = 5.0, unicast_probes: int = 3,
                 rng: random.Random | None = None, local_addresses=None) -> None:
        self.ip = ip
        self.mac = mac
        self.lifetime = lifetime
        self.retry_interval = retry_interval
        self.max_requests = max_requests
        self.queue_limit = queue_limit
        self.nud = nud
        self.base_reachable_time = base_reachable_time
        self.delay_first_probe = delay_first_probe
        self.unicast_probes = unicast_probes
        self.local_addresses = local_addresses
        self._rng = rng or random.Random(0)
        self._reachable_time = 0.0
        self._redraw_at = 0.0
        #: ip -> entry
        self.cache: dict[int, _Entry] = {}
        self._pending: dict[int, _Pending] = {}
        #: Entries in DELAY or PROBE: the only ones with a timer.
        self._checking: dict[int, _Entry] = {}
        self._out: list = []
        #: Set when a lookup gave an entry a timer; the driver must re-arm.
        self.timer_changed = False

    # -- asked by the IP layer -------------------------------------------------

    def lookup(self, ip: int, now: float) -> bytes | None:
        """The hardware address to send to, or None: hold the packet."""
        entry = self.cache.get(ip)
        if entry is None:
            return None
        if entry.state is REACHABLE:
            if now < entry.expires:
                return entry.mac
            if not self.nud:
                return None             # expired: resolve afresh (RFC 826 still merges)
            entry.state = STALE
        if entry.state is STALE:
            # RFC 4861 §7.3.3: sending through a stale entry starts the delay.
            entry.state, entry.deadline = DELAY, now + self.delay_first_probe
            self._checking[ip] = entry
            self.timer_changed = True
        return entry.mac

    def state(self, ip: int, now: float) -> str | None:
        """The entry's state as ``ip neigh`` would show it, or None."""
        entry = self.cache.get(ip)
        if entry is None:
            return "incomplete" if ip in self._pending else None
        if entry.state is REACHABLE and now >= entry.expires:
            return STALE if self.nud else None
        return entry.state

    def confirm(self, ip: int, now: float) -> None:
        """The layer above saw the neighbour answer (TCP: an acknowledgment of new
        data); Linux's ``neigh_confirm``."""
        entry = self.cache.get(ip)
        if entry is None:
            return
        if entry.state is REACHABLE and now >= entry.expires:
            entry.state = STALE
        entry.confirmed = now
        entry.expires = now + self._reachable(now)

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

    def _reachable(self, now: float) -> float:
        if not self.nud:
            return self.lifetime
        if now >= self._redraw_at:
            self._reachable_time = self.base_reachable_time * self._rng.uniform(0.5, 1.5)
            self._redraw_at = now + _REDRAW_REACHABLE
        return self._reachable_time

    # -- fed by the wire ---------------------------------------------------------

    def receive(self, op: int, sha: bytes, spa: int, tha: bytes, tpa: int, now: float,
                *, unicast: bool = False) -> None:
        """An ARP packet reached this interface; ``unicast``: it was sent to our MAC.

        An opcode other than request or reply is refused before anything is learned
        (as Linux's ``arp_process`` does; RFC 826 merges first, which lets a stray
        opcode poison the cache)."""
        if op not in (ARP_REQUEST, ARP_REPLY):
            raise FrameError(f"ARP opcode {op} is neither request (1) nor reply (2)")
        if self.nud:
            self._receive_linux(op, sha, spa, tpa, now, unicast)
        else:
            self._receive_rfc826(op, sha, spa, tpa, now)

    def _receive_rfc826(self, op: int, sha: bytes, spa: int, tpa: int, now: float) -> None:
        merged = False
        if spa in self.cache:
            self._learn(spa, sha, REACHABLE, now)
            merged = True
        if self.ip is None or tpa != self.ip:
            return
        if not merged and spa != 0:
            self._learn(spa, sha, REACHABLE, now)
        if op == ARP_REQUEST:
            self._out.append(SendReply(target_mac=sha, target_ip=spa, sender_ip=tpa))

    def _receive_linux(self, op: int, sha: bytes, spa: int, tpa: int, now: float,
                       unicast: bool) -> None:
        ours = tpa == self.ip or (self.local_addresses is not None and tpa in self.local_addresses
                                  and tpa >> 24 != 127)
        solicited = op == ARP_REPLY and unicast
        if spa in self.cache or spa in self._pending:
            self._learn(spa, sha, REACHABLE if solicited else STALE, now)
        elif ours and op == ARP_REQUEST and spa != 0:
            self._learn(spa, sha, STALE, now)
        if ours and op == ARP_REQUEST:
            self._out.append(SendReply(target_mac=sha, target_ip=spa, sender_ip=tpa))

    def _learn(self, ip: int, mac: bytes, state: str, now: float) -> None:
        entry = self.cache.get(ip)
        expires = now + self._reachable(now)
        if entry is None:
            self.cache[ip] = _Entry(mac, state, now, expires)
            self._out.append(Learned(ip=ip, mac=mac))
        elif entry.mac != mac:
            entry.mac, entry.state, entry.confirmed = mac, STALE if self.nud else state, now
            entry.expires, entry.probes = expires, 0
            self._checking.pop(ip, None)
            self._out.append(Learned(ip=ip, mac=mac))
        elif state is REACHABLE:
            entry.state, entry.confirmed, entry.expires, entry.probes = REACHABLE, now, expires, 0
            self._checking.pop(ip, None)
        # else: the same address again, not a confirmation; the state stays (Linux).
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
        self.timer_changed = False
        deadlines = [p.next_retry for p in self._pending.values()]
        deadlines += [e.deadline for e in self._checking.values()]
        return min(deadlines) if deadlines else None

    def handle_timer(self, now: float) -> None:
        for ip, pending in list(self._pending.items()):
            if pending.next_retry > now:
                continue
            if pending.requests >= self.max_requests:
                del self._pending[ip]
                self._out.append(Abandon(ip=ip, packets=pending.packets))
            else:
                self._request(ip, pending, now)
        for ip, entry in list(self._checking.items()):
            if entry.deadline > now:
                continue
            if entry.state is DELAY and now <= entry.confirmed + self.delay_first_probe:
                entry.state, entry.probes = REACHABLE, 0     # confirmed meanwhile: no probe
                entry.expires = entry.confirmed + self._reachable(now)
                del self._checking[ip]
            elif entry.probes >= self.unicast_probes:
                del self._checking[ip], self.cache[ip]
                self._out.append(Forgot(ip=ip, mac=entry.mac))
            else:
                entry.state, entry.probes = PROBE, entry.probes + 1
                entry.deadline = now + self.retry_interval
                self._out.append(SendRequest(target_ip=ip, attempt=entry.probes,
                                             unicast_mac=entry.mac))


__all__ = ["Abandon", "ArpResolver", "Forgot", "Learned", "Release", "SendReply", "SendRequest",
           "ARP_REPLY", "ARP_REQUEST", "DELAY", "PROBE", "REACHABLE", "STALE"]
