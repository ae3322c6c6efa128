import pytest

from netsim.proto.routing import Route, RoutingTable
from netsim.wire.addr import ip_to_int, prefix_mask


def table(*routes):
    t = RoutingTable()
    for net, plen, name, origin in routes:
        t.add(Route(ip_to_int(net), plen, name, None, origin))
    return t


def test_longest_prefix_wins():
    t = table(("0.0.0.0", 0, "default", "static"), ("10.0.0.0", 8, "ten", "static"),
              ("10.1.0.0", 16, "ten-one", "static"), ("10.1.2.0", 24, "ten-one-two", "static"))
    assert t.lookup(ip_to_int("10.1.2.3")).iface == "ten-one-two"
    assert t.lookup(ip_to_int("10.1.3.3")).iface == "ten-one"
    assert t.lookup(ip_to_int("10.9.9.9")).iface == "ten"
    assert t.lookup(ip_to_int("192.0.2.1")).iface == "default"


def test_no_route_is_none():
    assert table(("10.0.0.0", 8, "ten", "static")).lookup(ip_to_int("11.0.0.1")) is None


def test_static_beats_computed_whatever_the_order():
    t = table(("10.2.0.0", 16, "computed", "computed"), ("10.2.0.0", 16, "static", "static"),
              ("10.3.0.0", 16, "static", "static"), ("10.3.0.0", 16, "computed", "computed"))
    assert t.lookup(ip_to_int("10.2.0.1")).iface == "static"
    assert t.lookup(ip_to_int("10.3.0.1")).iface == "static"


def test_cache_is_invalidated_by_new_routes():
    t = table(("0.0.0.0", 0, "default", "static"))
    assert t.lookup(ip_to_int("10.0.0.1")).iface == "default"
    t.add(Route(ip_to_int("10.0.0.0"), 8, "ten", None, "static"))
    assert t.lookup(ip_to_int("10.0.0.1")).iface == "ten"


def test_host_bits_are_refused():
    with pytest.raises(ValueError):
        table(("10.0.0.1", 8, "x", "static"))


def test_prefix_lengths_beyond_32_are_refused():
    with pytest.raises(ValueError, match="0–32"):
        table(("10.0.0.0", 33, "x", "static"))


@pytest.mark.parametrize("seed", range(40))
def test_the_table_keeps_the_order_one_sort_per_route_kept(seed):
    """Random adds (replacing ones among them, some changing a metric), removals and
    lookups, against the table that sorted itself whole on every route added."""
    import random

    from tests.topo.test_routes import ReferenceTable

    rng = random.Random(seed)
    t, reference = RoutingTable(), ReferenceTable([])
    for _ in range(120):
        action = rng.random()
        if action < 0.7:
            plen = rng.choice([0, 8, 16, 24, 24, 30, 32])
            net = ip_to_int(f"10.{rng.randint(0, 3)}.{rng.randint(0, 3)}.{rng.randint(0, 7) * 4}")
            route = Route(net & prefix_mask(plen), plen, rng.choice("abc"), None,
                          rng.choice(["connected", "static", "computed", "other"]), rng.randint(0, 3))
            t.add(route)
            reference.add(route)
        elif action < 0.75:
            iface = rng.choice("abc")
            t.remove_interface(iface)
            reference.routes = [r for r in reference.routes if r.iface != iface]
        else:
            dst = ip_to_int(f"10.{rng.randint(0, 3)}.{rng.randint(0, 3)}.{rng.randint(0, 40)}")
            assert t.lookup(dst) == reference.lookup(dst)
        if rng.random() < 0.1:
            assert list(t) == reference.routes and len(t) == len(reference.routes)
    assert list(t) == reference.routes
