"""DHCP client and server in pairs over a fake broadcast wire (RFC 2131, RFC 5227).

Messages go through their bytes (``to_bytes``/``from_bytes``) and Scapy's BOOTP/DHCP
dissector reads every one, so both ends and a third party agree on the format.
"""

import pytest
from scapy.layers.dhcp import BOOTP, DHCP

from netsim.proto.dhcp import (Configure, DhcpClient, DhcpError, DhcpMessage, DhcpServer, Pool,
                               Probe, Reply, Send, Unconfigure)
from netsim.proto.dhcp.client import (BOUND, DECLINED, REBINDING, RENEWING, SELECTING)
from netsim.proto.dhcp.message import ACK, DISCOVER, NAK, OFFER, REQUEST
from netsim.wire.addr import int_to_ip, ip_to_int

SERVER = ip_to_int("10.0.9.2")
MAC_A, MAC_B = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")


def pool(first="10.0.1.100", last="10.0.1.149"):
    return Pool(ip_to_int("10.0.1.0"), 24, ip_to_int(first), ip_to_int(last),
                router=ip_to_int("10.0.1.1"), dns=(ip_to_int("10.0.9.53"),), domain="example.com")


class Wire:
    """Clients and one server on a LAN; the server's interface is 10.0.1.1's subnet."""

    def __init__(self, server, *clients, lost=lambda msg: False, taken=()):
        self.server, self.clients = server, list(clients)
        self.lost, self.taken = lost, set(taken)
        self.now = 0.0
        self.seen: list[tuple[str, int]] = []      # (sender, message type)
        self.configured: dict[int, Configure] = {}
        self.unconfigured: list = []
        self.sends: list[Send] = []
        self.logs: list[str] = []

    def pump(self):
        for _ in range(1000):
            moved = False
            for client in self.clients:
                for out in client.outputs():
                    moved = True
                    self._from_client(client, out)
            for out in self.server.outputs():
                moved = True
                if isinstance(out, Reply):
                    self._deliver_reply(out)
                else:
                    self.logs.append(out.text)
            if not moved:
                return

    def _from_client(self, client, out):
        if isinstance(out, Send):
            self.sends.append(out)
            wire = out.message.to_bytes()
            assert DHCP in BOOTP(wire), "scapy does not read it as DHCP"
            msg = DhcpMessage.from_bytes(wire)
            self.seen.append(("client", msg.msg_type))
            if not self.lost(msg):
                self.server.receive(msg, ip_to_int("10.0.1.1"), self.now)
        elif isinstance(out, Probe):
            if out.address in self.taken:
                client.address_in_use(self.now)
        elif isinstance(out, Configure):
            self.configured[id(client)] = out
        elif isinstance(out, Unconfigure):
            self.unconfigured.append(out)

    def _deliver_reply(self, out):
        wire = out.message.to_bytes()
        assert DHCP in BOOTP(wire)
        msg = DhcpMessage.from_bytes(wire)
        self.seen.append(("server", msg.msg_type))
        if self.lost(msg):
            return
        for client in self.clients:
            client.receive(msg, self.now)

    def advance(self, until):
        while True:
            timers = [(c.get_timer(), i) for i, c in enumerate(self.clients)
                      if c.get_timer() is not None and c.get_timer() <= until]
            if not timers:
                self.now = until
                return
            when, i = min(timers)
            self.now = when
            self.clients[i].handle_timer(when)
            self.pump()


def start(*clients, server=None, **wire_args):
    server = server or DhcpServer(SERVER, [pool()], lease_time=600)
    wire = Wire(server, *clients, **wire_args)
    for client in clients:
        client.start(0.0)
    wire.pump()
    return wire


def test_discover_offer_request_ack_then_probe_then_bound():
    client = DhcpClient(MAC_A, seed=1)
    wire = start(client)
    assert [t for _, t in wire.seen] == [DISCOVER, OFFER, REQUEST, ACK]
    assert client.state == "PROBING"                      # RFC 5227: probe before use
    wire.advance(5)
    assert client.state == BOUND
    config = wire.configured[id(client)]
    assert int_to_ip(config.address) == "10.0.1.100" and config.prefix_len == 24
    assert int_to_ip(config.router) == "10.0.1.1" and config.domain == "example.com"
    assert [int_to_ip(a) for a in config.dns] == ["10.0.9.53"]


