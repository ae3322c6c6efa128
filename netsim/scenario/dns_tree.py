"""A scenario's ``dns:`` section: say which node serves which zone, and netsim writes
the rest of the name system the way a person would set it up.

::

    dns:
      root: root              # the node serving "."
      zones: {com: tld, 163.com: ns163, qq.com: nsqq}

For every zone, the node's ``dns-server`` gets (or is created with) the zone, an SOA
and an NS record naming its server (``ns.<zone>``, ``a.root-servers.net`` for the
root) with that server's address; the parent zone — the closest listed ancestor, or
the root — gets the delegation: NS and glue (RFC 1034 §4.2.1). Records the scenario
writes itself for a zone are kept, and added to. Every resolver (``dns-resolver``,
or ``dns-server`` with ``recursion: iterative``) that has no ``root_hints`` gets the
root server.
"""

from __future__ import annotations

SOA = "@ SOA {ns} hostmaster 1 7200 900 1209600 300"
ROOT_NS = "a.root-servers.net."


def fill_dns_tree(scenario) -> None:
    data = scenario.data
    spec = data.get("dns")
    if not spec:
        return
    nodes = data["nodes"]
    zones = {".": spec["root"], **{z.rstrip(".").lower(): n for z, n in spec.get("zones", {}).items()}}
    where = {".": ("dns", "root"), **{z.rstrip(".").lower(): ("dns", "zones", z)
                                       for z in spec.get("zones", {})}}
    address = {}
    for zone, node in zones.items():
        info = nodes.get(node)
        if info is None:
            raise scenario.error(where[zone], f"node {node!r} is not defined")
        ip = info.get("ip")
        if info.get("kind") != "host" or not ip or ip == "dhcp":
            raise scenario.error(where[zone], f"{node} serves {zone} and needs an address of "
                                              "its own (a host with 'ip: a.b.c.d/n'): name "
                                              "servers are found by address")
        address[zone] = ip.split("/")[0]
    ns = {zone: ROOT_NS if zone == "." else f"ns.{zone}." for zone in zones}
    records: dict[str, list[str]] = {zone: [] for zone in zones}
    for zone in zones:
        records[zone] += [SOA.format(ns=ns[zone]), f"@ NS {ns[zone]}", f"{ns[zone]} A {address[zone]}"]
        if zone != ".":
            parent = _parent(zone, zones)
            records[parent] += [f"{zone}. NS {ns[zone]}", f"{ns[zone]} A {address[zone]}"]
    apps = data.setdefault("apps", [])
    for zone, node in zones.items():
        server = next((a for a in apps if a.get("run") == "dns-server" and a.get("node") == node), None)
        if server is None:
            server = {"node": node, "run": "dns-server", "zones": []}
            apps.append(server)
        written = next((z for z in server.setdefault("zones", [])
                        if str(z.get("origin", "")).rstrip(".").lower() == zone.rstrip(".") or
                        (zone == "." and z.get("origin") == ".")), None)
        if written is None:
            server["zones"].append({"origin": zone, "records": records[zone]})
        elif isinstance(written.get("records"), list):
            have = _apex_types(written["records"])
            added = [r for r in records[zone] if r.split()[1] not in have or r[0] != "@"]
            written["records"] = added + written["records"]
    hints = [{"name": ROOT_NS.rstrip("."), "address": address["."]}]
    for app in apps:
        resolves = app.get("run") == "dns-resolver" and "forward" not in app or \
            app.get("run") == "dns-server" and app.get("recursion") in ("iterative", "recursive")
        if resolves and "root_hints" not in app:
            app["root_hints"] = hints


def _apex_types(records: list[str]) -> set[str]:
    """The record types a zone's author wrote at its apex ("@ SOA …", "@ 300 IN NS …")."""
    found = set()
    for record in records:
        words = str(record).split()
        if words and words[0] == "@":
            found |= {w for w in words[1:4] if w in ("SOA", "NS")}
    return found


def _parent(zone: str, zones: dict) -> str:
    labels = zone.split(".")
    for i in range(1, len(labels)):
        candidate = ".".join(labels[i:])
        if candidate in zones:
            return candidate
    return "."
