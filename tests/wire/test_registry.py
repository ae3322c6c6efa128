"""The protocol registry: each protocol declared once, and every reader of frames —
describe, the labeller, colours, the filter, the application level, ``netsim diagram
--help`` — knowing it from that one declaration."""

import dns.message
import pytest

import netsim.proto  # noqa: F401 — registers every application protocol's descriptor
from netsim.cli import _diagram_description
from netsim.proto.ftp_descriptor import announced_ends
from netsim.viz.colors import PROTOCOL_COLORS, color_of
from netsim.viz.filters import parse_filter
from netsim.viz.labels import Labeller
from netsim.viz.messages import Message, application_messages
from netsim.wire import registry
from netsim.wire.describe import describe
from netsim.wire.templates import TcpTemplate, UdpTemplate

A, B = b"\x02\0\0\0\0\x01", b"\x02\0\0\0\0\x02"
ALICE, SERVER = 0x0A000001, 0x0A000002          # 10.0.0.1, 10.0.0.2
PSH_ACK = 0x18


def segment(sport, dport, payload, src=ALICE, dst=SERVER, seq=1000):
    return TcpTemplate(A, B, src, dst, sport, dport).build(seq, 1, PSH_ACK, 65535, payload, 1)


def datagram(sport, dport, payload):
    return UdpTemplate(A, B, ALICE, SERVER, sport, dport).build(payload, 1)


@pytest.fixture
def scratch_registry(monkeypatch):
    """The registry as it is, with whatever a test registers forgotten afterwards."""
    for table in ("_PROTOCOLS", "_PORTS", "_WORDS", "_DATA_PORTS"):
        monkeypatch.setattr(registry, table, dict(getattr(registry, table)))


def test_each_port_word_and_name_is_one_protocols():
    names = [p.name for p in registry.protocols()]
    assert len(names) == len(set(names))
    words = registry.filter_words()
    assert len(words) == len(set(words))
    for p in registry.protocols():
        for port in p.udp_ports:
            assert registry.on_port("udp", port) is p
        for port in p.tcp_ports:
            assert registry.on_port("tcp", port) is p
        assert all(registry.by_word(w) is p for w in p.words)
        # A protocol netsim finds by port, or draws at the application level, has a
        # colour of its own and a name tshark must agree with.
        if p.udp_ports or p.tcp_ports or p.messages:
            assert p.color and p.tshark, p.name
        for name in ([p.upgrades_from] if isinstance(p.upgrades_from, str) else p.upgrades_from):
            if name:
                assert registry.find(name) is not None, p.name
        if p.data is not None:
            assert registry.find(p.data.protocol) is not None, p.name


def test_a_second_claim_is_refused_and_changes_nothing(scratch_registry):
    before = (registry.protocols(), registry.filter_words())
    with pytest.raises(ValueError, match="TCP port 21 is FTP's"):
        registry.register(registry.Protocol("Finger", "#000000", tcp_ports=(79, 21)))
    with pytest.raises(ValueError, match="filter word 'pop3' is POP's"):
        registry.register(registry.Protocol("Finger", "#000000", words=("finger", "pop3")))
    with pytest.raises(ValueError, match="registered already"):
        registry.register(registry.Protocol("SMTP", "#000000"))
    assert (registry.protocols(), registry.filter_words()) == before
    assert registry.on_port("tcp", 79) is None and registry.by_word("finger") is None
    with pytest.raises(ValueError, match="needs a datagram_label"):
        registry.Protocol("Daytime", udp_ports=(13,))
    with pytest.raises(ValueError, match="messages is one of"):
        registry.Protocol("Daytime", messages="lines")