def test_two_clients_get_different_addresses_and_the_pool_runs_out():
    a, b, c = (DhcpClient(m, seed=i) for i, m in enumerate((MAC_A, MAC_B, bytes.fromhex("020000000003"))))
    server = DhcpServer(SERVER, [pool("10.0.1.100", "10.0.1.101")], lease_time=600)
    wire = start(a, b, c, server=server)
    wire.advance(5)
    addresses = {int_to_ip(cfg.address) for cfg in wire.configured.values()}
    assert addresses == {"10.0.1.100", "10.0.1.101"}
    assert c.state == SELECTING                           # no offer: it keeps asking
    assert any("no free leases" in line for line in wire.logs)


def test_a_taken_address_is_declined_and_another_one_offered():
    client = DhcpClient(MAC_A, seed=1)
    server = DhcpServer(SERVER, [pool()], lease_time=600)
    wire = start(client, server=server, taken={ip_to_int("10.0.1.100")})
    wire.advance(3)
    assert client.state == DECLINED and server.counts["declines"] == 1
    wire.taken.clear()
    wire.advance(20)                                      # 10 s later: INIT again
    assert client.state == BOUND
    assert int_to_ip(wire.configured[id(client)].address) == "10.0.1.101"


def test_renewal_at_t1_is_unicast_and_rebinding_at_t2_broadcast():
    client = DhcpClient(MAC_A, seed=1)
    server = DhcpServer(SERVER, [pool()], lease_time=600)
    wire = start(client, server=server)
    wire.advance(5)
    wire.sends.clear()
    wire.advance(300.5)                                   # T1 = 300 s after the ACK
    renew = wire.sends
    assert renew and renew[0].to == SERVER and renew[0].message.ciaddr == ip_to_int("10.0.1.100")
    assert client.state == BOUND                          # the server extended the lease
    wire.lost = lambda msg: True                          # the server goes away
    wire.sends.clear()
    wire.advance(900)
    states = [s for _, s in client.history]
    assert RENEWING in states and REBINDING in states
    assert wire.sends[0].to == SERVER and wire.sends[-1].to == 0xFFFFFFFF
    wire.advance(1300)                                    # past the lease's end
    assert wire.unconfigured and wire.unconfigured[-1].reason == "the lease expired"


def test_a_request_for_a_foreign_address_gets_nak():
    server = DhcpServer(SERVER, [pool()], lease_time=600)
    bogus = DhcpMessage(1, 7, MAC_A, REQUEST, options={50: ip_to_int("10.0.1.120").to_bytes(4, "big"),
                                                        54: SERVER.to_bytes(4, "big")})
    server.receive(bogus, ip_to_int("10.0.1.1"), 0.0)
    replies = [o for o in server.outputs() if isinstance(o, Reply)]
    assert replies[0].message.msg_type == NAK and replies[0].to == 0xFFFFFFFF


def test_a_relayed_request_is_answered_to_the_relay_from_the_giaddr_pool():
    other = Pool(ip_to_int("10.0.2.0"), 24, ip_to_int("10.0.2.100"), ip_to_int("10.0.2.110"),
                 router=ip_to_int("10.0.2.1"))
    server = DhcpServer(SERVER, [pool(), other])
    relayed = DhcpMessage(1, 9, MAC_B, DISCOVER, giaddr=ip_to_int("10.0.2.1"), hops=1)
    server.receive(relayed, ip_to_int("10.0.9.2"), 0.0)
    reply = next(o for o in server.outputs() if isinstance(o, Reply))
    assert (reply.to, reply.port) == (ip_to_int("10.0.2.1"), 67)
    assert int_to_ip(reply.message.yiaddr) == "10.0.2.100"


def test_release_frees_the_lease():
    client = DhcpClient(MAC_A, seed=1)
    server = DhcpServer(SERVER, [pool()], lease_time=600)
    wire = start(client, server=server)
    wire.advance(5)
    assert server.active_leases(wire.now) == {"10.0.1.100": "02:00:00:00:00:01"}
    client.release(wire.now)
    wire.pump()
    assert server.active_leases(wire.now) == {} and server.counts["releases"] == 1


