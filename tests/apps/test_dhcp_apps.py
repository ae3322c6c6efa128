"""DHCP on the network: a relay agent serving two subnets from one server, what a lease
brings (gateway, name server) next to what RARP brings, and a pool that runs out."""

import pytest

from netsim import load_scenario, parse_scenario, run_scenario
from tests.conftest import SCENARIOS, tshark_fields

TEXT = (SCENARIOS / "dhcp-relay.yaml").read_text()


@pytest.fixture(scope="module")
def relayed(tmp_path_factory):
    return run_scenario(load_scenario(SCENARIOS / "dhcp-relay.yaml"), tmp_path_factory.mktemp("dhcp"))


def app(result, name, node):
    return next(a for a in result.network.apps if a.name == name and a.node.name == node)


def test_both_subnets_get_leases_through_the_relay_and_use_them(relayed):
    one, two = app(relayed, "dhcp-client", "laptop1").result(), app(relayed, "dhcp-client", "laptop2").result()
    assert one["address"] == "10.0.1.100/24" and one["router"] == "10.0.1.1"
    assert two["address"] == "10.0.2.100/24" and two["router"] == "10.0.2.1"
    assert one["dns"] == two["dns"] == ["10.0.9.2"] and one["domain"] == "example.com"
    assert [s for _t, s in one["history"]] == ["SELECTING", "REQUESTING", "PROBING", "BOUND"]
    # What the lease brought is used: the laptops ping a server by its name, off-subnet.
    for node in ("laptop1", "laptop2"):
        ping = app(relayed, "ping", node)
        assert ping.status == "finished" and ping.result()["received"] == 2
    # RARP brought an address only: no gateway, so the other subnet is unreachable.
    assert app(relayed, "ping", "diskless").result()["received"] == 0
    assert relayed.network.nodes["diskless"].ip == "10.0.1.50"


def test_the_relay_fills_giaddr_and_tshark_reads_dhcp(relayed):
    rows = tshark_fields(relayed.outdir / "pcap" / "r1-lan9.pcap", "_ws.col.Protocol",
                         "dhcp.option.dhcp", "dhcp.ip.relay", "ip.src", "ip.dst", display_filter="dhcp")
    assert {row[0] for row in rows} == {"DHCP"}
    assert [row[1] for row in rows if row[3] == "10.0.9.1"] == ["1", "1", "3", "3"]   # discover, request
    assert {row[2] for row in rows} == {"10.0.1.1", "10.0.2.1"}
    rows = tshark_fields(relayed.outdir / "pcap" / "laptop1-lan1.pcap", "ip.src", "ip.dst",
                         "dhcp.option.dhcp", "arp.src.proto_ipv4", "arp.dst.proto_ipv4",
                         display_filter="dhcp || (arp && arp.src.proto_ipv4 == 0.0.0.0)")
    assert rows[0][:3] == ["0.0.0.0", "255.255.255.255", "1"]
    assert ["", "", "", "0.0.0.0", "10.0.1.100"] in rows               # the RFC 5227 probe


def test_a_pool_that_runs_out_leaves_a_host_without_an_address(tmp_path):
    text = TEXT.replace("range: [10.0.1.100, 10.0.1.149]", "range: [10.0.1.100, 10.0.1.100]")
    text = text.replace("  laptop2:  {kind: host, ip: dhcp}\n",
                        "  laptop2:  {kind: host, ip: dhcp}\n  laptop3:  {kind: host, ip: dhcp}\n")
    text = text.replace("  - endpoints: [diskless, lan1]\n",
                        "  - endpoints: [diskless, lan1]\n  - endpoints: [laptop3, lan1]\n")
    text += "  - {node: laptop3, run: ping, target: www.example.com, count: 1}\n"
    result = run_scenario(parse_scenario(text), tmp_path / "out")
    server = app(result, "dhcp-server", "dhcpsrv")
    assert any("no free leases" in line for line in server.lines)
    clients = [app(result, "dhcp-client", n) for n in ("laptop1", "laptop3")]
    assert sorted(c.status for c in clients) == ["finished", "unfinished"]
    stuck = next(c for c in clients if c.status == "unfinished")
    assert "no lease yet (state SELECTING)" in stuck.lines[-1]
    assert stuck.node.name == "laptop3"
    ping = next(a for a in result.network.apps if a.name == "ping" and a.node is stuck.node)
    assert ping.status == "not started"
    assert ping.lines[-1].endswith("while laptop3 was still waiting for a DHCP lease")


def test_a_taken_address_is_declined(tmp_path):
    # A host with a static address sits inside the pool: the probe finds it, the client declines.
    text = TEXT.replace("  bootsrv:  {kind: host, ip: 10.0.1.5/24, gateway: 10.0.1.1}",
                        "  bootsrv:  {kind: host, ip: 10.0.1.100/24, gateway: 10.0.1.1}")
    text = text.replace("until: 12s", "until: 20s")
    result = run_scenario(parse_scenario(text), tmp_path / "out")
    lease = app(result, "dhcp-client", "laptop1").result()
    assert "DECLINED" in [s for _t, s in lease["history"]] and lease["address"] == "10.0.1.101/24"
    assert app(result, "dhcp-server", "dhcpsrv").result()["declines"] == 1


def test_dhcp_settings_are_checked_where_they_are_written():
    from netsim.errors import ScenarioError
    bad = TEXT.replace("  laptop1:  {kind: host, ip: dhcp}", "  laptop1:  {kind: host, ip: dhcp, gateway: 10.0.1.1}")
    with pytest.raises(ScenarioError, match="nodes.laptop1.gateway"):
        parse_scenario(bad)
    bad = TEXT.replace("  dhcpsrv:  {kind: host,", "  dhcpsrv:  {kind: host, dhcp_relay: 10.0.9.2,")
    with pytest.raises(ScenarioError, match="relay agent runs on a router"):
        parse_scenario(bad)
    # The fuzzer's find: a router off the pool's network crashed the client that took
    # the lease (its default route had no connected gateway).
    bad = TEXT.replace("router: 10.0.2.1", "router: 10.0.1.1", 1)
    with pytest.raises(ScenarioError, match="router 10.0.1.1 is not a host address in 10.0.2.0/24"):
        parse_scenario(bad).build()


def test_a_lease_whose_router_is_off_the_network_keeps_the_address_without_a_route():
    """A rogue or broken server (not one a scenario can declare): as dhclient-script when
    `ip route add` fails, the address stays and the log says why."""
    from netsim.proto.dhcp.client import Configure
    from netsim.wire.addr import ip_to_int
    net = parse_scenario(TEXT).build()
    net.run(until=0.001)                          # the client has started
    client = app(type("R", (), {"network": net}), "dhcp-client", "laptop1")
    client.on_output(Configure(address=ip_to_int("10.0.1.77"), prefix_len=24,
                                router=ip_to_int("10.0.5.1"), dns=(), domain=None, lease=60.0,
                                server=ip_to_int("10.0.9.2")))
    assert net.nodes["laptop1"].ip == "10.0.1.77"
    assert client.lines[-1] == ("dhclient: no default route: laptop1: gateway 10.0.5.1 is not on "
                                "a connected network")
