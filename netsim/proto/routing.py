"""An IPv4 forwarding table with longest-prefix match (RFC 1812 §5.2.4.3).

Routes are kept longest prefix first, then by metric, ties in the order they were added
(the order ``ip route`` lists them in). A table may also hold *computed routes not yet
made*: :class:`ComputedRoutes`, one first hop per subnet of the topology, as routes
computed over a thousand routers would otherwise be millions of objects (3 M at 1,000
routers, 3,000 subnets). A lookup answers from it directly; anything that lists, counts
beyond the cheap way, adds or removes first makes its routes, in subnet order, exactly
as adding each with :meth:`RoutingTable.add` would have.
"""

from __future__ import annotations

from bisect import bisect_left, insort_right
from dataclasses import dataclass

from netsim.wire.addr import int_to_ip, prefix_mask

#: Which origin a route of the same prefix may replace: one of lower or equal rank.
_RANK = {"connected": 0, "static": 1, "computed": 2}
_MASKS = [prefix_mask(p) for p in range(33)]


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


def _order(route: Route) -> tuple[int, int]:
    return (-route.prefix_len, route.metric)


class Subnets:
    """The subnets routes are computed to, numbered 0…n-1, shared by every router's table."""

    def __init__(self, subnets: list[tuple[int, int]]) -> None:
        self.subnets = subnets
        #: (network, prefix length) → the subnet numbers with it (two LANs may share one).
        self.numbers: dict[tuple[int, int], list[int]] = {}
        for k, key in enumerate(subnets):
            self.numbers.setdefault(key, []).append(k)
        self.lengths = sorted({plen for _, plen in subnets}, reverse=True)
        self.shared = [ks for ks in self.numbers.values() if len(ks) > 1]


class ComputedRoutes:
    """One router's computed routes, unmade: for subnet k, a first hop and a metric.

    ``hop[k]`` is 0 where no route is computed (unreachable or directly connected),
    else 1 + an index into ``hops``, the (interface, gateway) pairs the router uses.
    """

    __slots__ = ("subnets", "hops", "hop", "metric", "count", "_made")

    def __init__(self, subnets: Subnets, hops: list[tuple[object, int]], hop, metric) -> None:
        self.subnets, self.hops, self.hop, self.metric = subnets, hops, hop, metric
        #: How many distinct prefixes these routes cover.
        self.count = len(hop) - hop.count(0) - sum(
            max(0, sum(1 for k in ks if hop[k]) - 1) for ks in subnets.shared)
        self._made: dict[int, Route] = {}

    def route(self, k: int) -> Route:
        made = self._made.get(k)
        if made is None:
            iface, gateway = self.hops[self.hop[k] - 1]
            network, plen = self.subnets.subnets[k]
            made = self._made[k] = Route(network, plen, iface, gateway, "computed", self.metric[k])
        return made

    def get(self, key: tuple[int, int]) -> Route | None:
        """The route to ``key`` that adding them all in order leaves: the last subnet's."""
        ks = self.subnets.numbers.get(key)
        if ks is None:
            return None
        hop = self.hop
        for k in reversed(ks):
            if hop[k]:
                return self.route(k)
        return None

    def routes(self) -> list[Route]:
        hop = self.hop
        return [self.route(k) for k in range(len(hop)) if hop[k]]


