"""Reading a scenario file: YAML → checked against the schema → checked for meaning.

Every error names the key path and the line (``links[2].endpoints[1]: node 'r9' is
not defined``); the first one found, in file order, is raised as a
:class:`~netsim.errors.ScenarioError`.
"""

from __future__ import annotations

import difflib
import ipaddress
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from netsim.errors import ScenarioError
from netsim.scenario.dns_tree import fill_dns_tree
from netsim.scenario.paths import format_path, line_of
from netsim.scenario.schema_check import check_schema
from netsim.scenario.yamlpos import load_with_lines
from netsim.units import SIZE_LIKE, parse_size, parse_time


@dataclass
class Scenario:
    """A checked scenario: the data as written, plus where each key sits in the file."""

    name: str
    data: dict
    source: str = "<scenario>"
    lines: dict = field(default_factory=dict, repr=False)
    #: The file as written (a sweep sends it to each run and varies it there).
    text: str = field(default="", repr=False)

    @property
    def seed(self) -> int:
        return int(self.data.get("seed", 0))

    @property
    def until(self) -> float:
        return parse_time(self.data.get("until", "60s"))

    @property
    def outputs(self) -> list[str]:
        from netsim.scenario.schema import OUTPUTS
        return list(self.data.get("outputs", OUTPUTS))

    def error(self, path: tuple, message: str) -> ScenarioError:
        return ScenarioError(message, path=format_path(path), line=line_of(self.lines, path),
                             source=self.source)

    def build(self, *, seed: int | None = None, trace=True):
        """The network this scenario describes, with its applications scheduled; ``trace``
        on, off, or a trace of one's own (:class:`~netsim.trace.stream.StreamingTrace`)."""
        from netsim.scenario.build import build_network
        return build_network(self, seed=self.seed if seed is None else seed, trace=trace)


def load_scenario(path: str | Path) -> Scenario:
    return parse_scenario(read_source(path), source=str(path))


