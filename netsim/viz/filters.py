"""The diagram filter language of ``netsim diagram --filter`` and scenario files.

Comma-separated terms: a bare word is a protocol (``tcp``, ``arp``, ``icmp``, ``smtp``,
``websocket``, … — each protocol's words are declared with it, in the protocol
registry, :mod:`netsim.wire.registry`); ``node=NAME`` keeps messages touching that
node; ``flow=5001`` or ``flow=10.0.1.10:40000-10.0.2.20:5001`` one flow; ``from=0.8s``
and ``to=1s`` a time window. Example: ``tcp,node=server,from=0.8s,to=0.9s``.
"""

from __future__ import annotations

from netsim.units import parse_time
from netsim.wire import registry


def parse_filter(text: str) -> dict:
    """Keyword arguments for :func:`netsim.viz.messages.messages`; ValueError if malformed."""
    options: dict = {}
    for term in (t.strip() for t in text.split(",")):
        if not term:
            continue
        key, sep, value = term.partition("=")
        key = key.strip().lower()
        if not sep:
            protocol = registry.by_word(key)
            if protocol is None:
                raise ValueError(f"unknown protocol {term!r} in filter "
                                 f"(one of: {', '.join(sorted(registry.filter_words()))})")
            options.setdefault("protocols", set()).add(protocol.name.upper())
        elif key == "node":
            options.setdefault("nodes", set()).add(value.strip())
        elif key == "flow":
            options["flow"] = value.strip()
        elif key in ("from", "start"):
            options["start"] = parse_time(value.strip())
        elif key in ("to", "end"):
            options["end"] = parse_time(value.strip())
        else:
            raise ValueError(f"unknown filter term {term!r} (protocol, node=, flow=, from=, to=)")
    return options
