"""Link parameters as people write them: units as strings, parsed into Link's arguments.

Shared by the one-call helpers (:mod:`netsim.topo.helpers`), :func:`netsim.topo.from_graph`
and the scenario builder.
"""

from __future__ import annotations

from netsim.units import parse_fraction, parse_rate, parse_time

#: The edge attributes of a graph that are link parameters.
LINK_KEYS = {"rate", "delay", "jitter", "loss", "queue_packets", "queue_bytes", "mtu"}


def link_params(params: dict) -> dict:
    """Link keyword arguments with human units parsed (``'100Mbps'`` → 1e8)."""
    parsers = {"rate": parse_rate, "delay": parse_time, "jitter": parse_time, "loss": parse_fraction}
    return {k: parsers[k](v) if k in parsers else v for k, v in params.items()}
