"""Name lookup on a host, as getaddrinfo does it: the hosts table, then DNS.

The hosts table is the scenario's node names (``target: bob`` works with no DNS at
all) and dotted quads. Any other name goes to the host's stub resolver, which asks
the servers in ``node.dns_servers`` (the scenario's ``dns:`` key, or what DHCP
gave) over UDP 53. Every lookup is a SimPy event, so an application waits for its
answer in simulated time, as a real one waits in getaddrinfo.
"""

from __future__ import annotations

import random

from netsim.sim.driver import EngineDriver
from netsim.sim.runtime import contain
from netsim.wire.addr import ip_to_int

PORT = 53


def hosts_entry(network, name: str) -> int | None:
    """The address the hosts table gives ``name``, or None (a name for DNS)."""
    node = network.nodes.get(name)
    if node is not None:
        return ip_to_int(node.ip) if getattr(node, "ip", None) is not None else None
    try:
        return ip_to_int(name)
    except ValueError:
        return None


class NameService:
    """A node's stub resolver, made on the first DNS lookup, and the UDP socket of each
    lookup (on the port the engine drew; closed when the lookup ends, as glibc's)."""

    def __init__(self, node) -> None:
        from netsim.proto.dns.stub import StubResolver      # dnspython only when DNS is used

        self.node = node
        self.env = node.env
        self.name = "getaddrinfo"           # who a contained failure is noted for
        self.engine = StubResolver(list(getattr(node, "dns_servers", [])),
                                   rng=random.Random(f"{node.network.seed}:dns:{node.name}:stub"),
                                   port_free=lambda port: port not in node.udp_sockets)
        self.driver = EngineDriver(node.env, self.engine, self._on_output)
        self.sockets: dict[int, object] = {}

    def lookup(self, name: str, rdtype: str = "A"):
        event = self.node.env.event()
        # The servers may have changed since (a DHCP lease arrived): read them each time.
        self.engine.servers = list(getattr(self.node, "dns_servers", []))
        self.engine.lookup(name, rdtype, event, self.node.env.now)
        self.driver.kick()
        return event

    def _on_datagram(self, payload, addr, now, port: int) -> None:
        if addr[1] != PORT:
            return                          # not from a name server's port: not an answer
        # The stub drops what it cannot use; the boundary is for a bug.
        contain(self, self.engine.receive, payload, ip_to_int(addr[0]), now, port)
        self.driver.kick()

    def _on_output(self, output) -> None:
        from netsim.proto.dns.stub import Ask, Release

        if isinstance(output, Ask):
            sock = self.sockets.get(output.port)
            if sock is None:
                sock = self.sockets[output.port] = self.node.udp_open(output.port)
                sock.on_receive = lambda payload, addr, now, port=output.port: \
                    self._on_datagram(payload, addr, now, port)
            # glibc's res_send connects its socket to the server it asks.
            if sock.peer != (self.node.network.address_of(output.server), PORT):
                sock.connect((output.server, PORT))
            sock.send(output.wire)
        elif isinstance(output, Release):
            sock = self.sockets.pop(output.port, None)
            if sock is not None:
                sock.close()
        else:
            output.tag.succeed(output)


def lookup(node, name: str, rdtype: str = "A"):
    """A SimPy event whose value is a :class:`~netsim.proto.dns.stub.Answer`-like result:
    ``.addresses`` (dotted quads) and ``.error`` (None, or what getaddrinfo would say)."""
    service = getattr(node, "name_service", None)
    if service is None:
        service = node.name_service = NameService(node)
    return service.lookup(name, rdtype)
