"""The colours every picture uses: one per protocol (each protocol's own, declared in the
protocol registry, :mod:`netsim.wire.registry`), and the kinds of TCP segment a lesson
points at (retransmissions, fast retransmissions, window probes)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from netsim.wire import registry


class _ProtocolColors(Mapping):
    """Protocol name → colour, read from the registry when asked (so a protocol
    registered after this module was imported has its colour too), in registration
    order; protocols without a colour of their own are not in it."""

    def _colors(self) -> dict[str, str]:
        return {p.name: p.color for p in registry.protocols() if p.color}

    def __getitem__(self, name: str) -> str:
        return self._colors()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._colors())

    def __len__(self) -> int:
        return len(self._colors())


PROTOCOL_COLORS: Mapping[str, str] = _ProtocolColors()
KIND_COLORS = {"retransmission": "#e377c2", "fast-retransmission": "#9467bd",
               "zero-window-probe": "#bcbd22", "zero-window": "#17becf",
               "window-update": "#17becf", "dup-ack": "#6baed6", "dup-ack-repeat": "#6baed6",
               "open": "#9e9e9e"}
#: What the legend calls each kind.
KIND_NAMES = {"retransmission": "retransmission", "fast-retransmission": "fast retransmission",
              "zero-window-probe": "zero-window probe", "zero-window": "zero window / window update",
              "window-update": "zero window / window update", "dup-ack": "duplicate ACK",
              "dup-ack-repeat": "duplicate ACK", "open": "connection opened (SYN)"}
DROP_COLOR = "#d62728"
OTHER_COLOR = "#333333"

# Kept under the names older code and notebooks import.
COLORS = PROTOCOL_COLORS


def color_of(protocol: str, kind: str = "") -> str:
    if kind in KIND_COLORS:
        return KIND_COLORS[kind]
    found = registry.find(protocol)
    return found.color if found is not None and found.color else OTHER_COLOR
