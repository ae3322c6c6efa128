"""What every application shares: its node, start time, output lines and result."""

from __future__ import annotations

from netsim.apps.names import hosts_entry
from netsim.errors import NetsimError, TopologyError
from netsim.sim.driver import EngineDriver
from netsim.wire.addr import ip_to_int


def resolve(network, target: str) -> tuple[str, int]:
    """A node name or dotted quad → ``(name as given, address)``: the scenario's /etc/hosts."""
    node = network.nodes.get(target)
    if node is not None:
        if getattr(node, "ip", None) is None:
            raise TopologyError(f"{target}: No address associated with hostname")
        return target, ip_to_int(node.ip)
    try:
        return target, ip_to_int(target)
    except ValueError:
        raise TopologyError(f"{target}: Name or service not known") from None


def host_names(network) -> dict[int, str]:
    """Every interface address → its node's name, for tools that print names."""
    return {iface.ip: node.name for node in network.nodes.values()
            for iface in node.interfaces.values() if iface.ip is not None}


class OutputLines(list):
    """What an application printed, remembering when it printed its first line: a
    run's text puts each tool's output where its story begins (the relay's log after
    the submission that caused it), not where the tool was started."""

    def __init__(self, env) -> None:
        super().__init__()
        self._env = env
        self.first_at: float | None = None

    def append(self, line: str) -> None:
        if self.first_at is None:
            self.first_at = self._env.now
        super().append(line)

    def extend(self, lines) -> None:
        for line in lines:
            self.append(line)


class App:
    """An application on ``node``, started at simulated time ``at``.

    Subclasses set ``name`` (what scenarios write after ``run:``), ``SCHEMA`` (their
    arguments as JSON Schema properties) and implement ``start`` and ``result``.
    """

    name = "app"
    SCHEMA: dict = {}
    #: Arguments a scenario must give.
    REQUIRED: list[str] = []
    #: A server or sink: it runs until the end and is never "unfinished".
    SERVICE = False
    #: (protocol, default port) a server binds; two on one node and port are an error.
    BINDS: tuple[str, int] | None = None
    #: Attributes naming a host the app needs an address for before it starts: a node
    #: name or dotted quad is looked up in the hosts table, any other name by DNS.
    TARGETS: tuple[str, ...] = ()
    #: Start only once the node has its address (``ip: dhcp``), as a service ordered after
    #: network-online.target does; the DHCP client itself does not wait.
    WAITS_FOR_NETWORK = True

    @classmethod
    def port_of(cls, args: dict) -> int:
        """The port a server app given ``args`` binds (its BINDS default unless told)."""
        return args.get("port", cls.BINDS[1])

    def __init__(self, node, *, at: float = 0.0) -> None:
        self.node = node
        self.network = node.network
        self.env = node.env
        self.at = at
        self.lines: list[str] = OutputLines(node.env)
        self.started = False
        #: Why it failed ("connect: Connection refused", "unfinished", …), None if it did not.
        self.error: str | None = None
        #: Names this app looked up by DNS → their addresses.
        self.resolved: dict[str, int] = {}
        self.network.apps.append(self)
        self.network.at(at, self._start)

    def _start(self) -> None:
        online = getattr(self.node, "online", None)
        if self.WAITS_FOR_NETWORK and online is not None and not online.triggered:
            online.callbacks.append(lambda _event: self._start())
            return
        self.started = True
        names = [n for n in (getattr(self, a, None) for a in self.TARGETS)
                 if n and hosts_entry(self.network, n) is None and n not in self.network.nodes]
        if names:
            self._look_up(names)
            return
        self._begin()

    def _look_up(self, names: list[str]) -> None:
        """getaddrinfo before the real work: the app waits for DNS (one name after the
        other, as a program resolves its arguments in turn), or fails as the tool does."""
        from netsim.apps.names import lookup

        name = names[0]

        def answered(event) -> None:
            answer = event.value
            if answer.error:
                self.name_failed(name, answer.error)
                return
            self.resolved[name] = ip_to_int(answer.addresses[0])
            if len(names) > 1:
                self._look_up(names[1:])
            else:
                self._begin()

        lookup(self.node, name).callbacks.append(answered)

    def name_failed(self, name: str, error: str) -> None:
        """DNS could not give ``name`` an address: say so as the tool does (glibc's
        words by default: ``ping: www.x.com: Name or service not known``)."""
        self.error = f"{name}: {error}"
        self.say(f"{self.name}: {self.error}")

    def resolve(self, target: str) -> tuple[str, int]:
        """``(name, address)`` for a target: what DNS said before the start, or the hosts table."""
        if target in self.resolved:
            return target, self.resolved[target]
        return resolve(self.network, target)

    def _begin(self) -> None:
        try:
            self.start()
        except (NetsimError, OSError) as exc:
            # What the real tool does when it cannot even begin: say why, and stop.
            self.error = str(exc)
            self.say(f"{self.name}: {exc}")

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

    # -- the end of a run ------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """It did all it set out to do (or failed and said so)."""
        return False

    def progress(self) -> str:
        """What it got to, for an app the run stopped before it was done."""
        return "it had not finished"

    def summary_line(self) -> str | None:
        """A service's closing line (what it served), printed when the run ends."""
        return None

    @property
    def status(self) -> str:
        """finished, failed, unfinished, not started, or serving (a service)."""
        if not self.started:
            return "not started"
        if self.SERVICE:
            return "serving"
        if self.error == "unfinished" or (self.error is None and not self.done):
            return "unfinished"
        return "failed" if self.error is not None else "finished"

    def wrap_up(self) -> None:
        """Called once when the run ends: an app that did not finish says so, loudly."""
        now = self.env.now
        online = getattr(self.node, "online", None)
        if not self.started and self.at <= now and online is not None and not online.triggered:
            self.error = "not started"
            self.say(f"{self.name}: not started: the run ended at {now:g} s while "
                     f"{self.node.name} was still waiting for a DHCP lease")
        elif not self.started:
            self.error = "not started"
            self.say(f"{self.name}: not started: the run ended at {now:g} s, before its start "
                     f"at {self.at:g} s")
        elif self.SERVICE:
            line = self.summary_line()
            if line:
                self.say(line)
        elif not self.done and self.error is None:
            self.error = "unfinished"
            self.say(f"{self.name}: unfinished when the run ended at {now:g} s: {self.progress()}")

    @property
    def label(self) -> str:
        return f"{self.name} on {self.node.name}"