def test_a_protocol_declared_once_is_known_to_every_reader(scratch_registry):
    """What adding a protocol of lines takes beyond its engine and app: one declaration."""
    finger = registry.register(registry.Protocol("Finger", "#123456", tcp_ports=(79,),
                                                 messages=registry.TURNS, tshark="FINGER"))
    ask, answer = segment(40000, 79, b"alice\r\n"), segment(79, 40000, b"Login: alice\r\n",
                                                            src=SERVER, dst=ALICE)
    assert describe(ask)[:4] == ("Finger", "10.0.0.1", "10.0.0.2", "Finger alice")
    labeller = Labeller()
    assert labeller.label(ask) == ("Finger", "alice", "text")
    assert labeller.label(answer) == ("Finger", "Login: alice", "text")
    assert color_of("Finger") == PROTOCOL_COLORS["Finger"] == "#123456"
    assert list(PROTOCOL_COLORS)[-1] == "Finger"             # legends: registration order
    assert parse_filter("finger,node=a") == {"protocols": {"FINGER"}, "nodes": {"a"}}
    assert "h3, finger)" in _diagram_description()        # after the last registered
    # The application level draws its turns; a protocol nobody declared it leaves out.
    said = [Message(1.0, 1.1, "a", "b", "alice", "Finger", 60, 1, sport=40000, dport=79, kind="text"),
            Message(1.2, 1.3, "b", "a", "Login: alice", "Finger", 60, 2, sport=79, dport=40000,
                    kind="text"),
            Message(1.4, 1.5, "a", "b", "GET /", "Gopher", 60, 3, sport=40001, dport=70, kind="text")]
    assert [m.label for m in application_messages(said)] == ["alice", "Login: alice"]
    assert finger in registry.protocols()


def test_describe_names_each_registered_protocol_by_its_port():
    query = dns.message.make_query("www.example.com", "A").to_wire()
    assert describe(datagram(40000, 53, query)).label == "DNS query A www.example.com [RD=1]"
    # Over TCP: the two-byte length first (RFC 1035 §4.2.2).
    tcp = describe(segment(40000, 53, len(query).to_bytes(2, "big") + query))
    assert (tcp.protocol, tcp.label) == ("DNS", "DNS query A www.example.com [RD=1] (TCP)")
    assert describe(datagram(40000, 53, b"not dns")).protocol == "UDP"
    assert describe(datagram(68, 67, b"\0" * 300)).protocol == "UDP"   # no DHCP cookie
    assert describe(segment(40000, 587, b"EHLO alice\r\n")).label == "SMTP EHLO alice"
    assert describe(segment(143, 40000, b"* OK IMAP4rev1\r\n")).protocol == "IMAP"
    assert describe(segment(40000, 5001, b"EHLO alice\r\n")).protocol == "TCP"
    # WebSocket has no port: its frames on port 80 are HTTP's connection's.
    assert describe(segment(80, 40000, b"\x81\x05hello")).protocol == "HTTP"


def test_ftp_data_connections_are_named_from_what_the_control_connection_announced():
    labeller = Labeller()
    pasv = segment(21, 40000, b"227 Entering Passive Mode (10,0,0,2,195,80).\r\n",
                   src=SERVER, dst=ALICE)
    assert labeller.label(pasv).protocol == "FTP"
    data = labeller.label(segment(50000, 40001, b"x" * 100, src=SERVER, dst=ALICE))
    assert data == ("FTP-DATA", "50000 → 40001 data len=100", "data")
    # A 229 names only the port, on the address of the server that sent it.
    labeller.label(segment(21, 40000, b"229 Entering Extended Passive Mode (|||50001|)\r\n",
                           src=SERVER, dst=ALICE))
    assert labeller.label(segment(40002, 50001, b"y" * 10)).protocol == "FTP-DATA"
    # Active mode's data connection comes from port 20; other connections stay TCP.
    assert labeller.label(segment(20, 40003, b"z" * 10, src=SERVER, dst=ALICE)).protocol == "FTP-DATA"
    assert labeller.label(segment(40004, 50002, b"w" * 10)).protocol == "TCP"


def test_ftp_announcements_are_read_as_rfc_959_and_2428_write_them():
    assert announced_ends("PORT 10,0,0,1,156,65\r\n") == [(bytes([10, 0, 0, 1]), 40001)]
    assert announced_ends("227 Entering Passive Mode (10,0,0,2,195,80)") == \
        [(bytes([10, 0, 0, 2]), 50000)]
    assert announced_ends("229 Entering Extended Passive Mode (|||50001|)") == [(None, 50001)]
    assert announced_ends("EPRT |1|10.0.0.1|40002|\r\n") == [(bytes([10, 0, 0, 1]), 40002)]
    # Numbers that are no address announce nothing.
    assert announced_ends("PORT 10,0,0,300,1,1") == announced_ends("EPRT |1|10.0.0.999|1|") == []
