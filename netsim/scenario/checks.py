"""A scenario's run checked against expectations: its own ``expect:`` or a teacher's
file of them (:mod:`netsim.check`) — what ``netsim check`` and
:meth:`RunResult.check <netsim.scenario.runner.RunResult.check>` do."""

from __future__ import annotations

from pathlib import Path

from netsim.check.expect import check_expectations, evaluate, nodes_named
from netsim.check.report import CheckReport
from netsim.errors import ScenarioError


def load_expect_file(path: str | Path, scenario) -> list[dict]:
    """A teacher's expectations, checked against the student's scenario (its links,
    nodes and apps); errors name the teacher's file, key path and line."""
    from netsim.scenario.loader import Scenario, link_names
    from netsim.scenario.schema_check import check_schema
    from netsim.scenario.yamlpos import load_with_lines
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read the file: {exc.strerror}", source=str(path)) from None
    data, lines = load_with_lines(text, str(path))
    if not isinstance(data, dict) or not isinstance(data.get("expect"), list):
        raise ScenarioError("a file of expectations is a mapping with an 'expect:' list",
                            line=1, source=str(path))
    extra = [k for k in data if k not in ("expect", "description")]
    if extra:
        raise ScenarioError(f"{extra[0]!r}: a file of expectations holds only 'expect' and "
                            "'description'", line=lines.get((extra[0],)), source=str(path))
    merged = dict(scenario.data, expect=data["expect"])
    own = {k: v for k, v in lines.items() if k[:1] == ("expect",)}
    stand_in = Scenario(name=scenario.name, data=merged, source=str(path), lines=own)
    check_schema(stand_in)
    check_expectations(data["expect"], stand_in.error, nodes=scenario.data["nodes"],
                       links=link_names(scenario.data), apps=scenario.data.get("apps", []))
    return data["expect"]


def check_run(result, items: list[dict] | None = None, *, source: str = "") -> CheckReport:
    """The outcomes of ``items`` (default: the scenario's own ``expect:``) over a run."""
    items = result.scenario.data.get("expect", []) if items is None else items
    network = result.network
    nodes = {name: node_state(network.nodes[name], network.env.now)
             for name in nodes_named(items) if name in network.nodes}
    return CheckReport(result.scenario.name, result.summary.get("seed"),
                       evaluate(items, result.trace, result.summary, result.scenario.data, nodes),
                       source=source)


def node_state(node, now: float) -> dict:
    """What ``ip neigh`` and ``ip route`` would show on ``node`` at the end: its ARP
    entries by address (MAC and state) and its routes by prefix."""
    from netsim.wire.addr import bytes_to_mac, int_to_ip
    arp, routes = {}, {}
    for iface in getattr(node, "interfaces", {}).values():
        resolver = getattr(iface, "arp", None)
        for ip in sorted(resolver.cache if resolver is not None else ()):
            state = resolver.state(ip, now)
            if state is not None:
                arp[int_to_ip(ip)] = {"mac": bytes_to_mac(resolver.cache[ip].mac),
                                      "state": str(state).upper(), "dev": iface.name}
    for route in getattr(node, "routes", ()):
        prefix, _, rest = str(route).partition(" ")
        routes.setdefault(prefix, rest)
    return {"arp": arp, "routes": routes}
