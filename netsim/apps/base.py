"""What every application shares: its node, start time, output lines and result."""

from __future__ import annotations

from netsim.errors import TopologyError
from netsim.sim.driver import EngineDriver
from netsim.wire.addr import ip_to_int


def resolve(network, target: str) -> tuple[str, int]:
    """A node name or dotted quad → ``(name as given, address)``: the scenario's /etc/hosts."""
    node = network.nodes.get(target)
    if node is not None:
        if node.ip is None:
            raise TopologyError(f"{target} has no IPv4 address")
        return target, ip_to_int(node.ip)
    try:
        return target, ip_to_int(target)
    except ValueError:
        raise TopologyError(f"{target!r} is neither a node nor an IPv4 address") from None


def host_names(network) -> dict[int, str]:
    """Every interface address → its node's name, for tools that print names."""
    return {iface.ip: node.name for node in network.nodes.values()
            for iface in node.interfaces.values() if iface.ip is not None}


class App:
    """An application on ``node``, started at simulated time ``at``.

    Subclasses set ``name`` (what scenarios write after ``run:``), ``SCHEMA`` (their
    arguments as JSON Schema properties) and implement ``start`` and ``result``.
    """

    name = "app"
    SCHEMA: dict = {}

    def __init__(self, node, *, at: float = 0.0) -> None:
        self.node = node
        self.network = node.network
        self.env = node.env
        self.at = at
        self.lines: list[str] = []
        self.started = False
        self.network.apps.append(self)
        self.network.at(at, self._start)

    def _start(self) -> None:
        self.started = True
        self.start()

    def start(self) -> None:
        raise NotImplementedError

    def drive(self, engine) -> EngineDriver:
        return EngineDriver(self.env, engine, self.on_output)

    def on_output(self, output) -> None:
        text = getattr(output, "text", None)
        if text is not None:
            self.lines.append(text)

    def say(self, text: str) -> None:
        self.lines.append(text)

    def result(self) -> dict:
        return {}

    @property
    def label(self) -> str:
        return f"{self.name} on {self.node.name}"