@pytest.mark.parametrize("data, error", [
    (b"\x01" * 100, "shorter"),
    (b"\x03" + b"\x01\x06" + b"\0" * 233 + b"\x63\x82\x53\x63\xff", "op 3"),
    (b"\x01\x01\x06" + b"\0" * 233 + b"BOOT", "cookie"),
    (b"\x01\x01\x06" + b"\0" * 233 + b"\x63\x82\x53\x63\x35\x05\x01", "past the end"),
    (b"\x01\x01\x06" + b"\0" * 233 + b"\x63\x82\x53\x63\x35\x01\x01", "END"),
    (b"\x01\x01\x06" + b"\0" * 233 + b"\x63\x82\x53\x63\xff", "message type"),
])
def test_bad_messages_are_refused_with_a_reason(data, error):
    with pytest.raises(DhcpError, match=error):
        DhcpMessage.from_bytes(data)


def forged_reply(kind, xid, *, yiaddr, mask=0xFFFFFF00):
    from netsim.proto.dhcp.message import BOOTREPLY, SERVER_ID, SUBNET_MASK, ip_option
    return DhcpMessage(BOOTREPLY, xid, MAC_A, kind, yiaddr=ip_to_int(yiaddr),
                       options={SERVER_ID: ip_option(ip_to_int("10.0.1.66")),
                                SUBNET_MASK: ip_option(mask)})


@pytest.mark.parametrize("yiaddr, mask, why", [
    ("0.0.0.0", 0xFFFFFF00, "not a unicast host address"),
    ("127.0.0.1", 0xFFFFFF00, "not a unicast host address"),
    ("224.0.0.1", 0xFFFFFF00, "not a unicast host address"),
    ("255.255.255.255", 0xFFFFFF00, "not a unicast host address"),
    ("10.0.1.255", 0xFFFFFF00, "it is the network or broadcast address of its /24"),
    ("10.0.1.50", 0xFF00FF00, "subnet mask 255.0.255.0 is not a prefix"),
])
def test_an_offer_of_an_address_no_host_can_take_is_ignored_and_a_good_one_taken(yiaddr, mask, why):
    """A forged or broken server's offer used to be taken and configured (0.0.0.0/24,
    a loopback address, a /16 made of a non-contiguous mask)."""
    client = DhcpClient(MAC_A, seed=1)
    client.start(0.0)
    discover = client.outputs()[0].message
    client.receive(forged_reply(OFFER, discover.xid, yiaddr=yiaddr, mask=mask), 0.1)
    (log,) = client.outputs()
    assert log.text == f"DHCPOFFER of {yiaddr} from 10.0.1.66 ignored: {why}"
    assert client.state == SELECTING and client.offer is None
    client.receive(forged_reply(OFFER, discover.xid, yiaddr="10.0.1.50"), 0.2)
    assert client.state == "REQUESTING" and int_to_ip(client.offer.yiaddr) == "10.0.1.50"
    client.outputs()
    client.receive(forged_reply(ACK, discover.xid, yiaddr=yiaddr, mask=mask), 0.3)
    assert client.state == "REQUESTING"                    # an ACK of it is ignored too
    assert "ignored" in client.outputs()[0].text


# -- as dhclient and dnsmasq do it (issue 20) ----------------------------------------------

def ack_for(client, *, yiaddr="10.0.1.50", lease=None, t1=None, t2=None):
    """An ACK of the client's offer, from 10.0.1.66, with the lease times given."""
    from netsim.proto.dhcp.message import (LEASE_TIME, REBINDING_T2, RENEWAL_T1,
                                           seconds_option)
    reply = forged_reply(ACK, client.xid, yiaddr=yiaddr)
    options = dict(reply.options)
    for code, value in ((LEASE_TIME, lease), (RENEWAL_T1, t1), (REBINDING_T2, t2)):
        if value is not None:
            options[code] = seconds_option(value)
    return reply.with_(options=options)


def offered(client):
    client.start(0.0)
    client.outputs()
    client.receive(forged_reply(OFFER, client.xid, yiaddr="10.0.1.50"), 0.1)
    client.outputs()
    return client


def test_the_client_leaves_the_broadcast_flag_clear_and_the_server_unicasts_to_chaddr():
    """dhclient (without -B) reads replies off a packet socket, so it does not set the
    flag; dnsmasq then sends OFFER and ACK to yiaddr at chaddr (RFC 2131 §4.1)."""
    client = DhcpClient(MAC_A, seed=1)
    wire = start(client)
    assert all(not s.message.flags for s in wire.sends)
    server = DhcpServer(SERVER, [pool()], lease_time=600)
    server.receive(wire.sends[0].message, ip_to_int("10.0.1.1"), 0.0)
    offer = next(o for o in server.outputs() if isinstance(o, Reply))
    assert (int_to_ip(offer.to), offer.port, offer.mac) == ("10.0.1.100", 68, MAC_A)
    assert BOOTP(offer.message.to_bytes()).flags == 0          # scapy reads the flag clear


