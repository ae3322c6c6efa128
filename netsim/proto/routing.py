"""An IPv4 forwarding table with longest-prefix match (RFC 1812 §5.2.4.3)."""

from __future__ import annotations

from dataclasses import dataclass

from netsim.wire.addr import int_to_ip, prefix_mask


@dataclass(frozen=True, slots=True)
class Route:
    network: int
    prefix_len: int
    #: The interface the packet leaves by (an opaque handle to this module).
    iface: object
    #: Next-hop address; ``None`` for a directly connected network.
    gateway: int | None = None
    #: "connected", "static" (given by hand), "computed" (from the topology).
    origin: str = "static"
    metric: int = 0

    def __str__(self) -> str:
        via = f"via {int_to_ip(self.gateway)}" if self.gateway is not None else "connected"
        name = getattr(self.iface, "name", self.iface)
        return f"{int_to_ip(self.network)}/{self.prefix_len} {via} dev {name} ({self.origin})"


class RoutingTable:
    """Routes kept longest prefix first; lookups cached per destination."""

    def __init__(self) -> None:
        self._routes: list[Route] = []
        self._cache: dict[int, Route | None] = {}

    def add(self, route: Route) -> None:
        """Add a route; one with the same prefix and a lower-or-equal origin rank replaces."""
        mask = prefix_mask(route.prefix_len)
        if route.network & ~mask & 0xFFFFFFFF:
            raise ValueError(f"{int_to_ip(route.network)}/{route.prefix_len} has host bits set")
        rank = {"connected": 0, "static": 1, "computed": 2}
        for i, old in enumerate(self._routes):
            if old.network == route.network and old.prefix_len == route.prefix_len:
                if rank.get(route.origin, 3) <= rank.get(old.origin, 3):
                    self._routes[i] = route
                self._cache.clear()
                return
        self._routes.append(route)
        self._routes.sort(key=lambda r: (-r.prefix_len, r.metric))
        self._cache.clear()

    def remove_interface(self, iface: object) -> None:
        self._routes = [r for r in self._routes if r.iface is not iface]
        self._cache.clear()

    def lookup(self, dst: int) -> Route | None:
        try:
            return self._cache[dst]
        except KeyError:
            pass
        found = None
        for r in self._routes:
            if dst & prefix_mask(r.prefix_len) == r.network:
                found = r
                break
        self._cache[dst] = found
        return found

    def __iter__(self):
        return iter(self._routes)

    def __len__(self) -> int:
        return len(self._routes)

    def __str__(self) -> str:
        return "\n".join(str(r) for r in self._routes)
