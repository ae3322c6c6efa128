"""A DHCP client (RFC 2131 §4.4, Figure 5), sans-I/O, with RFC 5227 address probing.

INIT sends DHCPDISCOVER and waits (SELECTING), retransmitting after 4, 8, 16, 32
and 64 s, each ±1 s (§4.1). The first OFFER is taken: DHCPREQUEST names its server
and address (REQUESTING). On DHCPACK the address is probed with ARP (RFC 5227 §2.1:
sender address 0.0.0.0, ``probes`` of them ``probe_interval`` apart); an answer, or
another host probing for it, means it is taken — DHCPDECLINE, and INIT again after
10 s (§3.1.5). Silence means BOUND: the address, router and name servers are
configured. At T1 the client asks its server directly to renew (RENEWING); at T2
any server, by broadcast (REBINDING); at the lease's end it stops using the
address. DHCPNAK at any step sends it back to INIT. :meth:`release` gives the
address back. An OFFER or ACK of an address no host can take (0.0.0.0, loopback,
multicast, its subnet's network or broadcast address, a mask that is no prefix) is
ignored, as systemd's client ignores a lease it cannot use; so is an ACK of another
address than the one offered or held (RFC 1122 §3.2.1.3: the host uses the address it
asked for). An ACK without a lease time, or with a lease time of 0, is no lease: as
dhclient says "no expiry time on offered lease.", it rejects that server and starts
again half a second later (a lease time of 0xffffffff is infinite, RFC 2132 §9.2).

Like dhclient (without ``-B``), the client leaves the BROADCAST flag clear: it reads
replies off a packet socket before it has an address, so servers and relays unicast
OFFER and ACK to ``yiaddr`` at its hardware address (§4.1); ``broadcast_flag=True``
sets it, and they broadcast.

Inputs: :meth:`start`, :meth:`receive`, :meth:`address_in_use`, :meth:`release`,
:meth:`handle_timer`. Outputs: :class:`Send`, :class:`Probe`, :class:`Configure`,
:class:`Unconfigure`, :class:`Log`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from netsim.proto.dhcp.message import (ACK, BOOTREPLY, BOOTREQUEST, BROADCAST_FLAG, DECLINE,
                                       DISCOVER, DNS_SERVERS, DOMAIN_NAME, LEASE_TIME, NAK, OFFER,
                                       PARAMETER_LIST, REBINDING_T2, RELEASE, RENEWAL_T1, REQUEST,
                                       REQUESTED_IP, ROUTER, SERVER_ID, SUBNET_MASK, DhcpMessage,
                                       ip_option)
from netsim.proto.host_address import mask_prefix, unusable
from netsim.wire.addr import int_to_ip

INIT, SELECTING, REQUESTING, PROBING, BOUND, RENEWING, REBINDING, DECLINED, RELEASED = (
    "INIT", "SELECTING", "REQUESTING", "PROBING", "BOUND", "RENEWING", "REBINDING", "DECLINED",
    "RELEASED")
INFINITE = 0xFFFFFFFF            # RFC 2132 §9.2: a lease that never ends
WANTED = bytes((SUBNET_MASK, ROUTER, DNS_SERVERS, DOMAIN_NAME, LEASE_TIME, RENEWAL_T1, REBINDING_T2))


@dataclass(frozen=True, kw_only=True, slots=True)
class Send:
    message: DhcpMessage
    to: int                 # 0xFFFFFFFF: broadcast from 0.0.0.0 (or from ciaddr when rebinding)
    src: int                # 0 before the client has an address


@dataclass(frozen=True, kw_only=True, slots=True)
class Probe:
    address: int            # an ARP request for it from 0.0.0.0 (RFC 5227)


@dataclass(frozen=True, kw_only=True, slots=True)
class Configure:
    address: int
    prefix_len: int
    router: int | None
    dns: tuple[int, ...]
    domain: str | None
    lease: float
    server: int


@dataclass(frozen=True, kw_only=True, slots=True)
class Unconfigure:
    address: int
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Log:
    text: str


class DhcpClient:
    def __init__(self, mac: bytes, *, seed: int = 0, probes: int = 2, probe_interval: float = 1.0,
                 retransmit: float = 4.0, broadcast_flag: bool = False) -> None:
        self.mac = mac
        self.broadcast_flag = broadcast_flag
        #: Servers whose lease had no expiry time: their offers are not taken (dhclient's
        #: add_reject).
        self.rejected: set[int] = set()
        self.rng = random.Random(seed)
        self.probes, self.probe_interval = probes, probe_interval
        self.first_wait = retransmit
        self.state = INIT
        self.xid = 0
        self.offer: DhcpMessage | None = None
        self.lease: Configure | None = None
        self.address = 0
        self._deadline: float | None = None
        self._wait = retransmit
        self._probes_sent = 0
        self._bound_at = 0.0
        self._t1 = self._t2 = self._expiry = 0.0
        self._out: list = []
        self.history: list[tuple[float, str]] = []

    # -- inputs -----------------------------------------------------------------------------

    def start(self, now: float) -> None:
        self._discover(now)

    def receive(self, msg: DhcpMessage, now: float) -> None:
        if msg.op != BOOTREPLY or msg.xid != self.xid or msg.chaddr != self.mac:
            return
        if msg.msg_type == OFFER and self.state == SELECTING:
            if self._refused(msg, now):
                return
            if (msg.address(SERVER_ID) or 0) in self.rejected:
                self._log(now, f"DHCPOFFER from {int_to_ip(msg.address(SERVER_ID) or 0)} "
                               f"rejected: it gave a lease with no expiry time")
                return
            self.offer = msg
            self._log(now, f"{msg.type_name} of {int_to_ip(msg.yiaddr)} from "
                           f"{int_to_ip(msg.address(SERVER_ID) or 0)}")
            self._set_state(REQUESTING, now)
            self._wait = self.first_wait
            self._request(now)
        elif msg.msg_type == ACK and self.state in (REQUESTING, RENEWING, REBINDING):
            if self._refused(msg, now) or self._not_asked(msg, now) or self._no_expiry(msg, now):
                return
            self._log(now, f"DHCPACK of {int_to_ip(msg.yiaddr)} from "
                           f"{int_to_ip(msg.address(SERVER_ID) or 0)}")
            self._acked(msg, now)
        elif msg.msg_type == NAK and self.state in (REQUESTING, RENEWING, REBINDING):
            self._log(now, f"DHCPNAK from {int_to_ip(msg.address(SERVER_ID) or 0)}"
                           + (f": {msg.text(56)}" if msg.text(56) else ""))
            self._drop_address(now, "the server said DHCPNAK")
            self._discover(now)

    def _refused(self, msg: DhcpMessage, now: float) -> bool:
        """An OFFER or ACK of an address no host can take, or with a mask that is no
        prefix, is ignored (logged), as systemd's DHCP client ignores a lease it cannot
        use: configuring it would only fail (``ip addr add``) or break the host."""
        mask = msg.address(SUBNET_MASK)
        prefix = mask_prefix(mask) if mask else 24
        problem = f"subnet mask {int_to_ip(mask)} is not a prefix" if prefix is None \
            else unusable(msg.yiaddr, prefix)
        if problem is None:
            return False
        self._log(now, f"{msg.type_name} of {int_to_ip(msg.yiaddr)} from "
                       f"{int_to_ip(msg.address(SERVER_ID) or 0)} ignored: {problem}")
        return True

    def _not_asked(self, msg: DhcpMessage, now: float) -> bool:
        """An ACK of an address other than the one offered (REQUESTING) or held
        (RENEWING, REBINDING) is not the answer to this request: ignored."""
        asked = self.offer.yiaddr if self.state == REQUESTING else self.address
        if msg.yiaddr == asked:
            return False
        self._log(now, f"DHCPACK of {int_to_ip(msg.yiaddr)} from "
                       f"{int_to_ip(msg.address(SERVER_ID) or 0)} ignored: it is not "
                       f"{int_to_ip(asked)}, the address asked for")
        return True

    def _no_expiry(self, msg: DhcpMessage, now: float) -> bool:
        """No lease time, or 0 (dhclient's dhcpack(): "no expiry time on offered
        lease."). While asking for a new lease, that server is rejected and the client
        starts again in 0.5 s; while renewing, the ACK is ignored and the lease runs on."""
        if msg.seconds(LEASE_TIME):
            return False
        self._log(now, "no expiry time on offered lease.")
        if self.state == REQUESTING:
            self.rejected.add(msg.address(SERVER_ID) or 0)
            self.offer = None
            self._set_state(INIT, now)              # and DISCOVER again at the timer
            self._deadline = now + 0.5
        return True

    def address_in_use(self, now: float) -> None:
        """An ARP packet says someone else has (or wants) the address being probed."""
        if self.state != PROBING:
            return
        address = self.lease.address
        self._log(now, f"{int_to_ip(address)} is already in use: DHCPDECLINE")
        self._send(DECLINE, now, options={REQUESTED_IP: ip_option(address),
                                          SERVER_ID: ip_option(self.lease.server)})
        self.lease = None
        self._set_state(DECLINED, now)
        self._deadline = now + 10.0                 # RFC 2131 §3.1.5: wait at least 10 s

    def release(self, now: float) -> None:
        if self.state not in (BOUND, RENEWING, REBINDING):
            return
        self._log(now, f"DHCPRELEASE of {int_to_ip(self.address)}")
        server = self.lease.server
        self._out.append(Send(message=self._message(RELEASE, ciaddr=self.address,
                                                    options={SERVER_ID: ip_option(server)}),
                              to=server, src=self.address))
        self._drop_address(now, "released")
        self._set_state(RELEASED, now)
        self._deadline = None

    def handle_timer(self, now: float) -> None:
        if self._deadline is None or now < self._deadline:
            return
        self._deadline = None
        state = self.state
        if state == SELECTING:
            self._retry(now, self._discover_again)
        elif state == REQUESTING:
            self._retry(now, self._request)
        elif state in (DECLINED, INIT):
            self._discover(now)
        elif state == PROBING:
            if self._probes_sent < self.probes:
                self._probe(now)
            else:
                self._bind(now)
        elif state == BOUND:
            self._set_state(RENEWING, now)
            self._renew(now)
        elif state in (RENEWING, REBINDING):
            if now >= self._expiry:
                self._drop_address(now, "the lease expired")
                self._discover(now)
            elif now >= self._t2 and state == RENEWING:
                self._set_state(REBINDING, now)
                self._renew(now)
            else:
                self._renew(now)

    # -- the steps --------------------------------------------------------------------------

    def _discover(self, now: float) -> None:
        self.xid = self.rng.getrandbits(32)
        self.offer = None
        self._wait = self.first_wait
        self._set_state(SELECTING, now)
        self._discover_again(now)

    def _discover_again(self, now: float) -> None:
        self._send(DISCOVER, now, options={PARAMETER_LIST: WANTED})

    def _request(self, now: float) -> None:
        offer = self.offer
        self._send(REQUEST, now, options={REQUESTED_IP: ip_option(offer.yiaddr),
                                          SERVER_ID: ip_option(offer.address(SERVER_ID) or 0),
                                          PARAMETER_LIST: WANTED})

    def _retry(self, now: float, step) -> None:
        # §4.1: 4 s, then doubling to 64 s, each randomized by ±1 s; then go on at 64 s.
        self._wait = min(self._wait * 2, 64.0)
        step(now)

    def _send(self, kind: int, now: float, *, options: dict) -> None:
        self._out.append(Send(message=self._message(kind, options=options), to=0xFFFFFFFF, src=0))
        if kind in (DISCOVER, REQUEST):
            self._deadline = now + self._wait + self.rng.uniform(-1.0, 1.0)

    def _message(self, kind: int, *, ciaddr: int = 0, options: dict) -> DhcpMessage:
        flags = BROADCAST_FLAG if self.broadcast_flag and not ciaddr else 0
        return DhcpMessage(BOOTREQUEST, self.xid, self.mac, kind, ciaddr=ciaddr, flags=flags,
                           options=options)

    def _acked(self, msg: DhcpMessage, now: float) -> None:
        seconds = msg.seconds(LEASE_TIME)               # not 0 nor absent: _no_expiry
        lease = float("inf") if seconds == INFINITE else float(seconds)
        mask = msg.address(SUBNET_MASK) or 0xFFFFFF00
        config = Configure(address=msg.yiaddr, prefix_len=bin(mask).count("1"),
                           router=msg.address(ROUTER), dns=tuple(msg.addresses(DNS_SERVERS)),
                           domain=msg.text(DOMAIN_NAME), lease=lease,
                           server=msg.address(SERVER_ID) or 0)
        t1, t2 = self._renewal_times(msg, lease)
        self._t1, self._t2, self._expiry = now + t1, now + t2, now + lease
        renewing = self.state in (RENEWING, REBINDING)
        self.lease = config
        if renewing:
            self._set_state(BOUND, now)
            self._deadline = self._t1 if self._t1 != float("inf") else None
            return
        if not self.probes:                        # probing turned off: use it at once
            self._bind(now)
            return
        self._set_state(PROBING, now)
        self._probes_sent = 0
        self._probe(now)

    @staticmethod
    def _renewal_times(msg: DhcpMessage, lease: float) -> tuple[float, float]:
        """T1 and T2 (RFC 2131 §4.4.5) as dhclient takes them: 0 or absent is half and
        seven eighths of the lease; a T1 past T2 is three quarters of T2; and, as
        systemd's client does, a T2 past the lease's end is seven eighths of it."""
        t2 = msg.seconds(REBINDING_T2) or lease * 7 / 8
        if t2 > lease:
            t2 = lease * 7 / 8
        t1 = msg.seconds(RENEWAL_T1) or lease / 2
        if t1 > t2:
            t1 = t2 * 3 / 4
        return float(t1), float(t2)

    def _probe(self, now: float) -> None:
        self._probes_sent += 1
        self._out.append(Probe(address=self.lease.address))
        self._deadline = now + self.probe_interval

    def _bind(self, now: float) -> None:
        config = self.lease
        self.address = config.address
        self._out.append(config)
        self._log(now, f"bound to {int_to_ip(config.address)}/{config.prefix_len} -- renewal in "
                       f"{self._t1 - now:g} seconds.")
        self._set_state(BOUND, now)
        self._deadline = self._t1 if self._t1 != float("inf") else None

    def _renew(self, now: float) -> None:
        """RENEWING: unicast to the server; REBINDING: broadcast to any (§4.4.5)."""
        to = self.lease.server if self.state == RENEWING else 0xFFFFFFFF
        self._out.append(Send(message=self._message(REQUEST, ciaddr=self.address,
                                                    options={PARAMETER_LIST: WANTED}),
                              to=to, src=self.address))
        # §4.4.5: wait half the time left until T2 (or expiry), down to 60 s.
        end = self._t2 if self.state == RENEWING else self._expiry
        self._deadline = min(end, now + max(60.0, (end - now) / 2))

    def _drop_address(self, now: float, reason: str) -> None:
        if self.address:
            self._out.append(Unconfigure(address=self.address, reason=reason))
            self._log(now, f"stops using {int_to_ip(self.address)}: {reason}")
        self.address = 0
        self.lease = None

    def _set_state(self, state: str, now: float) -> None:
        self.state = state
        self.history.append((now, state))

    def _log(self, now: float, text: str) -> None:
        self._out.append(Log(text=text))

    # -- sans-I/O contract --------------------------------------------------------------------

    def outputs(self) -> list:
        out, self._out = self._out, []
        return out

    def get_timer(self) -> float | None:
        return self._deadline
