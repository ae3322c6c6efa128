"""DHCP on the network: a relay agent serving two subnets from one server, what a lease
brings (gateway, name server) next to what RARP brings, and a pool that runs out."""

import pytest
from scapy.layers.dhcp import DHCP      # imported here: its first import resolves a name
from scapy.layers.inet import UDP
from scapy.utils import rdpcap

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


def _announcements(pcap, address):
    return tshark_fields(pcap, "frame.time_epoch", display_filter=(
        f"arp.opcode == 1 && arp.src.proto_ipv4 == {address} && arp.dst.proto_ipv4 == {address}"))


def test_a_linux_client_announces_nothing_after_its_lease_a_textbook_one_does(relayed, tmp_path):
    """ISC dhclient sends no gratuitous ARP once BOUND (its probe was the check); the
    textbook stack announces the learned address once, as RFC 5227 §2.3 draws it."""
    assert _announcements(relayed.outdir / "pcap" / "laptop1-lan1.pcap", "10.0.1.100") == []
    text = TEXT.replace("laptop1:  {kind: host, ip: dhcp}",
                        "laptop1:  {kind: host, ip: dhcp, stack: textbook}")
    result = run_scenario(parse_scenario(text), tmp_path / "out")
    assert len(_announcements(result.outdir / "pcap" / "laptop1-lan1.pcap", "10.0.1.100")) == 1
    # Nor does the textbook client write its own IP header: its stack numbers the
    # DISCOVER and the REQUEST from its one counter, TTL 64, DF as any datagram of its.
    rows = tshark_fields(result.outdir / "pcap" / "laptop1-lan1.pcap", "ip.dsfield", "ip.ttl",
                         "ip.flags.df", "ip.id", display_filter="dhcp && ip.src == 0.0.0.0")
    assert [row[:3] for row in rows] == [["0x00", "64", "1"]] * 2
    assert int(rows[1][3], 16) == (int(rows[0][3], 16) + 1) & 0xFFFF


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


# -- hostile servers (issue 19) ------------------------------------------------------------

def hostile_lan(answer, *, real_server=False):
    """A laptop asking by DHCP on a LAN with a scripted server ``evil`` (10.0.0.66), which
    answers each DISCOVER and REQUEST with ``answer(kind, reply)`` → bytes (kind: OFFER or
    ACK, reply: a well-formed DhcpMessage to start from); with ``real_server`` a real
    dhcp-server on ``good`` (10.0.0.1) answers too, a little later. A ping from evil
    must finish whatever the laptop met."""
    from netsim import Network, Ping, finalize
    from netsim.apps.dhcp import DhcpClientApp, DhcpServerApp
    from netsim.proto.dhcp.message import (ACK, BOOTREPLY, DISCOVER, LEASE_TIME, OFFER, REQUEST,
                                           ROUTER, SERVER_ID, SUBNET_MASK, DhcpMessage, ip_option,
                                           seconds_option)
    from netsim.wire.addr import BROADCAST_IP, ip_to_int

    net = Network(3)
    switch = net.add_switch("lan")
    laptop, evil, good = net.add_host("laptop"), net.add_host("evil"), net.add_host("good")
    laptop_if = laptop.add_interface("eth0")
    laptop.online = net.env.event()
    evil_if = evil.add_interface("eth0")
    evil.set_address(evil_if, "10.0.0.66/24")
    good.set_address(good.add_interface("eth0"), "10.0.0.1/24")
    for iface in (laptop_if, evil_if, good.interfaces["eth0"]):
        net.connect(iface, switch.add_interface(), delay=0.001)
    finalize(net)
    client = DhcpClientApp(laptop)
    if real_server:
        DhcpServerApp(good, pools=[{"subnet": "10.0.0.0/24", "router": "10.0.0.1"}])
    sock = evil.udp_open(67)

    def on_receive(payload, _addr, _now):
        msg = DhcpMessage.from_bytes(payload)
        kind = {DISCOVER: OFFER, REQUEST: ACK}.get(msg.msg_type)
        if kind is None:
            return
        reply = DhcpMessage(BOOTREPLY, msg.xid, msg.chaddr, kind, yiaddr=ip_to_int("10.0.0.50"),
                            flags=msg.flags, options={
                                SERVER_ID: ip_option(ip_to_int("10.0.0.66")),
                                SUBNET_MASK: ip_option(0xFFFFFF00),
                                ROUTER: ip_option(ip_to_int("10.0.0.66")),
                                LEASE_TIME: seconds_option(3600)})
        evil.send_udp_on(evil_if, evil_if.ip, 67, BROADCAST_IP, 68, answer(kind, reply))

    sock.on_receive = on_receive
    ping = Ping(evil, target="10.0.0.1", count=1, at=20.0)
    net.run(30)
    assert ping.status == "finished" and ping.result()["received"] == 1
    return net, client