def read_source(path: str | Path) -> str:
    """A scenario's (or a file of expectations') text, or a :class:`ScenarioError`
    saying why it cannot be read."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read the file: {exc.strerror}", source=str(path)) from None
    except UnicodeDecodeError:
        raise ScenarioError("the file is not UTF-8 text", source=str(path)) from None


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    data, lines = load_with_lines(text, source)
    scenario = check_scenario(data, lines, source)
    scenario.text = text
    return scenario


def check_scenario(data, lines: dict, source: str = "<scenario>") -> Scenario:
    """Check YAML-loaded ``data`` (``lines``: where each key path sits in ``source``) as
    :func:`parse_scenario` does, and return the scenario; a sweep checks each of its
    variations of one file this way."""
    if not isinstance(data, dict):
        raise ScenarioError("a scenario is a mapping with at least 'name' and 'nodes'",
                            line=1, source=source)
    scenario = Scenario(name=str(data.get("name", "")), data=data, source=source, lines=lines)
    _check_finite(scenario, data, ())
    check_schema(scenario)
    fill_dns_tree(scenario)
    _check_meaning(scenario)
    return scenario


_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_finite(scenario: Scenario, value, path: tuple) -> None:
    """YAML reads .nan and .inf as numbers; no quantity in a network is either. YAML's
    "\\ud800" is a lone surrogate: no encoding can write it, so no text may hold one."""
    if isinstance(value, float) and not math.isfinite(value):
        raise scenario.error(path, f"{value!r} is not a finite number")
    if isinstance(value, str) and _SURROGATE.search(value):
        raise scenario.error(path, f"{value!r} holds a lone surrogate, which is not a "
                                   "character any encoding can write")
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and _SURROGATE.search(key):
                raise scenario.error(path + (key,), f"the key {key!r} holds a lone surrogate")
            _check_finite(scenario, item, path + (key,))
    elif isinstance(value, list):
        for k, item in enumerate(value):
            _check_finite(scenario, item, path + (k,))


# -- meaning -------------------------------------------------------------------------------

def _check_meaning(scenario: Scenario) -> None:
    data = scenario.data
    nodes: dict = data["nodes"]
    err = scenario.error

    for name, spec in nodes.items():
        kind = spec["kind"]
        if kind != "switch" and "stp" in spec:
            raise err(("nodes", name, "stp"), "only switches run the spanning tree")
        for key in ("ip", "gateway", "routes", "interfaces", "boot", "announce", "arp_lifetime",
                    "dns", "dhcp_relay", "firewall"):
            if kind == "switch" and key in spec:
                raise err(("nodes", name, key), f"a switch has no {key!r} (it works at layer 2)")
        if kind == "router":
            for key in ("ip", "gateway", "boot"):
                if key in spec:
                    hint = "give addresses under 'interfaces'" if key == "ip" else \
                        "give a default route under 'routes'" if key == "gateway" else \
                        "only hosts boot by RARP"
                    raise err(("nodes", name, key), f"a router has no {key!r}; {hint}")
        if kind != "router" and "firewall" in spec:
            raise err(("nodes", name, "firewall"), "only routers filter what they forward")
        for iface in spec.get("firewall", {}):
            if iface not in (spec.get("interfaces") or {}):
                raise err(("nodes", name, "firewall", iface),
                          f"{name} has no interface {iface!r} among its 'interfaces' (name the "
                          "interface the firewall guards, e.g. the one facing outside)")
            rules = spec["firewall"][iface]
            for key, items in (rules.items() if isinstance(rules, dict) else []):
                for k, item in enumerate(items if key != "stateful" else []):
                    if key == "rules" and "action" not in item:
                        raise err(("nodes", name, "firewall", iface, key, k),
                                  "a rule in 'rules' needs an action: allow or deny")
                    if key != "rules" and "action" in item:
                        raise err(("nodes", name, "firewall", iface, key, k, "action"),
                                  f"a rule under {key!r} is already a {key} rule")
        if kind == "host" and "dhcp_relay" in spec:
            raise err(("nodes", name, "dhcp_relay"), "a relay agent runs on a router (it "
                                                     "forwards between the client's link and the server's)")
        if kind != "switch" and "aging" in spec:
            raise err(("nodes", name, "aging"), "only switches have a MAC table to age")
        if kind == "host" and "ip" in spec and "boot" in spec:
            raise err(("nodes", name, "boot"), "a host booting by RARP has no 'ip' of its own")
        if spec.get("ip") == "dhcp":
            if "gateway" in spec:
                raise err(("nodes", name, "gateway"), "a host with 'ip: dhcp' learns its gateway "
                                                      "from the DHCP server (its router option)")
        elif "gateway" in spec and "ip" in spec:
            net = ipaddress.IPv4Interface(spec["ip"]).network
            if ipaddress.IPv4Address(spec["gateway"]) not in net:
                raise err(("nodes", name, "gateway"),
                          f"gateway {spec['gateway']} is not on {name}'s subnet {net}")
        for k, route in enumerate(spec.get("routes", [])):
            if "via" not in route and "dev" not in route:
                raise err(("nodes", name, "routes", k), "a route needs 'via' (a next hop) or 'dev'")

    _check_addresses(scenario)
    if "address_pool" in data:
        try:
            ipaddress.IPv4Network(data["address_pool"], strict=True)
        except ValueError as exc:
            raise err(("address_pool",), f"{data['address_pool']} is not a network address "
                                         f"({exc}); write it as its network, e.g. "
                                         f"{ipaddress.IPv4Interface(data['address_pool']).network}"
                      ) from None
    _check_units(scenario)
    if "filter" in data.get("sequence", {}):
        import netsim.proto  # noqa: F401 — every protocol's descriptor: the filter's words
        from netsim.viz.filters import parse_filter
        try:
            parse_filter(data["sequence"]["filter"])
        except ValueError as exc:
            raise err(("sequence", "filter"), str(exc)) from None

    if "expect" in data:
        from netsim.check.expect import check_expectations
        check_expectations(data["expect"], err, nodes=nodes, links=link_names(data),
                           apps=data.get("apps", []))

    used: dict[tuple[str, str], int] = {}
    for i, link in enumerate(data.get("links", [])):
        for j, end in enumerate(link["endpoints"]):
            node, _, iface = end.partition(":")
            if node not in nodes:
                raise err(("links", i, "endpoints", j), f"node {node!r} is not defined"
                          + _did_you_mean(node, nodes))
            if iface:
                if (node, iface) in used:
                    raise err(("links", i, "endpoints", j),
                              f"{node}:{iface} is already wired by links[{used[(node, iface)]}]")
                used[(node, iface)] = i
        a, b = (e.partition(":")[0] for e in link["endpoints"])
        if a == b:
            # Even a switch: cabled to itself it would flood broadcasts round forever.
            raise err(("links", i, "endpoints"), f"a link joins two different nodes, not {a} to itself")

    names = set(nodes)
    bound: dict[tuple, int] = {}
    from netsim.apps import APPS
    for i, app in enumerate(data.get("apps", [])):
        binds = getattr(APPS[app["run"]], "BINDS", None)
        if binds is not None and app.get("node") in nodes:
            protocol, _ = binds
            key = (app["node"], protocol, APPS[app["run"]].port_of(app))
            if app["run"] == "dhcp-client" and nodes[app["node"]].get("ip") == "dhcp":
                raise err(("apps", i, "run"), f"{app['node']} has 'ip: dhcp', which runs its "
                                              "DHCP client already")
            if key in bound:
                raise err(("apps", i, "port"), f"{protocol.upper()} port {key[2]} on {key[0]} is "
                                               f"already taken by apps[{bound[key]}]")
            bound[key] = i
        if app["node"] not in nodes:
            raise err(("apps", i, "node"), f"node {app['node']!r} is not defined" + _did_you_mean(app["node"], nodes))
        if nodes[app["node"]]["kind"] == "switch":
            raise err(("apps", i, "node"), f"{app['node']} is a switch; applications run on hosts and routers")
        target = app.get("target")
        if target in names and nodes[target]["kind"] == "switch":
            raise err(("apps", i, "target"), f"{target} is a switch: it has no IP address to "
                                             "send to (a host or router has)")
        for key in ("target", "server", "forward"):
            _check_target(scenario, i, key)
        for path, value in (app.get("files") or {}).items() if app["run"] == "ftp-server" else []:
            _check_ftp_file(scenario, ("apps", i, "files", path), path, value)
        for j, zone in enumerate(app.get("zones", []) if app["run"] == "dns-server" else []):
            _check_zone(scenario, ("apps", i, "zones", j), zone)
        if app["run"] == "python":
            _check_module(scenario, ("apps", i, "module"), app)
        for who in app.get("table", {}):
            if who not in names:
                try:
                    from netsim.wire.addr import mac_to_bytes
                    mac_to_bytes(who)
                except ValueError:
                    raise err(("apps", i, "table", who),
                              f"{who!r} is neither a node nor a MAC address") from None


_DOMAIN_NAME = re.compile(r"^(?=.{1,253}\.?$)([A-Za-z0-9_]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
                          r"[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$")


def _check_target(scenario: Scenario, i: int, key: str) -> None:
    """A target is a node (the hosts table), a dotted quad, or a DNS name that the app's
    node has a name server to ask for (``dns:``, or one DHCP will give it)."""
    nodes = scenario.data["nodes"]
    app = scenario.data["apps"][i]
    target = app.get(key)
    if not isinstance(target, str):
        return
    if target in nodes:
        if nodes[target]["kind"] == "switch":
            raise scenario.error(("apps", i, key), f"{target} is a switch: it has no IP address "
                                                   "to send to (a host or router has)")
        return
    try:
        ipaddress.IPv4Address(target)
        return
    except ValueError:
        pass
    where = nodes.get(app["node"], {})
    if _DOMAIN_NAME.match(target) and "." in target.rstrip("."):
        if "dns" in where or where.get("ip") == "dhcp" or app["run"] in ("dig", "nslookup"):
            return
        raise scenario.error(("apps", i, key),
                             f"{target!r} is not a node, and {app['node']} has no name server to "
                             f"look it up with (give {app['node']} 'dns: <resolver address>', or "
                             "'ip: dhcp' with a DHCP server that hands one out)")
    raise scenario.error(("apps", i, key), f"{target!r} is neither a node nor an IPv4 address"
                         + _did_you_mean(target, nodes))


#: The largest file an FTP server's tree may hold: its bytes are made in memory.
MAX_FTP_FILE = 256 * 1024 * 1024


def _check_ftp_file(scenario: Scenario, where: tuple, path: str, value) -> None:
    """A file is a size (deterministic content) or its content; something that looks
    like a size but is not one is a mistake, not a five-byte file."""
    if not path.strip("/") or any(part in ("", ".", "..") for part in path.strip("/").split("/")):
        raise scenario.error(where, f"{path!r} is not a file path inside the tree")
    if isinstance(value, str) and SIZE_LIKE.match(value):
        try:
            value = parse_size(value)
        except ValueError as exc:
            raise scenario.error(where, f"{value!r} is not a size ({exc}); write sizes like "
                                        "'200KiB', or give the content itself") from None
    if isinstance(value, int) and value > MAX_FTP_FILE:
        raise scenario.error(where, f"{value} bytes is more than the {MAX_FTP_FILE // 2**20} MiB "
                                    "a file may have (its content is made in memory)")


def _check_module(scenario: Scenario, path: tuple, app: dict) -> None:
    """A ``run: python`` module is a Python file in the scenario's folder or below it; its
    name becomes its full path, so the app finds it wherever the run happens."""
    from netsim.apps.python_app import check_module

    try:
        wanted, _source = check_module(Path(scenario.source).resolve().parent, app["module"])
    except ValueError as exc:
        raise scenario.error(path, str(exc)) from None
    app["module"] = str(wanted)


def _check_zone(scenario: Scenario, path: tuple, zone: dict) -> None:
    """Zone data is read and parsed now, so a bad record or a missing file is reported
    where the scenario names it. A zone file is read from the scenario's folder (or
    below it), never from elsewhere; its text replaces ``file`` as the zone's records."""
    from netsim.proto.dns import ZoneError, load_zone

    if ("records" in zone) == ("file" in zone):
        raise scenario.error(path, "a zone has either 'records' (inline) or 'file' (a master "
                                   "file next to the scenario), not both or neither")
    if "file" in zone:
        folder = Path(scenario.source).resolve().parent
        wanted = (folder / zone["file"]).resolve()
        if Path(zone["file"]).is_absolute() or not wanted.is_relative_to(folder):
            raise scenario.error(path + ("file",), f"{zone['file']!r}: a zone file must be in the "
                                                   "scenario's folder or below it")
        try:
            zone["records"] = wanted.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise scenario.error(path + ("file",), f"cannot read {zone['file']}: "
                                                   f"{getattr(exc, 'strerror', None) or exc}") from None
        del zone["file"]
        where = path + ("file",)
    else:
        where = path + ("records",)
    try:
        load_zone(zone["origin"], zone["records"])
    except ZoneError as exc:
        raise scenario.error(where, str(exc)) from None


