"""DHCP on the network: ``dhcp-server``, ``dhcp-client`` (what ``ip: dhcp`` runs) and
``dhcp-relay`` (what a router's ``dhcp_relay:`` runs), over UDP 67/68 (RFC 2131 §4.1).
"""

from __future__ import annotations

import ipaddress

from netsim.apps.base import App
from netsim.errors import AddressError
from netsim.proto.dhcp import (BOOTREPLY, BROADCAST_FLAG, BOOTREQUEST, CLIENT_PORT, SERVER_PORT, Configure,
                               DhcpClient, DhcpError, DhcpMessage, DhcpServer, Pool, Probe, Reply,
                               Send, Unconfigure)
from netsim.sim.runtime import contain
from netsim.wire import headers as h
from netsim.wire.addr import BROADCAST_IP, int_to_ip, ip_to_int

#: The IPv4 header ISC's dhclient, dhcpd and dhcrelay write themselves on the packet
#: socket they broadcast from (common/packet.c, assemble_udp_ip_header): TOS "low
#: delay", TTL 128, ID 0, DF clear. The textbook stack leaves the header to the kernel.
ISC_HEADER = {"tos": 0x10, "ttl": 128, "df": False, "ip_id": 0}


def _raw_header(node) -> dict | None:
    return ISC_HEADER if node.tcp.stack == "linux" else None


_POOL = {"type": "object", "additionalProperties": False, "required": ["subnet"],
         "properties": {
             "subnet": {"$ref": "#/$defs/cidr", "description": "the network: 10.0.1.0/24"},
             "range": {"type": "array", "minItems": 2, "maxItems": 2,
                       "items": {"$ref": "#/$defs/ipv4"},
                       "description": "first and last address handed out (default: .100–.199, "
                                      "within the subnet)"},
             "router": {"$ref": "#/$defs/ipv4", "description": "option 3: the default gateway"},
             "dns": {"type": "array", "items": {"$ref": "#/$defs/ipv4"}, "maxItems": 3,
                     "description": "option 6: name servers"},
             "domain": {"type": "string", "description": "option 15: the domain name"}}}


def parse_pool(spec: dict) -> Pool:
    net = ipaddress.IPv4Network(spec["subnet"], strict=False)
    if "range" in spec:
        first, last = (ip_to_int(a) for a in spec["range"])
    else:
        base = int(net.network_address)
        first, last = base + min(100, net.num_addresses - 2), base + min(199, net.num_addresses - 2)
    for address in (first, last):
        if ipaddress.IPv4Address(address) not in net:
            raise ValueError(f"pool range address {int_to_ip(address)} is not in {net}")
    if first > last:
        raise ValueError(f"pool range {int_to_ip(first)}–{int_to_ip(last)} is empty")
    if "router" in spec and not (int(net.network_address) < ip_to_int(spec["router"])
                                 < int(net.broadcast_address)):
        # A client cannot route through a gateway off its own network (Linux: "Nexthop
        # has invalid gateway"), so such a pool could never serve anyone.
        raise ValueError(f"router {spec['router']} is not a host address in {net}")
    return Pool(int(net.network_address), net.prefixlen, first, last,
                router=ip_to_int(spec["router"]) if "router" in spec else None,
                dns=tuple(ip_to_int(a) for a in spec.get("dns", [])), domain=spec.get("domain"))


def _parse(payload: bytes, node, iface, op: int) -> DhcpMessage | None:
    """A datagram on 67/68 as a DHCP message of the expected direction, or a recorded drop."""
    try:
        msg = DhcpMessage.from_bytes(payload)
    except DhcpError as exc:
        node.trace.note(node.env.now, node.name, "dhcp-ignored", iface=getattr(iface, "name", None),
                        error=str(exc))
        return None
    return msg if msg.op == op else None


