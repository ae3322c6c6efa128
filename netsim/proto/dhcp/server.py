"""A DHCP server (RFC 2131 §4.3), sans-I/O.

Each pool is a subnet with a range of addresses and the options its clients are
given (router, name servers, domain name). The pool for a message is the one whose
subnet holds the relay agent's ``giaddr`` (RFC 2131 §4.3.1), else the one holding
``ciaddr`` (a renewal unicast from an off-link client, §4.4.5), else, for a client on
the server's own link, the subnet of the interface it came in on.

- DISCOVER → OFFER of the client's current lease, else the address it asked for if
  free, else the lowest free address; the offer is held for ``offer_hold`` seconds.
  An empty pool is logged as ISC dhcpd logs it ("no free leases") and not answered.
- REQUEST (§4.3.2) in its three forms: SELECTING (server identifier present: ours →
  ACK the offer, another server's → forget our offer), INIT-REBOOT (requested address,
  no ciaddr: ACK if it is the client's lease, NAK if it is on the wrong network or
  another's), RENEWING/REBINDING (ciaddr: extend the lease, or NAK).
- DECLINE marks the address in use by someone else (abandoned for ``abandon_for``);
  RELEASE frees it.

Replies go as §4.1 says: to the relay (giaddr, port 67; a NAK with the BROADCAST
flag set, so the relay broadcasts it); to ciaddr when the client has an address; a NAK,
or a reply to a client that set the BROADCAST flag, to 255.255.255.255; else unicast to
``yiaddr`` at the client's hardware address ``chaddr`` (no ARP: the client cannot
answer one yet) — what dnsmasq does for dhclient, which leaves the flag clear.

Inputs: :meth:`receive`. Outputs: :class:`Reply`, :class:`Log`.
"""

from __future__ import annotations

from dataclasses import dataclass

from netsim.proto.dhcp.message import (ACK, BOOTREPLY, BOOTREQUEST, BROADCAST_FLAG, DECLINE,
                                       DISCOVER, DNS_SERVERS, DOMAIN_NAME, INFORM, LEASE_TIME, NAK,
                                       OFFER, REBINDING_T2, RELEASE, RENEWAL_T1, REQUEST,
                                       REQUESTED_IP, ROUTER, SERVER_ID, SUBNET_MASK, DhcpMessage,
                                       MESSAGE, ip_option, seconds_option)
from netsim.wire.addr import bytes_to_mac, int_to_ip, prefix_mask

BROADCAST = 0xFFFFFFFF


@dataclass(frozen=True, kw_only=True, slots=True)
class Reply:
    message: DhcpMessage
    to: int                      # IPv4 address (BROADCAST for the local broadcast)
    port: int                    # 67 to a relay, 68 to a client
    #: The client's hardware address, for a reply unicast to ``yiaddr`` without ARP.
    mac: bytes | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Log:
    text: str


@dataclass
class Pool:
    network: int
    prefix_len: int
    first: int
    last: int
    router: int | None = None
    dns: tuple[int, ...] = ()
    domain: str | None = None

    def holds(self, address: int) -> bool:
        return address & prefix_mask(self.prefix_len) == self.network

    def in_range(self, address: int) -> bool:
        return self.first <= address <= self.last

    @property
    def name(self) -> str:
        return f"{int_to_ip(self.network)}/{self.prefix_len}"


@dataclass
class _Lease:
    address: int
    mac: bytes
    expires: float
    offered: bool            # an offer not yet requested


