"""netsim's frames held against captures of the real thing: ISC dhclient leasing from
dnsmasq, BIND's dig asking Unbound, curl fetching a page from nginx — Debian 12's
packages in two network namespaces (tests/data/real/capture.sh made the pcaps) — and
the same three exchanges in netsim (tests/data/real/netsim.yaml). The fields compared
are those a student reading the two captures side by side would see differ."""

from pathlib import Path

import pytest

from netsim import load_scenario, run_scenario
from tests.conftest import tshark_fields

REAL = Path(__file__).parent.parent / "data" / "real"


@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    out = tmp_path_factory.mktemp("real")
    run_scenario(load_scenario(REAL / "netsim.yaml"), out)
    return out / "pcap" / "c-s.pcap"


def both(ours, name, *fields, display_filter):
    """The fields (every occurrence, joined by |) in the real capture and in ours."""
    return tuple(tshark_fields(pcap, *fields, display_filter=display_filter, occurrence="a")
                 for pcap in (REAL / f"{name}.pcap", ours))


def test_dhcp_requests_carry_dhclients_own_ip_header_and_no_announcement_follows(ours):
    real, sim = both(ours, "dhclient", "dhcp.option.dhcp", "ip.dsfield", "ip.ttl", "ip.flags.df",
                     "ip.id", display_filter="dhcp && ip.src == 0.0.0.0")
    assert real == sim == [["1", "0x10", "128", "0", "0x0000"], ["3", "0x10", "128", "0", "0x0000"]]
    # Once BOUND, dhclient says nothing more: no gratuitous ARP for its new address.
    # (Nor did it probe the address before taking it, as netsim's client does —
    # RFC 2131 §4.4.1's SHOULD, which Debian's dhclient-script leaves undone.)
    for pcap, lease in ((REAL / "dhclient.pcap", "10.99.0.101"), (ours, "10.99.0.100")):
        assert tshark_fields(pcap, "frame.number", display_filter=(
            f"arp.src.proto_ipv4 == {lease} && arp.dst.proto_ipv4 == {lease}")) == []


def test_digs_query_is_digs_edns_cookie_ad_and_df_clear(ours):
    fields = ("dns.flags", "dns.flags.authenticated", "dns.rr.udp_payload_size", "dns.opt.code",
              "dns.opt.len", "dns.resp.z.do", "udp.length", "ip.flags.df", "ip.ttl")
    real, sim = both(ours, "dig", *fields, display_filter="dns.flags.response == 0")
    # Same name asked, so byte for byte the same length: only the ID and cookie differ.
    assert real == sim == [["0x0120", "1", "1232", "10", "8", "0", "65", "0", "64"]]
    real, sim = both(ours, "dig", "dns.rr.udp_payload_size", "ip.flags.df",
                     display_filter="dns.flags.response == 1")
    assert real == sim == [["1232", "0"]]           # the server echoes OPT, DF clear too


def test_curl_and_nginx_open_and_close_as_linux_does(ours):
    syn = ("tcp.window_size_value", "tcp.option_kind", "tcp.options.mss_val", "ip.flags.df")
    real, sim = both(ours, "curl", *syn, "ip.id", display_filter="tcp.flags.syn == 1 && tcp.flags.ack == 1")
    # The SYN-ACK: window 65160, MSS, SACK_PERM, TS, NOP, WS, and IP ID 0.
    assert real == sim
    assert real[0][0] == "65160" and real[0][1] == "2|4|8|1|3" and real[0][4] == "0x0000"
    real, sim = both(ours, "curl", *syn, display_filter="tcp.flags.syn == 1 && tcp.flags.ack == 0")
    assert real == sim and real[0][:3] == ["64240", "2|4|8|1|3", "1460"]
    # curl closes first once the page is in; nginx's FIN carries the ACK of curl's:
    # three segments, not four.
    def last_three(pcap, client):
        rows = tshark_fields(pcap, "tcp.flags.fin", "tcp.flags.ack", "ip.src", display_filter="tcp")
        return [("FIN+ACK" if fin == "1" and ack == "1" else "FIN" if fin == "1" else "ACK",
                 "client" if src == client else "server") for fin, ack, src in rows[-3:]]
    assert last_three(REAL / "curl.pcap", "10.99.0.10") == last_three(ours, "10.99.0.100") == \
        [("FIN+ACK", "client"), ("FIN+ACK", "server"), ("ACK", "client")]


def test_curls_request_and_nginxs_answer_name_the_same_headers_in_the_same_order(ours):
    real, sim = both(ours, "curl", "http.request.line", display_filter="http.request")
    names = [[line.split(":")[0] for line in rows[0][0].split("|")] for rows in (real, sim)]
    assert names[0] == names[1] == ["Host", "User-Agent", "Accept"]
    real, sim = both(ours, "curl", "http.response.line", display_filter="http.response")
    names = [[line.split(":")[0] for line in rows[0][0].split("|")] for rows in (real, sim)]
    assert names[0] == names[1] == ["Server", "Date", "Content-Type", "Content-Length",
                                    "Last-Modified", "Connection", "ETag", "Accept-Ranges"]