class DhcpServerApp(App):
    """Hands out addresses from its pools, with the router, name servers and domain
    (RFC 2131 §4.3); serves other subnets through relay agents."""

    name = "dhcp-server"
    SCHEMA = {"pools": {"type": "array", "minItems": 1, "items": _POOL,
                        "description": "subnets it serves, each with its address range and options"},
              "lease": {"$ref": "#/$defs/interval", "default": "1h", "description": "lease time"}}
    REQUIRED = ["pools"]
    SERVICE = True
    BINDS = ("udp", SERVER_PORT)
    EXAMPLE = {"node": "server", "run": "dhcp-server", "lease": "1h", "pools": [
        {"subnet": "10.0.1.0/24", "range": ["10.0.1.100", "10.0.1.150"], "router": "10.0.1.1",
         "dns": ["10.0.0.53"], "domain": "example.com"}]}

    def __init__(self, node, *, pools: list[dict], lease: float = 3600.0, at: float = 0.0) -> None:
        super().__init__(node, at=at)
        self.pools = [parse_pool(p) for p in pools]
        self.lease_time = lease
        self.engine: DhcpServer | None = None

    def start(self) -> None:
        if self.node.ip is None:
            raise OSError("a DHCP server needs an address of its own")
        self.engine = DhcpServer(ip_to_int(self.node.ip), self.pools, lease_time=self.lease_time)
        self.driver = self.drive(self.engine)
        self.socket = self.node.udp_open(SERVER_PORT)
        self.socket.on_receive = self._on_datagram

    def _on_datagram(self, payload, _addr, now) -> None:
        iface = self.socket.arrived_on
        msg = _parse(payload, self.node, iface, BOOTREQUEST)
        if msg is not None:
            self._iface = iface
            # One client's message: a bug answering it fails this request, not the server.
            contain(self, self.engine.receive, msg, iface.ip if iface is not None else None, now)
            self.driver.kick()

    def on_output(self, output) -> None:
        if isinstance(output, Reply):
            payload = output.message.to_bytes()
            if output.to == BROADCAST_IP or output.mac is not None:
                # Onto the link it came from: broadcast, or to the client's hardware
                # address, which cannot answer ARP before it has the address (§4.1).
                self.node.send_udp_on(self._iface, self._iface.ip, SERVER_PORT, output.to,
                                      output.port, payload, mac=output.mac,
                                      header=_raw_header(self.node))
            else:
                self.socket.sendto(payload, (output.to, output.port))
        else:
            self.say(f"dhcpd: {output.text}")

    def summary_line(self) -> str:
        c = self.engine.counts if self.engine else {}
        leases = self.engine.active_leases(self.env.now) if self.engine else {}
        return (f"dhcp-server: {c.get('acks', 0)} leases granted, {c.get('naks', 0)} refused, "
                f"{len(leases)} active: " + (", ".join(leases) or "none"))

    def result(self) -> dict:
        if self.engine is None:
            return {}
        return {**self.engine.counts, "leases": self.engine.active_leases(self.env.now)}


class DhcpClientApp(App):
    """Gets the node's address, gateway and name servers by DHCP (RFC 2131 §4.4) and keeps
    the lease: what ``ip: dhcp`` runs on a host."""

    name = "dhcp-client"
    SCHEMA = {"interface": {"type": "string", "default": "eth0",
                            "description": "the interface to configure"},
              "release": {"$ref": "#/$defs/time", "description": "give the address back at this time"},
              "probes": {"type": "integer", "minimum": 0, "maximum": 5, "default": 2,
                         "description": "ARP probes of the offered address before using it "
                                        "(RFC 5227; 0: none)"},
              "broadcast_flag": {"type": "boolean", "default": False,
                                 "description": "set the BROADCAST flag, as dhclient -B does: "
                                                "servers and relays then broadcast their "
                                                "OFFER and ACK instead of unicasting them "
                                                "(RFC 2131 §4.1)"}}
    REQUIRED: list = []
    BINDS = ("udp", CLIENT_PORT)
    EXAMPLE = {"node": "laptop", "run": "dhcp-client"}
    WAITS_FOR_NETWORK = False

    def __init__(self, node, *, interface: str = "eth0", release: float | None = None,
                 probes: int = 2, broadcast_flag: bool = False, at: float = 0.0) -> None:
        super().__init__(node, at=at)
        self.iface_name, self.release_at, self.probes = interface, release, probes
        self.broadcast_flag = broadcast_flag
        self.engine: DhcpClient | None = None
        self.bound: Configure | None = None
        if getattr(node, "online", None) is None:
            node.online = node.env.event()

    def start(self) -> None:
        self.iface = self.node.interface(self.iface_name)
        self.engine = DhcpClient(self.iface.mac, seed=self.network.rng.getrandbits(32),
                                 probes=self.probes, broadcast_flag=self.broadcast_flag)
        self.driver = self.drive(self.engine)
        self.socket = self.node.udp_open(CLIENT_PORT)
        self.socket.on_receive = self._on_datagram
        self.node.arp_watchers[self.iface.name] = self._on_arp
        self.engine.start(self.env.now)
        self.driver.kick()
        if self.release_at is not None:
            self.network.at(self.release_at, self._release)

    def _release(self) -> None:
        self.engine.release(self.env.now)
        self.driver.kick()

    def _on_datagram(self, payload, _addr, now) -> None:
        msg = _parse(payload, self.node, self.socket.arrived_on, BOOTREPLY)
        if msg is not None:
            self._contained(self.engine.receive, msg, now)

    def _on_arp(self, op, sha, spa, _tha, tpa, now) -> None:
        lease = self.engine.lease
        if lease is None or sha == self.iface.mac:
            return
        # RFC 5227 §2.1.1: a reply from the address, or another host probing for it.
        if spa == lease.address or (op == h.ARP_REQUEST and spa == 0 and tpa == lease.address):
            self._contained(self.engine.address_in_use, now)

    def _contained(self, function, *args) -> None:
        """What the network said, into the engine inside the boundary: its failure is
        this client's."""
        error = contain(self, function, *args)
        if error is not None:
            self.error = error.message
        self.driver.kick()

    def on_output(self, output) -> None:
        node = self.node
        if isinstance(output, Send):
            payload = output.message.to_bytes()
            if output.to == BROADCAST_IP or not output.src:
                node.send_udp_on(self.iface, output.src, CLIENT_PORT, output.to, SERVER_PORT,
                                 payload, header=_raw_header(node))
            elif not self.socket.sendto(payload, (output.to, SERVER_PORT)):
                # A renewal or release unicast to the server goes the way the routing
                # table says, through the gateway when it is off-link (§4.4.5).
                self.say("dhclient: send_packet: Network is unreachable")
        elif isinstance(output, Probe):
            node.send_arp_probe(self.iface, output.address)
        elif isinstance(output, Configure):
            self.bound = output
            node.set_address(self.iface, int_to_ip(output.address), output.prefix_len)
            if output.router is not None:
                try:
                    node.add_route("default", int_to_ip(output.router), origin="dhcp")
                except AddressError as exc:
                    # As dhclient-script when `ip route add` fails: the address stays,
                    # without a default route, and the log says why.
                    self.say(f"dhclient: no default route: {exc}")
            node.dns_servers = list(output.dns)
            node.domain = output.domain
            if node.announces_learned_address():  # RFC 5227 §2.3; dhclient: none
                node.announce(self.iface)
            if not node.online.triggered:
                node.online.succeed()
        elif isinstance(output, Unconfigure):
            node.clear_address(self.iface)
            node.dns_servers = []
        else:
            self.say(f"dhclient: {output.text}")

    @property
    def done(self) -> bool:
        return self.bound is not None

    def progress(self) -> str:
        state = self.engine.state if self.engine else "not started"
        return f"no lease yet (state {state})"

    def result(self) -> dict:
        b = self.bound
        history = [[round(t, 6), s] for t, s in self.engine.history] if self.engine else []
        if b is None:
            return {"state": self.engine.state if self.engine else None, "lease": None,
                    "history": history}
        return {"state": self.engine.state, "address": f"{int_to_ip(b.address)}/{b.prefix_len}",
                "router": int_to_ip(b.router) if b.router is not None else None,
                "dns": [int_to_ip(a) for a in b.dns], "domain": b.domain,
                "lease_s": b.lease, "server": int_to_ip(b.server), "history": history}