class DhcpServer:
    def __init__(self, server_id: int, pools: list[Pool], *, lease_time: float = 3600.0,
                 offer_hold: float = 60.0, abandon_for: float = 3600.0) -> None:
        self.server_id = server_id
        self.pools = pools
        self.lease_time = lease_time
        self.offer_hold = offer_hold
        self.abandon_for = abandon_for
        self.leases: dict[int, _Lease] = {}          # address → lease
        self.abandoned: dict[int, float] = {}        # address → until
        self._out: list = []
        self.counts = {name: 0 for name in ("offers", "acks", "naks", "declines", "releases")}

    # -- inputs ---------------------------------------------------------------------------

    def receive(self, msg: DhcpMessage, iface_ip: int | None, now: float) -> None:
        """``msg`` arrived on the interface with address ``iface_ip``."""
        if msg.op != BOOTREQUEST:
            return
        via = f"via {int_to_ip(msg.giaddr)}" if msg.giaddr else "on the local link"
        # The client's network: the relay's (giaddr), else the address it has (a renewal
        # unicast from another subnet through routers, as ISC dhcpd's locate_network()
        # takes ciaddr), else the link it came in on.
        pool = self._pool(msg.giaddr or msg.ciaddr or iface_ip)
        mac = bytes_to_mac(msg.chaddr)
        if pool is None:
            self._log(f"{msg.type_name} from {mac} {via}: no pool serves that network")
            return
        if msg.msg_type == DISCOVER:
            self._discover(msg, pool, mac, via, now)
        elif msg.msg_type == REQUEST:
            self._request(msg, pool, mac, via, now)
        elif msg.msg_type == DECLINE:
            address = msg.address(REQUESTED_IP)
            lease = self.leases.get(address) if address is not None else None
            if lease is not None and lease.mac == msg.chaddr:
                del self.leases[address]
                self.abandoned[address] = now + self.abandon_for
                self.counts["declines"] += 1
                self._log(f"DHCPDECLINE of {int_to_ip(address)} from {mac} {via}: abandoning it")
        elif msg.msg_type == RELEASE:
            lease = self.leases.get(msg.ciaddr)
            if lease is not None and lease.mac == msg.chaddr:
                del self.leases[msg.ciaddr]
                self.counts["releases"] += 1
                self._log(f"DHCPRELEASE of {int_to_ip(msg.ciaddr)} from {mac} {via}")
        elif msg.msg_type == INFORM:
            self._reply(msg, pool, ACK, 0, now, lease=False)

    def _discover(self, msg, pool, mac, via, now) -> None:
        self._log(f"DHCPDISCOVER from {mac} {via}")
        address = self._choose(msg, pool, now)
        if address is None:
            self._log(f"DHCPDISCOVER from {mac} {via}: network {pool.name}: no free leases")
            return
        self.leases[address] = _Lease(address, msg.chaddr, now + self.offer_hold, offered=True)
        self.counts["offers"] += 1
        self._log(f"DHCPOFFER on {int_to_ip(address)} to {mac} {via}")
        self._reply(msg, pool, OFFER, address, now)

    def _request(self, msg, pool, mac, via, now) -> None:
        server = msg.address(SERVER_ID)
        wanted = msg.address(REQUESTED_IP) or msg.ciaddr
        self._log(f"DHCPREQUEST for {int_to_ip(wanted)} from {mac} {via}")
        if server is not None and server != self.server_id:
            # The client chose another server's offer (§4.3.2 SELECTING): forget ours.
            for address, lease in list(self.leases.items()):
                if lease.mac == msg.chaddr and lease.offered:
                    del self.leases[address]
            return
        lease = self.leases.get(wanted)
        if lease is not None and lease.mac == msg.chaddr and lease.expires > now \
                and pool.holds(wanted):
            lease.offered = False
            lease.expires = now + self.lease_time
            self.counts["acks"] += 1
            self._log(f"DHCPACK on {int_to_ip(wanted)} to {mac} {via}")
            self._reply(msg, pool, ACK, wanted, now)
            return
        if server is None and not msg.ciaddr and pool.holds(wanted) and \
                self._free(wanted, msg.chaddr, now):
            # INIT-REBOOT from a client we have no record of: RFC 2131 §4.3.2 says stay silent.
            return
        self.counts["naks"] += 1
        why = "wrong network" if not pool.holds(wanted) else "lease not available"
        self._log(f"DHCPNAK on {int_to_ip(wanted)} to {mac} {via} ({why})")
        self._reply(msg, pool, NAK, 0, now, lease=False, text=why)

    # -- addresses ------------------------------------------------------------------------

    def _pool(self, address: int | None) -> Pool | None:
        if address is None:
            return None
        return next((p for p in self.pools if p.holds(address)), None)

    def _free(self, address: int, mac: bytes, now: float) -> bool:
        if self.abandoned.get(address, 0) > now:
            return False
        lease = self.leases.get(address)
        return lease is None or lease.expires <= now or lease.mac == mac

    def _choose(self, msg, pool: Pool, now: float) -> int | None:
        for address, lease in self.leases.items():             # its lease, or its offer
            if lease.mac == msg.chaddr and lease.expires > now and pool.holds(address):
                return address
        wanted = msg.address(REQUESTED_IP)
        if wanted is not None and pool.in_range(wanted) and self._free(wanted, msg.chaddr, now):
            return wanted
        return next((a for a in range(pool.first, pool.last + 1)
                     if self._free(a, msg.chaddr, now)), None)

    # -- replies --------------------------------------------------------------------------

    def _reply(self, msg, pool: Pool, kind: int, address: int, now: float, *, lease: bool = True,
               text: str | None = None) -> None:
        options = {SERVER_ID: ip_option(self.server_id)}
        if kind == NAK:
            options[MESSAGE] = (text or "").encode()
        else:
            options[SUBNET_MASK] = ip_option(prefix_mask(pool.prefix_len))
            if pool.router is not None:
                options[ROUTER] = ip_option(pool.router)
            if pool.dns:
                options[DNS_SERVERS] = ip_option(*pool.dns)
            if pool.domain:
                options[DOMAIN_NAME] = pool.domain.encode()
            if lease:
                options[LEASE_TIME] = seconds_option(self.lease_time)
                options[RENEWAL_T1] = seconds_option(self.lease_time // 2)
                options[REBINDING_T2] = seconds_option(self.lease_time * 7 // 8)
        flags = msg.flags
        if kind == NAK and msg.giaddr:
            flags |= BROADCAST_FLAG              # §4.3.2: so that the relay broadcasts it
        reply = DhcpMessage(BOOTREPLY, msg.xid, msg.chaddr, kind, ciaddr=msg.ciaddr if kind == ACK else 0,
                            yiaddr=address, giaddr=msg.giaddr, flags=flags, options=options)
        mac = None
        if msg.giaddr:
            to, port = msg.giaddr, 67
        elif msg.ciaddr and kind != NAK:
            to, port = msg.ciaddr, 68
        elif kind == NAK or msg.flags & BROADCAST_FLAG or not address:
            # A NAK is always broadcast (§4.3.2); so is the reply to a client that asked.
            to, port = BROADCAST, 68
        else:
            to, port, mac = address, 68, msg.chaddr
        self._out.append(Reply(message=reply, to=to, port=port, mac=mac))

    def _log(self, text: str) -> None:
        self._out.append(Log(text=text))

    # -- sans-I/O contract ----------------------------------------------------------------------

    def outputs(self) -> list:
        out, self._out = self._out, []
        return out

    def get_timer(self) -> float | None:
        return None

    def handle_timer(self, now: float) -> None:
        pass

    def active_leases(self, now: float) -> dict[str, str]:
        return {int_to_ip(a): bytes_to_mac(lease.mac) for a, lease in sorted(self.leases.items())
                if not lease.offered and lease.expires > now}
