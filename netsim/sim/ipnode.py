"""An IPv4 stack — ARP, IPv4, ICMP, UDP — for hosts (RFC 1122) and routers (RFC 1812).

Hosts and routers run the same stack; a router also forwards (``forwarding =
True``), as ns-3's ``Ipv4L3Protocol`` does with ``IpForward``. Per-frame work reads
fixed headers with :mod:`struct`, builds outgoing frames from templates and patches
forwarded ones in place (TTL and an RFC 1624 incremental checksum), never building
a Scapy object. Whatever a frame got wrong becomes a ``drop`` record with a reason.
"""

from __future__ import annotations

import random


from netsim.errors import AddressError, FrameError
from netsim.proto.arp import ArpResolver
from netsim.proto.routing import Route, RoutingTable
from netsim.sim.driver import EngineDriver
from netsim.sim.forwarding import Forwarding
from netsim.sim.icmp_errors import IcmpErrors
from netsim.sim.neighbours import Neighbours
from netsim.sim.interface import Interface
from netsim.sim.ipid import LinuxIpIds
from netsim.sim.node import Node
from netsim.sim.sockets import UdpSocket
from netsim.sim.tcp import TcpStack
from netsim.trace import RX
from netsim.trace.recorder import FRAME_SHIFT
from netsim.wire import headers as h
from netsim.wire.addr import (BROADCAST_IP, BROADCAST_MAC, ZERO_MAC, int_to_ip,
                              ip_to_int, prefix_mask)
from netsim.wire.checksum import fold, word_total
from netsim.wire.templates import IcmpTemplate, TcpTemplate, UdpTemplate

_LOCALHOST = 0x7F000001                  # "this network" and loopback: never forwarded
#: ICMP types a host hands to its listeners (RFC 792): replies and errors.
_ICMP_KNOWN_TYPES = {0, 3, 4, 5, 11, 12, 13, 14}
_IPV4_UNPACK = h.IPV4.unpack_from
_EPHEMERAL = (32768, 60999)          # Linux's ip_local_port_range