def test_a_server_whose_option_lengths_run_past_the_end_is_not_heard():
    """Every reply's last option claims more bytes than the message has: the client
    drops each (a ``dhcp-ignored`` note says why) and goes on asking, as dhclient does."""
    def past_the_end(kind, reply):
        return reply.to_bytes().rstrip(b"\0")[:-1] + bytes((15, 200)) + b"example"

    net, client = hostile_lan(past_the_end)
    assert client.status == "unfinished" and client.bound is None
    ignored = [n.detail["error"] for n in net.trace.notes if n.what == "dhcp-ignored"]
    assert ignored and all("runs past the end" in e for e in ignored)
    assert len(ignored) >= 3                               # DISCOVER retransmitted at 4, 8, 16 s


def test_an_offer_with_a_router_outside_the_subnet_gives_an_address_without_a_route():
    from dataclasses import replace

    from netsim.proto.dhcp.message import ROUTER, ip_option
    from netsim.wire.addr import ip_to_int

    def far_router(kind, reply):
        return replace(reply, options={**reply.options,
                                       ROUTER: ip_option(ip_to_int("192.168.7.1"))}).to_bytes()

    net, client = hostile_lan(far_router)
    assert client.status == "finished" and client.result()["address"] == "10.0.0.50/24"
    assert any(line.startswith("dhclient: no default route:") and "192.168.7.1" in line
               for line in client.lines)
    assert net.nodes["laptop"].routes.lookup(ip_to_int("8.8.8.8")) is None


@pytest.mark.parametrize("yiaddr", ["0.0.0.0", "127.0.0.1", "10.0.0.255"])
def test_a_forged_offer_of_an_unusable_address_is_ignored_and_the_real_servers_taken(yiaddr):
    from dataclasses import replace

    from netsim.wire.addr import ip_to_int

    def unusable(kind, reply):
        return replace(reply, yiaddr=ip_to_int(yiaddr)).to_bytes()

    net, client = hostile_lan(unusable, real_server=True)
    assert any(f"DHCPOFFER of {yiaddr} from 10.0.0.66 ignored" in line for line in client.lines)
    result = client.result()
    assert client.status == "finished" and result["server"] == "10.0.0.1"
    assert result["address"] == "10.0.0.100/24" and result["router"] == "10.0.0.1"


# -- as dhclient and dnsmasq do it (issue 20) ----------------------------------------------

def test_every_dhcp_message_on_every_wire_is_dhcp_to_scapy(relayed):
    """Scapy's BOOTP/DHCP layer, a third party, reads each one with its message type."""
    seen = 0
    for pcap in sorted((relayed.outdir / "pcap").glob("*.pcap")):
        for frame in rdpcap(str(pcap)):
            if UDP in frame and {frame[UDP].sport, frame[UDP].dport} & {67, 68}:
                options = dict(o for o in frame[DHCP].options if isinstance(o, tuple))
                assert options["message-type"] in range(1, 9), pcap.name
                seen += 1
    assert seen >= 20


def test_the_relay_unicasts_offer_and_ack_to_yiaddr_at_chaddr(relayed):
    """dhclient leaves the BROADCAST flag clear, so the relay sends the server's replies
    to the address being given, at the client's hardware address (RFC 1542 §5.4), and
    no other host on the LAN sees them."""
    mac = relayed.network.nodes["laptop1"].interfaces["eth0"].mac.hex(":")
    rows = tshark_fields(relayed.outdir / "pcap" / "laptop1-lan1.pcap", "eth.dst", "ip.dst",
                         "dhcp.flags.bc", "dhcp.option.dhcp", display_filter="dhcp")
    assert [r for r in rows if r[3] in ("2", "5")] == [[mac, "10.0.1.100", "0", "2"],
                                                       [mac, "10.0.1.100", "0", "5"]]
    assert {r[2] for r in rows} == {"0"}
    rows = tshark_fields(relayed.outdir / "pcap" / "bootsrv-lan1.pcap", "dhcp.option.dhcp",
                         display_filter="dhcp")
    assert {r[0] for r in rows} == {"1", "3"}                   # only laptop1's broadcasts


