"""Name lookup on a host, as getaddrinfo does it: the hosts table, then DNS.

The hosts table is the scenario's node names (``target: bob`` works with no DNS at
all) and dotted quads. Any other name goes to the host's stub resolver, which asks
the servers in ``node.dns_servers`` (the scenario's ``dns:`` key, or what DHCP
gave) over UDP 53. Every lookup is a SimPy event, so an application waits for its
answer in simulated time, as a real one waits in getaddrinfo.
"""

from __future__ import annotations

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
    """A node's stub resolver and its UDP socket, made on the first DNS lookup."""

    def __init__(self, node) -> None:
        from netsim.proto.dns.stub import StubResolver      # dnspython only when DNS is used

        self.node = node
        self.env = node.env
        self.name = "getaddrinfo"           # who a contained failure is noted for
        self.engine = StubResolver(list(getattr(node, "dns_servers", [])),
                                   seed=node.network.seed)
        self.driver = EngineDriver(node.env, self.engine, self._on_output)
        self.socket = node.udp_open()
        self.socket.on_receive = self._on_datagram

    def lookup(self, name: str, rdtype: str = "A"):
        event = self.node.env.event()
        # The servers may have changed since (a DHCP lease arrived): read them each time.
        self.engine.servers = list(getattr(self.node, "dns_servers", []))
        self.engine.lookup(name, rdtype, event, self.node.env.now)
        self.driver.kick()
        return event

    def _on_datagram(self, payload, addr, now) -> None:
        if addr[1] != PORT:
            return                          # not from a name server's port: not an answer
        # The stub drops what it cannot use; the boundary is for a bug.
        contain(self, self.engine.receive, payload, ip_to_int(addr[0]), now)
        self.driver.kick()

    def _on_output(self, output) -> None:
        from netsim.proto.dns.stub import Ask

        if isinstance(output, Ask):
            self.socket.sendto(output.wire, (output.server, PORT))
        else:
            output.tag.succeed(output)


def lookup(node, name: str, rdtype: str = "A"):
    """A SimPy event whose value is a :class:`~netsim.proto.dns.stub.Answer`-like result:
    ``.addresses`` (dotted quads) and ``.error`` (None, or what getaddrinfo would say)."""
    service = getattr(node, "name_service", None)
    if service is None:
        service = node.name_service = NameService(node)
    return service.lookup(name, rdtype)