class IpNode(Neighbours, IcmpErrors, Forwarding, Node):
    kind = "ip-node"
    forwarding = False
    #: Answer echo requests sent to a broadcast address (Linux: no, by default).
    broadcast_ping = False

    def __init__(self, network, name: str, *, arp_lifetime: float = 60.0,
                 arp_retry: float = 1.0, arp_requests: int = 3) -> None:
        super().__init__(network, name)
        self.routes = RoutingTable()
        self.local_ips: dict[int, object] = {}
        self.udp_sockets: dict[int, UdpSocket] = {}
        #: Called with (src, type, code, word1, word2, data, ttl, length, now) for every
        #: ICMP message other than an echo request (which the stack answers itself).
        self.icmp_listeners: list = []
        self._flow_ids: dict = {}            # TCP flow → the last IP id it used (Linux)
        self._icmp_tokens: dict = {}         # destination → (tokens in seconds, when)
        self._arp_options = dict(lifetime=arp_lifetime, retry_interval=arp_retry,
                                 max_requests=arp_requests)
        self._ip_id = network.rng.randrange(1 << 16)
        # Its own generator (seeded by the run's seed and the node's name): a datagram
        # more or less here must not shift every later port, ISN and loss draw.
        self.ip_ids = LinuxIpIds(random.Random(f"{network.seed}:{name}:ip-id"))
        self._templates: dict = {}
        #: interface name -> callable(op, sha, spa, tha, tpa, now), set by RARP apps
        self.rarp_handlers: dict = {}
        #: interface name -> callable(op, sha, spa, tha, tpa, now) shown every ARP packet
        #: (a DHCP client probing its offered address, RFC 5227)
        self.arp_watchers: dict = {}
        self._record = self.trace.record
        self.tcp = TcpStack(self)
        #: The name servers the stub resolver asks (resolv.conf's nameserver lines).
        self.dns_servers: list[int] = []
        #: A router's packet filter (:class:`~netsim.proto.firewall.Firewall`), if it has one.
        self.firewall = None
        #: The domain name DHCP gave (option 15), for information.
        self.domain: str | None = None
        #: The loopback interface: datagrams to the node's own addresses go round it.
        self.loopback = Interface(self, "lo", ZERO_MAC)
        self.loopback.loopback = True
        self.loopback.mtu = 65535
        self.loopback.ip, self.loopback.prefix_len = _LOCALHOST, 8      # 127.0.0.1/8, as Linux
        self.local_ips[_LOCALHOST] = self.loopback

    # -- configuration ---------------------------------------------------------------

    def use_stack(self, name: str) -> None:
        """``linux`` or ``textbook``: TCP's settings (:mod:`netsim.proto.tcp.profile`) and
        how ARP keeps its neighbours (:mod:`netsim.proto.arp`)."""
        self.tcp.use_stack(name)
        for iface in self.interfaces.values():
            iface.arp.nud = name == "linux"

    def add_interface(self, name: str | None = None, mac: bytes | None = None):
        iface = super().add_interface(name, mac or self.network.allocate_mac())
        # Each interface draws its reachable time from its own generator, so adding a
        # node or a link does not move every other random choice of the run.
        rng = random.Random(f"{self.network.seed}:arp:{self.name}:{iface.name}")
        iface.arp = ArpResolver(None, iface.mac, nud=self.tcp.stack == "linux", rng=rng,
                                local_addresses=self.local_ips, **self._arp_options)
        iface.arp_driver = EngineDriver(self.env, iface.arp, lambda out, i=iface: self._on_arp(i, out))
        return iface

    def set_address(self, iface, address: str | int, prefix_len: int | None = None) -> None:
        """Give ``iface`` an address (``'10.0.1.10/24'``) and its connected route."""
        if isinstance(address, str) and "/" in address:
            address, plen = address.split("/", 1)
            prefix_len = int(plen)
        if prefix_len is None or not 0 <= prefix_len <= 32:
            raise AddressError(f"{self.name}:{iface.name}: a prefix length 0–32 is needed")
        ip = ip_to_int(address)
        if iface.ip is not None:
            self.local_ips.pop(iface.ip, None)
            self.routes.remove_interface(iface)
        iface.ip, iface.prefix_len = ip, prefix_len
        mask = prefix_mask(prefix_len)
        iface.broadcast = (ip & mask) | (~mask & 0xFFFFFFFF) if prefix_len < 31 else None
        iface.arp.ip = ip
        self.local_ips[ip] = iface
        self.routes.add(Route(ip & mask, prefix_len, iface, None, "connected"))
        self._templates.clear()
        self.trace.note(self.env.now, self.name, "address", iface=iface.name,
                        address=iface.address)

    def clear_address(self, iface) -> None:
        """Take ``iface``'s address away (a DHCP lease ended), with its routes."""
        if iface.ip is None:
            return
        self.local_ips.pop(iface.ip, None)
        self.routes.remove_interface(iface)
        iface.ip = iface.prefix_len = iface.broadcast = None
        iface.arp.ip = None
        self._templates.clear()
        self.trace.note(self.env.now, self.name, "address", iface=iface.name, address=None)

    def add_route(self, destination: str, gateway: str | None = None, iface=None, *,
                  origin: str = "static", metric: int = 0) -> Route:
        """``add_route('10.0.2.0/24', '10.0.1.1')``; ``'default'`` means ``0.0.0.0/0``."""
        if destination == "default":
            destination = "0.0.0.0/0"
        net, _, plen = destination.partition("/")
        gw = ip_to_int(gateway) if gateway is not None else None
        if iface is None:
            if gw is None:
                raise AddressError(f"{self.name}: route to {destination} needs a gateway or an interface")
            connected = self.routes.lookup(gw)
            if connected is None or connected.gateway is not None:
                raise AddressError(f"{self.name}: gateway {gateway} is not on a connected network")
            iface = connected.iface
        route = Route(ip_to_int(net), int(plen or 32), iface, gw, origin, metric)
        self.routes.add(route)
        return route

    @property
    def addresses(self) -> list[str]:
        return [i.address for i in self.interfaces.values() if i.ip is not None]

    @property
    def ip(self) -> str | None:
        """The first interface's address, without prefix (a host's usual address)."""
        for iface in self.interfaces.values():
            if iface.ip is not None:
                return int_to_ip(iface.ip)
        return None

    # -- sockets ---------------------------------------------------------------------

    def udp_open(self, port: int = 0, *, df: bool = True) -> UdpSocket:
        """Bind a UDP socket; port 0 picks an ephemeral port as a real stack does.
        ``df=False`` is ``IP_MTU_DISCOVER = IP_PMTUDISC_OMIT``, which DNS software sets
        (BIND, Unbound): its datagrams leave with DF clear and may be fragmented."""
        if port == 0:
            lo, hi = _EPHEMERAL
            port = self.network.rng.randint(lo, hi)
            while port in self.udp_sockets:
                port = lo + (port - lo + 1) % (hi - lo + 1)
        elif port in self.udp_sockets:
            raise OSError(f"{self.name}: UDP port {port} is already bound")
        sock = self.udp_sockets[port] = UdpSocket(self, port, df=df)
        return sock

    def udp_close(self, port: int) -> None:
        self.udp_sockets.pop(port, None)

    def tcp_listen(self, port: int, **options):
        """Listen for TCP connections; options go to :class:`~netsim.proto.tcp.TcpConnection`."""
        return self.tcp.listen(port, **options)

    def tcp_connect(self, address: str | int, port: int, **options):
        """Open a TCP connection; returns a :class:`~netsim.sim.tcp.TcpSocket` at once."""
        return self.tcp.connect(address, port, **options)

    # -- sending ------------------------------------------------------------------------

    def _next_id(self) -> int:
        self._ip_id = (self._ip_id + 1) & 0xFFFF
        return self._ip_id

    def _path(self, dst: int):
        """``(interface, next hop, the next hop's MAC or None)`` toward ``dst``; None
        (and a note, as a socket would get ENETUNREACH) when there is no route."""
        if dst in self.local_ips:
            return self.loopback, dst, ZERO_MAC
        route = self.routes.lookup(dst)
        if route is None:
            self.trace.note(self.env.now, self.name, "unreachable", dst=int_to_ip(dst))
            return None
        iface = route.iface
        hop = dst if route.gateway is None else route.gateway
        if dst == BROADCAST_IP or dst == iface.broadcast:
            return iface, hop, BROADCAST_MAC       # no ARP for a broadcast address
        return iface, hop, self.neighbour(iface, hop)

    def _keep(self, key: tuple, template):
        """Remember a new template; callers write ``self._templates.get(key) or
        self._keep(key, Template(...))`` so Scapy builds each flow shape once."""
        self._templates[key] = template
        return template

    def send_udp(self, sport: int, dst: int, dport: int, payload: bytes, *, ttl: int = 64,
                 df: bool = True, sock: UdpSocket | None = None) -> bool:
        """A datagram the kernel builds the header of, for ``sock`` (or a raw sender)."""
        path = self._path(dst)
        if path is None:
            return False
        iface, hop, mac = path
        src = dst if iface.loopback else iface.ip
        if src is None:
            return False
        key = (17, iface, mac, dst, sport, dport, df)
        template = self._templates.get(key) or self._keep(key, UdpTemplate(
            iface.mac, mac or ZERO_MAC, src, dst, sport, dport, df=df))
        ip_id = self._udp_ip_id(src, dst, df, sock)
        self._transmit(iface, hop, mac, template.build(payload, ip_id, ttl))
        return True

    def _udp_ip_id(self, src: int, dst: int, df: bool, sock: UdpSocket | None) -> int:
        """The Identification a UDP datagram leaves with (see :mod:`netsim.sim.ipid`)."""
        if self.tcp.stack != "linux":
            return self._next_id()
        if sock is not None and sock.peer is not None:
            return sock.next_ip_id()
        if df:
            return 0
        return self.ip_ids.hashed(src, dst, 17, self.env.now)

    def send_udp_on(self, iface, src: int, sport: int, dst: int, dport: int,
                    payload: bytes, *, mac: bytes | None = None, header: dict | None = None) -> None:
        """Send a datagram out of ``iface`` from ``src`` — which may be 0.0.0.0 — without
        consulting the routing table: DHCP's broadcasts, before a host has an address or a
        route (RFC 2131 §4.1), and a relay's or server's broadcast back onto one link. A
        ``mac`` goes to that hardware address without ARP: an OFFER or ACK unicast to
        ``yiaddr`` at ``chaddr``, to a client that cannot answer ARP yet (§4.1).

        ``header``: the IPv4 fields a program that writes its own header on a packet
        socket puts there — ``tos``, ``ttl``, ``df``, ``ip_id`` (ISC dhclient and dhcpd
        do); without it the stack fills them as for a socket's datagram."""
        if mac is not None:
            hop = dst
        elif dst == BROADCAST_IP or dst == iface.broadcast:
            mac, hop = BROADCAST_MAC, dst
        else:
            hop = dst
            mac = self.neighbour(iface, dst)
        if header is None:
            tos, ttl, df, ip_id = 0, 64, True, self._udp_ip_id(src, dst, True, None)
        else:
            tos, ttl, df, ip_id = header["tos"], header["ttl"], header["df"], header["ip_id"]
        key = (17, iface, mac, src, dst, sport, dport, df, tos)
        template = self._templates.get(key) or self._keep(key, UdpTemplate(
            iface.mac, mac or ZERO_MAC, src, dst, sport, dport, df=df, tos=tos))
        self._transmit(iface, hop, mac, template.build(payload, ip_id, ttl))

    def send_icmp(self, dst: int, icmp_type: int, code: int, word1: int, word2: int,
                  payload: bytes, *, src: int | None = None, ttl: int = 64,
                  error: bool = False) -> bool:
        """An ICMP message; an ``error`` goes as Linux sends one (icmp_send): TOS 0xc0
        (internetwork control, RFC 1812 §4.3.2.5) and DF clear."""
        path = self._path(dst)
        if path is None:
            return False
        iface, hop, mac = path
        if src is None:
            src = dst if iface.loopback else iface.ip
        if src is None:
            return False
        key = (1, iface, mac, src, dst, icmp_type, code, error)
        template = self._templates.get(key) or self._keep(key, IcmpTemplate(
            iface.mac, mac or ZERO_MAC, src, dst, icmp_type, code, df=not error,
            tos=0xC0 if error else 0))
        self._transmit(iface, hop, mac, template.build(word1, word2, payload, self._next_id(), ttl))
        return True

    def send_tcp(self, src: int, dst: int, sport: int, dport: int, seg) -> bool:
        """Send one engine segment as a frame (the TCP template for its flow and options)."""
        path = self._path(dst)
        if path is None:
            return False
        iface, hop, mac = path
        key = (6, iface, mac, src, dst, sport, dport)
        template = self._templates.get(key) or self._keep(key, TcpTemplate(
            iface.mac, mac or ZERO_MAC, src, dst, sport, dport))
        options = h.tcp_options(seg.mss, seg.wscale, seg.sack_perm, seg.ts, seg.sack) \
            if seg.mss is not None or seg.ts is not None or seg.sack else b""
        ip_id = self._tcp_ip_id((src, dst, sport, dport), seg.flags)
        self._transmit(iface, hop, mac, template.build(seg.seq, seg.ack, seg.flags, seg.window,
                                                       seg.payload, ip_id, options=options))
        return True

    def _tcp_ip_id(self, flow, flags: int) -> int:
        """Linux: 0 on a SYN-ACK and a RST (sent with DF, from no socket's counter), and
        otherwise a counter per connection from a random start; the textbook stack
        numbers every datagram from one counter."""
        if self.tcp.stack != "linux":
            return self._next_id()
        if flags & 0x04 or flags & 0x12 == 0x12:
            return 0
        last = self._flow_ids.get(flow)
        if last is None:
            last = self.network.rng.getrandbits(16)
        self._flow_ids[flow] = (last + 1) & 0xFFFF
        return self._flow_ids[flow]

    def _transmit(self, iface, hop: int, mac: bytes | None, data: bytes,
                  verified: bool = True) -> None:
        """Send ``data`` on ``iface`` to ``mac``, or hold it until ARP resolves ``hop``."""
        if mac is not None:
            iface.send(data, verified)
        else:
            self._hold(iface, hop, data, verified)

    def receive(self, frame, iface) -> None:
        data = frame.data
        dst = data[:6]
        if dst != iface.mac and dst != BROADCAST_MAC:
            # The NIC's address filter: not for us (a switch flooded it). Recorded, so
            # that no frame ends without a record, as a drop no diagram draws.
            reason = "mac-filtered" if len(data) >= 14 else "malformed"
            self.drop(frame, iface.port, reason)
            return
        now = self.env._now
        if iface.rx_append is None:
            self._record(now, RX, iface.port, frame)
        else:
            append_time, append_meta, word = iface.rx_append
            fid = frame.id
            if fid < 0:
                fid = self.trace.new_frame(frame)
            append_time(now)
            append_meta(fid << FRAME_SHIFT | word)
        try:
            ethertype = data[12:14]
            if ethertype == b"\x08\x00":
                if frame.verified and data[14] == 0x45:
                    # Built by our own engine, no options: parse_ipv4's checks hold by construction.
                    _vi, _tos, total, _id, frag, ttl, proto, _cs, src, dst = _IPV4_UNPACK(data, 14)
                    hlen = 20
                else:
                    hlen, total, ttl, proto, src, dst = h.parse_ipv4(data)
                    frag = (data[20] << 8) | data[21]
                if frag & 0x3FFF:                        # MF flag or a fragment offset
                    self.drop(frame, iface.port, "fragment", error="reassembly is not modelled")
                elif dst in self.local_ips or dst == BROADCAST_IP or dst == iface.broadcast:
                    self._deliver(frame, data, iface, hlen, total, ttl, proto, src, dst, now)
                elif self.forwarding:
                    self._forward(frame, data, iface, hlen, total, ttl, proto, src, dst, now)
                elif iface.ip is None and proto == h.IPPROTO_UDP:
                    # No address yet: what dhclient's packet socket reads, an OFFER or ACK
                    # unicast to the address it is being given (RFC 2131 §4.1).
                    self._deliver(frame, data, iface, hlen, total, ttl, proto, src, dst, now)
                else:
                    self.drop(frame, iface.port, "not-for-this-host")
            elif ethertype == b"\x08\x06":
                op, sha, spa, tha, tpa = h.parse_arp(data)
                iface.arp.receive(op, sha, spa, tha, tpa, now,       # refuses a bad opcode
                                  unicast=dst == iface.mac)
                watcher = self.arp_watchers.get(iface.name)
                if watcher is not None:
                    watcher(op, sha, spa, tha, tpa, now)
                iface.arp_driver.kick()
            elif ethertype == b"\x80\x35":
                self.receive_rarp(frame, iface, *h.parse_arp(data))
            elif len(ethertype) < 2:
                raise FrameError(f"{len(data)}-byte frame is shorter than an Ethernet header")
            else:
                self.drop(frame, iface.port, "unknown-ethertype", ethertype="0x" + ethertype.hex())
        except FrameError as exc:
            # Only the frame's own bytes can be "malformed": the header parsers raise
            # FrameError for every length and field they check. Anything else raised on
            # the way up (an engine, an application) is a bug and must not hide here.
            self.drop(frame, iface.port, "malformed", error=exc.reason)

    def receive_rarp(self, frame, iface, op, sha, spa, tha, tpa) -> None:
        """RARP belongs to applications (a client booting, a server); without one, drop.
        A handler may refuse the frame by returning the reason (a forged reply)."""
        handler = self.rarp_handlers.get(iface.name)
        if handler is None:
            self.drop(frame, iface.port, "no-rarp-service")
            return
        refused = handler(op, sha, spa, tha, tpa, self.env.now)
        if refused:
            self.drop(frame, iface.port, refused)

    def _deliver(self, frame, data, iface, hlen, total, ttl, proto, src, dst, now) -> None:
        l4 = data[14 + hlen:14 + total]
        if proto == h.IPPROTO_UDP:
            if len(l4) < 8:
                raise FrameError("UDP header truncated")
            sport, dport, ulen, csum = h.UDP.unpack_from(l4)
            if not 8 <= ulen <= len(l4):
                raise FrameError(f"UDP length {ulen} does not fit the datagram")
            if csum and not frame.verified and fold(int.from_bytes(data[26:34], "big") + 17 + ulen
                                                    + word_total(l4[:ulen])) != 0xFFFF:
                raise FrameError("UDP checksum is wrong")
            sock = self.udp_sockets.get(dport)
            if sock is not None and sock.peer is not None and sock.peer != (src, sport):
                sock = None      # a connected socket hears only its peer (udp4_lib_lookup)
            if sock is not None:
                sock.arrived_on = iface
                sock.deliver(l4[8:ulen], src, sport, now)
            elif dst in self.local_ips:
                self._icmp_error(data, hlen, total, src, iface, h.ICMP_DEST_UNREACH, h.UNREACH_PORT)
                self.drop(frame, iface.port, "port-unreachable")
            else:
                # A broadcast nobody listens for: no ICMP error (RFC 1122 §3.2.2).
                self.drop(frame, iface.port, "no-listener", udp_port=dport)
        elif proto == h.IPPROTO_ICMP:
            if len(l4) < 8:
                raise FrameError("ICMP header truncated")
            if not frame.verified and fold(word_total(l4)) != 0xFFFF:
                raise FrameError("ICMP checksum is wrong")
            icmp_type, code, _csum, word1, word2 = h.ICMP.unpack_from(l4)
            if icmp_type == h.ICMP_ECHO_REQUEST:
                if dst in self.local_ips:
                    self.send_icmp(src, h.ICMP_ECHO_REPLY, 0, word1, word2, l4[8:], src=dst)
                elif self.broadcast_ping:
                    self.send_icmp(src, h.ICMP_ECHO_REPLY, 0, word1, word2, l4[8:], src=iface.ip)
                else:
                    # Linux's icmp_echo_ignore_broadcasts (on by default): no answer.
                    self.drop(frame, iface.port, "broadcast-echo-ignored")
                return
            if icmp_type not in _ICMP_KNOWN_TYPES:
                self.drop(frame, iface.port, "unknown-icmp-type", type=icmp_type)
                return
            if icmp_type == h.ICMP_DEST_UNREACH and self.tcp.icmp_error(code, word2, l4[8:]):
                return                                   # a TCP connection took it (path MTU)
            if not self.icmp_listeners:
                self.drop(frame, iface.port, "no-listener", type=icmp_type)
                return
            for listener in self.icmp_listeners:
                listener(src, icmp_type, code, word1, word2, l4[8:], ttl, len(l4), now)
        elif proto == h.IPPROTO_TCP and dst in self.local_ips:
            if not frame.verified and fold(int.from_bytes(data[26:34], "big") + 6 + len(l4)
                                           + word_total(l4)) != 0xFFFF:
                raise FrameError("TCP checksum is wrong")
            self.tcp.receive(frame, iface, src, dst, l4)
        elif dst in self.local_ips:
            self._icmp_error(data, hlen, total, src, iface, h.ICMP_DEST_UNREACH, h.UNREACH_PROTOCOL)
            self.drop(frame, iface.port, "protocol-unreachable", protocol=proto)
        else:
            self.drop(frame, iface.port, "no-listener", protocol=proto)

class Host(IpNode):
    """An end system: one or more interfaces, a default gateway, sockets, applications."""
    kind = "host"


class Router(IpNode):
    """Forwards between its interfaces by longest-prefix match (RFC 1812)."""
    kind = "router"
    forwarding = True
