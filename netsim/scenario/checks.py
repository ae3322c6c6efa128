"""A scenario's run checked against expectations: its own ``expect:`` or a teacher's
file of them (:mod:`netsim.check`) — what ``netsim check`` and
:meth:`RunResult.check <netsim.scenario.runner.RunResult.check>` do."""

from __future__ import annotations

from pathlib import Path

from netsim.check.expect import check_expectations, evaluate, nodes_named, unknown_names
from netsim.check.report import CheckReport
from netsim.errors import ScenarioError


def expect_file_schema() -> dict:
    """A teacher's file: ``expect:`` (the scenario schema's) and a ``description``."""
    from netsim.scenario.schema import scenario_schema
    full = scenario_schema()
    return {"type": "object", "additionalProperties": False, "required": ["expect"],
            "properties": {"expect": full["properties"]["expect"],
                           "description": {"type": "string"}},
            "$defs": full["$defs"]}


def load_expect_file(path: str | Path) -> list[dict]:
    """A teacher's expectations, checked for all that needs no scenario (the form,
    filters, comparisons, times); errors name the file, key path and line. What they
    name of a network is checked against each scenario they meet (:func:`check_run`)."""
    from netsim.scenario.loader import Scenario, read_source
    from netsim.scenario.schema_check import check_schema
    from netsim.scenario.yamlpos import load_with_lines
    path = Path(path)
    text = read_source(path)
    data, lines = load_with_lines(text, str(path))
    if not isinstance(data, dict) or not isinstance(data.get("expect"), list):
        raise ScenarioError("a file of expectations is a mapping with an 'expect:' list",
                            line=1, source=str(path))
    extra = [k for k in data if k not in ("expect", "description")]
    if extra:
        raise ScenarioError(f"{extra[0]!r}: a file of expectations holds only 'expect' and "
                            "'description'", line=lines.get((extra[0],)), source=str(path))
    stand_in = Scenario(name="expectations", data=data, source=str(path), lines=lines)
    check_schema(stand_in, expect_file_schema())
    check_expectations(data["expect"], stand_in.error)
    if not data["expect"]:
        raise ScenarioError("the file lists no expectations", line=lines.get(("expect",)),
                            source=str(path))
    return data["expect"]


def check_run(result, items: list[dict] | None = None, *, source: str = "") -> CheckReport:
    """The outcomes of ``items`` (default: the scenario's own ``expect:``) over a run.
    An expectation naming a link, node or application the scenario lacks fails, saying
    so (a student who renamed a node is graded on the rest)."""
    from netsim.scenario.loader import link_names
    data = result.scenario.data
    items = data.get("expect", []) if items is None else items
    network = result.network
    unknown = {i: why for i, _where, why in unknown_names(
        items, nodes=data["nodes"], links=link_names(data), apps=data.get("apps", []))}
    nodes = {name: node_state(network.nodes[name], network.env.now)
             for name in nodes_named(items) if name in network.nodes}
    return CheckReport(result.scenario.name, result.summary.get("seed"),
                       evaluate(items, result.trace, result.summary, data, nodes, unknown),
                       source=source, stopped=result.summary.get("stopped") or "")


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
