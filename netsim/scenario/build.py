"""A checked scenario → a :class:`~netsim.sim.Network` with its applications scheduled."""

from __future__ import annotations

from netsim.apps import APPS
from netsim.errors import AddressError, TopologyError
from netsim.topo import finalize
from netsim.topo.links import link_params
from netsim.scenario.quantities import app_properties, parse_quantities
from netsim.units import parse_size, parse_time
from netsim.proto.firewall import Firewall, parse_policy
from netsim.sim.tcp import DEFAULT_STACK
from netsim.wire.addr import ip_to_int, prefix_mask
from netsim.scenario.schema import DEFAULT_FRAME_BUDGET, NODE

#: A link's parameters where neither it nor the scenario's ``defaults.link`` gives them.
DEFAULT_LINK = {"rate": "100Mbps", "delay": "1ms"}


def build_network(scenario, *, seed: int, trace=True):
    from netsim.sim import Network

    data = scenario.data
    net = Network(seed, name=scenario.name, trace=trace,
                  frame_budget=data.get("frame_budget", DEFAULT_FRAME_BUDGET))
    err = scenario.error

    for name, spec in data["nodes"].items():
        kind = spec["kind"]
        if kind == "switch":
            options = {"aging": parse_time(spec["aging"])} if "aging" in spec else {}
            if "stp" in spec:
                stp = spec["stp"]
                options["stp"] = parse_quantities(stp, NODE["properties"]["stp"]["anyOf"][1][
                    "properties"]) if isinstance(stp, dict) else stp
            net.add_switch(name, **options)
            continue
        options = {"arp_lifetime": parse_time(spec["arp_lifetime"])} if "arp_lifetime" in spec else {}
        node = net.add_host(name, **options) if kind == "host" else net.add_router(name, **options)
        node.gateway = spec.get("gateway")
        node.use_stack(spec.get("stack") or data.get("defaults", {}).get("stack") or DEFAULT_STACK)
        try:
            if spec.get("ip") == "dhcp":
                node.add_interface("eth0")
                node.online = net.env.event()         # apps wait for the lease
            elif "ip" in spec:
                node.set_address(node.add_interface("eth0"), spec["ip"])
            dns = spec.get("dns", [])
            node.dns_servers = [ip_to_int(a) for a in ([dns] if isinstance(dns, str) else dns)]
            for iface_name, address in (spec.get("interfaces") or {}).items():
                iface = node.interfaces.get(iface_name) or node.add_interface(iface_name)
                if address:
                    node.set_address(iface, address)
        except (AddressError, TopologyError) as exc:
            raise err(("nodes", name), str(exc)) from None

    defaults = dict(DEFAULT_LINK, **data.get("defaults", {}).get("link", {}))
    for i, spec in enumerate(data.get("links", [])):
        ends = []
        for j, end in enumerate(spec["endpoints"]):
            node_name, _, iface_name = end.partition(":")
            node = net.nodes[node_name]
            if iface_name:
                iface = node.interfaces.get(iface_name) or node.add_interface(iface_name)
                if iface.link is not None:
                    raise err(("links", i, "endpoints", j), f"{end} is already wired ({iface.link.name})")
            else:
                iface = node.free_interface()
            ends.append(iface)
        params = {**defaults, **{k: v for k, v in spec.items() if k not in ("endpoints", "name")}}
        try:
            net.connect(ends[0], ends[1], name=spec.get("name"), **_link_arguments(params))
        except (TopologyError, ValueError) as exc:
            raise err(("links", i), str(exc)) from None

    for name, spec in data["nodes"].items():
        node = net.nodes[name]
        for k, route in enumerate(spec.get("routes", [])):
            try:
                iface = node.interface(route["dev"]) if "dev" in route else None
                node.add_route(route["to"], route.get("via"), iface, origin="static")
            except (AddressError, TopologyError, ValueError) as exc:
                raise err(("nodes", name, "routes", k), str(exc)) from None

    try:
        finalize(net, pool=data.get("address_pool", "10.255.0.0/16"))
    except (AddressError, TopologyError) as exc:
        raise err(("nodes",), str(exc)) from None

    for name, spec in data["nodes"].items():
        node = net.nodes[name]
        if spec.get("boot") == "rarp":
            if not node.interfaces:
                raise err(("nodes", name, "boot"), f"{name} is not wired to anything")
            APPS["rarp-boot"](node, prefix=spec.get("prefix", 24))
        # RFC 5227 announcements of the addresses configured at start only when asked
        # for: a Linux host given a static address sends none (arp_notify=0), and a
        # textbook's host is drawn without them.
        if spec["kind"] != "switch":
            node.announce_addresses = spec.get("announce")
            if spec.get("announce") and spec.get("ip") != "dhcp" and spec.get("boot") != "rarp":
                net.at(0.0, node.announce)
        if spec.get("ip") == "dhcp":
            APPS["dhcp-client"](node)
        if "dhcp_relay" in spec:
            APPS["dhcp-relay"](node, server=spec["dhcp_relay"])
        if "firewall" in spec:
            node.firewall = Firewall({iface: parse_policy(policy, _cidr)
                                      for iface, policy in spec["firewall"].items()})

    for i, spec in enumerate(data.get("apps", [])):
        args = parse_quantities({k: v for k, v in spec.items() if k not in ("node", "run")},
                                app_properties(spec["run"]))
        try:
            APPS[spec["run"]](net.nodes[spec["node"]], **args)
        except (TopologyError, ValueError) as exc:
            raise err(("apps", i), str(exc)) from None
    return net


def _link_arguments(params: dict) -> dict:
    queue = params.pop("queue", None)
    args = link_params({k: v for k, v in params.items() if k in ("rate", "delay", "jitter", "loss", "mtu")})
    if queue is not None:
        if isinstance(queue, int):
            args["queue_packets"] = queue
        else:
            args["queue_bytes"] = parse_size(queue)
            args["queue_packets"] = 1 << 30
    return args


def _cidr(text: str) -> tuple[int, int]:
    address, _, plen = text.partition("/")
    mask = prefix_mask(int(plen))
    return ip_to_int(address) & mask, mask