def test_with_the_broadcast_flag_the_relay_broadcasts(tmp_path):
    text = TEXT.replace("  - {node: laptop1, run: ping, target: www.example.com,",
                        "  - {node: laptop1, run: dhcp-client, broadcast_flag: true}\n"
                        "  - {node: laptop1, at: 5s, run: ping, target: 10.0.9.80,")
    text = text.replace("  laptop1:  {kind: host, ip: dhcp}", "  laptop1:  {kind: host}")
    result = run_scenario(parse_scenario(text), tmp_path / "out")
    assert app(result, "dhcp-client", "laptop1").result()["address"] == "10.0.1.100/24"
    rows = tshark_fields(result.outdir / "pcap" / "bootsrv-lan1.pcap", "eth.dst", "ip.dst",
                         "dhcp.flags.bc", "dhcp.option.dhcp", display_filter="dhcp")
    assert ["ff:ff:ff:ff:ff:ff", "255.255.255.255", "1", "5"] in rows


def test_a_renewal_at_t1_goes_to_the_server_through_the_gateway(tmp_path):
    """RFC 2131 §4.4.5: at T1 the client unicasts its DHCPREQUEST to the server that gave
    the lease. The server is off-link: the request goes via the router (it used to ARP
    for 10.0.9.2 on the LAN, get no answer and only rebind by broadcast at T2)."""
    text = TEXT.replace("lease: 1h", "lease: 20s").replace("until: 12s", "until: 16s")
    result = run_scenario(parse_scenario(text), tmp_path / "out")
    history = [s for _t, s in app(result, "dhcp-client", "laptop1").result()["history"]]
    assert history == ["SELECTING", "REQUESTING", "PROBING", "BOUND", "RENEWING", "BOUND"]
    rows = tshark_fields(result.outdir / "pcap" / "r1-lan9.pcap", "frame.time_epoch",
                         "ip.src", "ip.dst", "dhcp.option.dhcp", "dhcp.ip.client",
                         "dhcp.ip.relay", display_filter="dhcp && frame.time_epoch > 5")
    renewal = [r[1:] for r in rows if r[4] == "10.0.1.100"]
    assert renewal == [["10.0.1.100", "10.0.9.2", "3", "10.0.1.100", "0.0.0.0"],
                       ["10.0.9.2", "10.0.1.100", "5", "10.0.1.100", "0.0.0.0"]]
    rows = tshark_fields(result.outdir / "pcap" / "laptop1-lan1.pcap", "arp.dst.proto_ipv4",
                         display_filter="arp && arp.src.proto_ipv4 == 10.0.1.100")
    assert ["10.0.9.2"] not in rows                                # no ARP for the server


def test_dhcp_on_the_wire_has_the_ip_headers_isc_dhcp_and_the_kernel_write(relayed):
    """dhclient, dhcpd and dhcrelay write their own IPv4 header on the packet socket they
    broadcast from (TOS 0x10, TTL 128, ID 0, DF clear); what the relay and the server
    unicast to each other goes through a kernel socket: DF set, and ID 0 as Linux gives
    a DF datagram from an unconnected socket."""
    fields = ("ip.dsfield", "ip.ttl", "ip.flags.df", "ip.id")
    on_lan = tshark_fields(relayed.outdir / "pcap" / "laptop1-lan1.pcap", *fields, display_filter="dhcp")
    assert len(on_lan) == 4 and {tuple(row) for row in on_lan} == {("0x10", "128", "0", "0x0000")}
    between = tshark_fields(relayed.outdir / "pcap" / "r1-lan9.pcap", *fields, display_filter="dhcp")
    assert len(between) == 8 and {tuple(row) for row in between} == {("0x00", "64", "1", "0x0000")}