def test_with_the_broadcast_flag_the_server_broadcasts():
    client = DhcpClient(MAC_A, seed=1, broadcast_flag=True)
    client.start(0.0)
    discover = client.outputs()[0].message
    assert BOOTP(discover.to_bytes()).flags == "B"
    server = DhcpServer(SERVER, [pool()], lease_time=600)
    server.receive(discover, ip_to_int("10.0.1.1"), 0.0)
    offer = next(o for o in server.outputs() if isinstance(o, Reply))
    assert offer.to == 0xFFFFFFFF and offer.mac is None


def test_a_nak_through_a_relay_has_the_broadcast_flag_set():
    """§4.3.2: with giaddr set, the server sets the flag so the relay broadcasts the NAK."""
    server = DhcpServer(SERVER, [pool()], lease_time=600)
    request = DhcpMessage(1, 7, MAC_A, REQUEST, giaddr=ip_to_int("10.0.1.1"),
                          options={50: ip_to_int("10.0.1.120").to_bytes(4, "big"),
                                   54: SERVER.to_bytes(4, "big")})
    server.receive(request, ip_to_int("10.0.9.2"), 0.0)
    nak = next(o for o in server.outputs() if isinstance(o, Reply))
    assert nak.message.msg_type == NAK and nak.to == ip_to_int("10.0.1.1")
    assert nak.message.flags & 0x8000


def test_an_ack_of_another_address_than_the_offer_is_ignored():
    """RFC 1122 §3.2.1.3: the client took 10.0.1.50's offer; an ACK of 10.0.1.51 is not
    the answer to its request."""
    client = offered(DhcpClient(MAC_A, seed=1))
    client.receive(ack_for(client, yiaddr="10.0.1.51", lease=600), 0.2)
    (log,) = client.outputs()
    assert log.text == ("DHCPACK of 10.0.1.51 from 10.0.1.66 ignored: it is not 10.0.1.50, "
                        "the address asked for")
    assert client.state == "REQUESTING" and client.lease is None
    client.receive(ack_for(client, lease=600), 0.3)
    assert client.state == "PROBING"


@pytest.mark.parametrize("lease", [0, None])
def test_a_lease_time_of_zero_or_none_is_no_lease_as_dhclient_says(lease):
    """A lease time of 0 was taken as absent and made an hour. dhclient: "no expiry time
    on offered lease.", that server rejected, INIT half a second later."""
    client = offered(DhcpClient(MAC_A, seed=1))
    client.receive(ack_for(client, lease=lease), 0.2)
    assert [o.text for o in client.outputs()] == ["no expiry time on offered lease."]
    assert client.state == "INIT" and client.lease is None
    assert client.get_timer() == pytest.approx(0.7)
    client.handle_timer(0.7)
    assert client.state == SELECTING
    client.outputs()
    client.receive(forged_reply(OFFER, client.xid, yiaddr="10.0.1.50"), 0.8)
    assert client.state == SELECTING                            # that server is rejected
    assert "rejected" in client.outputs()[0].text


def test_renewal_times_as_dhclient_takes_them_and_an_infinite_lease_never_renews():
    client = offered(DhcpClient(MAC_A, seed=1, probes=0))
    client.receive(ack_for(client, lease=1000, t1=900, t2=800), 1.0)   # T1 past T2
    assert client.state == BOUND and client.get_timer() == pytest.approx(1.0 + 600)
    client = offered(DhcpClient(MAC_A, seed=1, probes=0))
    client.receive(ack_for(client, lease=100, t2=5000), 1.0)           # T2 past the end
    assert client._t2 == pytest.approx(1.0 + 87.5) and client._t1 == pytest.approx(51.0)
    client = offered(DhcpClient(MAC_A, seed=1, probes=0))
    client.receive(ack_for(client, lease=0xFFFFFFFF), 1.0)             # RFC 2132 §9.2
    assert client.state == BOUND and client.get_timer() is None


def test_no_probes_means_none():
    """``probes: 0`` used to send one probe all the same."""
    client = offered(DhcpClient(MAC_A, seed=1, probes=0))
    client.receive(ack_for(client, lease=600), 0.2)
    outputs = client.outputs()
    assert client.state == BOUND and not any(isinstance(o, Probe) for o in outputs)