class RoutingTable:
    """Routes kept longest prefix first; lookups cached per destination."""

    def __init__(self) -> None:
        self._routes: list[Route] = []
        #: (network, prefix length) → its route: a prefix has one route at most.
        self._by_prefix: dict[tuple[int, int], Route] = {}
        #: Prefix lengths in use → how many routes have each; ``_lengths`` longest first.
        self._length_count: dict[int, int] = {}
        self._lengths: list[int] = []
        #: False once a replacement changed a route's metric: the order is then as it
        #: was until the next route is added, which sorts again (as ``list.sort`` did).
        self._sorted = True
        self._pending: ComputedRoutes | None = None
        self._cache: dict[int, Route | None] = {}

    # -- changing the table ------------------------------------------------------------

    def add(self, route: Route) -> None:
        """Add a route; one with the same prefix and a lower-or-equal origin rank replaces."""
        if self._pending is not None:
            self._make_pending()
        self._add(route)
        self._cache.clear()

    def add_computed(self, computed: ComputedRoutes) -> None:
        """Hold ``computed`` routes unmade, as if each were added now, in subnet order."""
        if self._pending is not None:
            self._make_pending()
        self._pending = computed
        self._cache.clear()

    def add_all(self, routes: list[Route]) -> None:
        """Add ``routes`` in order; one sort when none of them replaces another."""
        if self._pending is not None:
            self._make_pending()
        self._cache.clear()
        keys = [(r.network, r.prefix_len) for r in routes]
        by_prefix = self._by_prefix
        if not self._sorted or len(set(keys)) < len(keys) or any(k in by_prefix for k in keys):
            for route in routes:
                self._add(route)
            return
        for route in routes:
            _check(route)
        # Appending and one stable sort leaves what inserting each in turn leaves.
        self._routes.extend(routes)
        self._routes.sort(key=_order)
        by_prefix.update(zip(keys, routes))
        for route in routes:
            self._count_length(route.prefix_len, 1)

    def remove_interface(self, iface: object) -> None:
        if self._pending is not None:
            self._make_pending()
        self._routes = [r for r in self._routes if r.iface is not iface]
        self._by_prefix = {(r.network, r.prefix_len): r for r in self._routes}
        self._length_count = {}
        for r in self._routes:
            self._length_count[r.prefix_len] = self._length_count.get(r.prefix_len, 0) + 1
        self._lengths = sorted(self._length_count, reverse=True)
        self._cache.clear()

    def _add(self, route: Route) -> None:
        _check(route)
        key = (route.network, route.prefix_len)
        old = self._by_prefix.get(key)
        routes = self._routes
        if old is not None:
            if _RANK.get(route.origin, 3) <= _RANK.get(old.origin, 3):
                routes[self._position(old)] = route
                self._by_prefix[key] = route
                if _order(route) != _order(old):
                    self._sorted = False
            return
        if self._sorted:
            insort_right(routes, route, key=_order)
        else:
            routes.append(route)
            routes.sort(key=_order)
            self._sorted = True
        self._by_prefix[key] = route
        self._count_length(route.prefix_len, 1)

    def _position(self, route: Route) -> int:
        routes = self._routes
        i = bisect_left(routes, _order(route), key=_order) if self._sorted else 0
        while routes[i] is not route:
            i += 1
        return i

    def _count_length(self, plen: int, change: int) -> None:
        count = self._length_count.get(plen, 0) + change
        if count:
            self._length_count[plen] = count
        else:
            del self._length_count[plen]
        if (count == 0) or (count == change):
            self._lengths = sorted(self._length_count, reverse=True)

    def _make_pending(self) -> None:
        pending, self._pending = self._pending, None
        self.add_all(pending.routes())

    # -- reading it ----------------------------------------------------------------------

    def lookup(self, dst: int) -> Route | None:
        try:
            return self._cache[dst]
        except KeyError:
            pass
        # A prefix has one route, and one network of each length holds dst: the first
        # route in the table's order that matches is the one of the longest length.
        found = None
        by_prefix = self._by_prefix
        pending = self._pending
        if pending is None:
            for plen in self._lengths:
                found = by_prefix.get((dst & _MASKS[plen], plen))
                if found is not None:
                    break
        else:
            for plen in sorted(set(self._lengths).union(pending.subnets.lengths), reverse=True):
                key = (dst & _MASKS[plen], plen)
                found = by_prefix.get(key)
                computed = pending.get(key)
                if computed is not None and (found is None or _RANK.get(found.origin, 3) >= 2):
                    found = computed              # it replaced the route it found
                if found is not None:
                    break
        self._cache[dst] = found
        return found

    def __iter__(self):
        if self._pending is not None:
            self._make_pending()
        return iter(self._routes)

    def __len__(self) -> int:
        pending = self._pending
        if pending is None:
            return len(self._routes)
        shared = sum(1 for key in self._by_prefix if pending.get(key) is not None)
        return len(self._routes) + pending.count - shared

    def __str__(self) -> str:
        return "\n".join(str(r) for r in self)


def _check(route: Route) -> None:
    if not 0 <= route.prefix_len <= 32:
        raise ValueError(f"{int_to_ip(route.network)}/{route.prefix_len}: a prefix length is 0–32")
    if route.network & ~_MASKS[route.prefix_len] & 0xFFFFFFFF:
        raise ValueError(f"{int_to_ip(route.network)}/{route.prefix_len} has host bits set")