def _check_addresses(scenario: Scenario) -> None:
    """One address, one interface: two hosts (or two router ports) with the same address
    would answer each other's ARP and lose each other's packets, as a real LAN does."""
    owner: dict[str, str] = {}
    for name, spec in scenario.data["nodes"].items():
        places = [(("nodes", name, "ip"), spec["ip"])] if spec.get("ip", "dhcp") != "dhcp" else []
        places += [(("nodes", name, "interfaces", iface), address)
                   for iface, address in (spec.get("interfaces") or {}).items() if address]
        for path, address in places:
            ip = address.split("/")[0]
            if ip in owner:
                raise scenario.error(path, f"address {ip} is already {owner[ip]}'s: every "
                                           "interface needs an address of its own")
            owner[ip] = ".".join(str(p) for p in path[1:])
        if "gateway" in spec and spec.get("ip", "dhcp") != "dhcp" and \
                spec["gateway"] == spec["ip"].split("/")[0]:
            raise scenario.error(("nodes", name, "gateway"),
                                 f"the gateway {spec['gateway']} is {name}'s own address; it "
                                 "is the address of the router on its subnet")


def _did_you_mean(name: str, known) -> str:
    hint = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {hint[0]!r}?)" if hint else f" (nodes: {', '.join(known)})"