class DhcpRelay(App):
    """A relay agent on a router (RFC 1542 §4, RFC 2131 §4.1): client broadcasts go to the
    server by unicast with ``giaddr`` set to the interface they came in on; the server's
    replies go back onto that interface, broadcast when the BROADCAST flag is set (or
    there is no ``yiaddr``), else unicast to ``yiaddr`` at ``chaddr`` (RFC 1542 §5.4)."""

    name = "dhcp-relay"
    SCHEMA = {"server": {"$ref": "#/$defs/ipv4", "description": "the DHCP server's address"}}
    REQUIRED = ["server"]
    SERVICE = True
    BINDS = ("udp", SERVER_PORT)
    EXAMPLE = {"node": "r1", "run": "dhcp-relay", "server": "10.0.9.2"}
    MAX_HOPS = 16

    def __init__(self, node, *, server: str, at: float = 0.0) -> None:
        super().__init__(node, at=at)
        self.server = ip_to_int(server)
        self.relayed = {"to_server": 0, "to_clients": 0}

    def start(self) -> None:
        self.socket = self.node.udp_open(SERVER_PORT)
        self.socket.on_receive = self._on_datagram

    def _on_datagram(self, payload, _addr, _now) -> None:
        contain(self, self._relay, payload, self.socket.arrived_on)

    def _relay(self, payload: bytes, iface) -> None:
        try:
            msg = DhcpMessage.from_bytes(payload)
        except DhcpError as exc:
            self.node.trace.note(self.env.now, self.node.name, "dhcp-ignored", error=str(exc))
            return
        if msg.op == BOOTREQUEST:
            if iface is None or iface.ip is None or msg.hops >= self.MAX_HOPS:
                return
            if self.network.address_of(self.server) in self.node.local_ips:
                return
            relayed = msg.with_(giaddr=msg.giaddr or iface.ip, hops=msg.hops + 1)
            self.relayed["to_server"] += 1
            self.socket.sendto(relayed.to_bytes(), (self.server, SERVER_PORT))
        elif msg.op == BOOTREPLY and msg.giaddr in self.node.local_ips:
            out = self.node.local_ips[msg.giaddr]
            self.relayed["to_clients"] += 1
            if msg.flags & BROADCAST_FLAG or not msg.yiaddr:
                self.node.send_udp_on(out, out.ip, SERVER_PORT, BROADCAST_IP, CLIENT_PORT, payload,
                                      header=_raw_header(self.node))
            else:
                self.node.send_udp_on(out, out.ip, SERVER_PORT, msg.yiaddr, CLIENT_PORT, payload,
                                      mac=msg.chaddr, header=_raw_header(self.node))

    def summary_line(self) -> str:
        r = self.relayed
        return (f"dhcp-relay: {r['to_server']} requests relayed to {int_to_ip(self.server)}, "
                f"{r['to_clients']} replies back")

    def result(self) -> dict:
        return dict(self.relayed)

