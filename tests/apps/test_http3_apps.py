"""HTTP/3 on the network (issue 22), from the bundled http3 scenario: Alt-Svc learned
over HTTP/2 and used by the next visit, 1-RTT QUIC then 0-RTT on resumption, a firewall
dropping UDP 443 sending the browser back to HTTP/2, and tshark opening QUIC and the
HTTP/3 inside with the run's key log. Round trips are counted from the pcaps."""

import json

import pytest

from netsim import load_scenario, run_scenario
from tests.conftest import SCENARIOS, tshark_fields, tshark_problems

ONE_WAY = 0.012 * 2 + 0.001          # alice–lan–r1–web: 12 ms + 12 ms + 1 ms


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return run_scenario(load_scenario(SCENARIOS / "http3.yaml"), tmp_path_factory.mktemp("h3"))


def browser(run, node):
    return next(a for a in run.network.apps if a.name == "browser" and a.node.name == node)


def decrypted(run, pcap, *fields, display_filter):
    """tshark's fields with the run's key log, as the README says."""
    return tshark_fields(run.outdir / "pcap" / pcap, *fields, display_filter=display_filter,
                         decrypt=True)


def test_alt_svc_moves_the_next_visit_to_http3_and_the_third_resumes_in_0rtt(run):
    first, second, third = browser(run, "alice").visits
    assert first["http_versions"] == ["2"] and second["http_versions"] == ["3"]
    assert third["http_versions"] == ["3"]
    quic = [h for h in browser(run, "alice").handshakes if h.get("transport") == "QUIC"]
    assert [(h["resumed"], h["early_data"]) for h in quic] == [(False, False), (True, True)]
    assert all(h["alpn"] == "h3" for h in quic)


def round_trips_before_the_first_request(run, pcap, after, opening, request_filter):
    """How many round trips of the path lie between the client's first packet of a
    connection (``opening``: its SYN, its Initial; the first after ``after``) and its
    first request frame — ARP before the SYN (the first visit's) not counted."""
    def first(display_filter):
        rows = decrypted(run, pcap, "frame.time_epoch", display_filter=display_filter)
        return min(float(t) for (t,) in rows if float(t) >= after)
    start = first(opening)
    return (first(request_filter) - start) / (2 * ONE_WAY)


def test_handshake_round_trips_from_the_capture(run):
    # HTTP/2 over TLS 1.3: TCP's, then TLS's — two before the first HEADERS. (TCP's is
    # counted from the SYN-ACK: the router ARPs for the server on the first SYN.)
    tls = round_trips_before_the_first_request(
        run, "alice-lan.pcap", 1.0, "tcp.flags == 0x012 && ip.dst == 10.0.1.10",
        "http2.type == 1 && ip.src == 10.0.1.10")
    assert 1 + tls == pytest.approx(2, abs=0.15)
    # QUIC: one (TLS inside the transport's handshake).
    h3 = round_trips_before_the_first_request(
        run, "alice-lan.pcap", 10.0, "quic.long.packet_type == 0 && ip.src == 10.0.1.10",
        "http3.frame_type == 1 && ip.src == 10.0.1.10")
    assert h3 == pytest.approx(1, abs=0.15)
    # Resumed QUIC: the request is in a 0-RTT packet right after the ClientHello.
    zero = decrypted(run, "alice-lan.pcap", "frame.time_epoch", "quic.long.packet_type",
                     display_filter="quic.long.packet_type == 1 && frame.time_epoch >= 45")
    assert zero and float(zero[0][0]) - 45.0 < 0.002


def test_udp_blocked_falls_back_to_http2(run):
    (visit,) = browser(run, "carol").visits
    assert visit["http_versions"] == ["2"] and "error" not in visit
    assert visit["load_time_s"] > 3.0                   # the 3 s spent waiting for QUIC
    drops = run.summary["drops"]
    assert drops.get("firewall", 0) >= 3


def test_tshark_decrypts_quic_and_http3_with_no_malformed_frame(run):
    rows = decrypted(run, "bob-lan.pcap", "_ws.col.Protocol", "http3.frame_type",
                     display_filter="http3")
    assert rows and {r[0] for r in rows} == {"HTTP3"}
    for pcap in (run.outdir / "pcap").glob("*.pcap"):
        assert tshark_problems(pcap) == [], pcap.name


def test_qlog_files_are_written_in_simulated_time(run):
    logs = sorted(p.name for p in (run.outdir / "qlog").glob("*.qlog"))
    assert "web-server.qlog" in logs and "alice-browser.qlog" in logs
    data = json.loads((run.outdir / "qlog" / "alice-browser.qlog").read_text())
    times = [e["time"] for trace in data["traces"] for e in trace["events"]]
    assert times and min(times) >= 10_000 and max(times) <= 50_000     # ms of the run


def test_the_server_logs_http3_requests_with_the_client_address(run):
    server = next(a for a in run.network.apps if a.name == "http-server").result()
    versions = {(r["client"], r["version"]) for r in server["requests"]}
    assert ("10.0.1.11", "HTTP/3") in versions and ("10.0.3.12", "HTTP/2.0") in versions
    assert server["quic_connections"] == 3