def _check_units(scenario: Scenario) -> None:
    """Parse every quantity once, so a bad unit is reported where it is written."""
    from netsim.scenario.quantities import QuantityError, app_properties, parse_quantities
    from netsim.scenario.schema import DEFS, NODE, scenario_schema
    data = scenario.data
    top = scenario_schema()["properties"]
    places = [(data, (), top), (data.get("sequence", {}), ("sequence",), top["sequence"]["properties"]),
              (data.get("defaults", {}).get("link", {}), ("defaults", "link"), DEFS["link"]["properties"])]
    places += [(link, ("links", i), DEFS["link"]["properties"]) for i, link in enumerate(data.get("links", []))]
    places += [(spec, ("nodes", name), NODE["properties"]) for name, spec in data["nodes"].items()]
    places += [(spec["stp"], ("nodes", name, "stp"), NODE["properties"]["stp"]["anyOf"][1]["properties"])
               for name, spec in data["nodes"].items() if isinstance(spec.get("stp"), dict)]
    places += [(app, ("apps", i), app_properties(app["run"])) for i, app in enumerate(data.get("apps", []))]
    for mapping, path, properties in places:
        try:
            parse_quantities(mapping, properties)
            if isinstance(mapping.get("queue"), str) and "queue" in properties:
                if parse_size(mapping["queue"]) < 1:
                    raise ValueError(f"a queue holds at least 1 byte, got {mapping['queue']!r} "
                                     "(write 1 for a single waiting frame)")
        except QuantityError as exc:
            raise scenario.error(path + (exc.key,), str(exc)) from None
        except ValueError as exc:
            raise scenario.error(path + ("queue",), str(exc)) from None


def link_names(data: dict) -> list[str]:
    """The names the links of a scenario get (as :meth:`Network.connect` names them)."""
    names: list[str] = []
    for link in data.get("links", []):
        name = link.get("name")
        if name is None:
            a, b = (end.partition(":")[0] for end in link["endpoints"])
            name = base = f"{a}-{b}"
            n = 2
            while name in names:
                name, n = f"{base}-{n}", n + 1
        names.append(name)
    return names
