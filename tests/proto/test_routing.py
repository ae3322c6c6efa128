import pytest

from netsim.proto.routing import Route, RoutingTable
from netsim.wire.addr import ip_to_int


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
