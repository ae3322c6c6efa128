"""Networks for the interop tests: netsim's own servers and clients on one side, a real
asyncio library on the other, in simulated time through netsim.aio."""

from __future__ import annotations

from netsim import parse_scenario


def network(apps: str, *, seed: int = 1, link: str = "delay: 5ms", extra_nodes: str = ""):
    """``(net, nodes)`` for two hosts, ``client`` 10.0.0.1 and ``server`` 10.0.0.2, one link,
    and ``apps`` (YAML list items, indented by four)."""
    text = f"""
name: interop
nodes:
  client: {{kind: host, ip: 10.0.0.1/24}}
  server: {{kind: host, ip: 10.0.0.2/24}}
{extra_nodes}
links:
  - {{endpoints: [client, server], {link}}}
apps:
{apps}
"""
    net = parse_scenario(text).build(seed=seed)
    return net, net.nodes
