"""Every bundled scenario runs, its captures pass tshark, and it is deterministic."""

import functools
import json
from pathlib import Path

import pytest

from netsim import load_scenario, run_scenario
from tests.conftest import (RETRANSMISSION_FAMILY, SCENARIOS, ZERO_WINDOW_FAMILY,
                            tcp_analysis_messages, tshark_fields, tshark_problems)

ALL = sorted(p.stem for p in SCENARIOS.glob("*.yaml"))
#: Expert warnings a scenario causes on purpose; every other warning fails it.
ON_PURPOSE = {"tcp-lossy": RETRANSMISSION_FAMILY, "tcp-slow-reader": ZERO_WINDOW_FAMILY,
              "design-example": RETRANSMISSION_FAMILY, "tcp-refused": ("Connection reset (RST)",),
              "tcp-goodput-vs-loss": RETRANSMISSION_FAMILY, "asyncio-smtp": RETRANSMISSION_FAMILY,
              # A flood of forged answers repeats IDs: tshark takes them for retransmissions.
              "dns-poisoning": ("DNS response retransmission",),
              # Loss on purpose; a resent TLS record's bytes overlap what tshark holds.
              "hol-blocking": RETRANSMISSION_FAMILY + ("New fragment overlaps old data",)}


#: How tshark's Info column starts for a segment whose data it does not dissect again.
_RESENT = ("[TCP Out-Of-Order]", "[TCP Retransmission]", "[TCP Fast Retransmission]",
           "[TCP Spurious Retransmission]")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Each scenario run once into its own folder (shared by the tests below)."""
    out = {}
    for name in ALL:
        folder = tmp_path_factory.mktemp(name)
        out[name] = run_scenario(load_scenario(SCENARIOS / f"{name}.yaml"), folder)
    return out


@pytest.mark.parametrize("name", ALL)
def test_scenario_runs_and_writes_its_outputs(runs, name):
    result = runs[name]
    assert (result.outdir / "summary.json").exists()
    summary = json.loads((result.outdir / "summary.json").read_text())
    assert summary["scenario"] == name
    assert summary["frames"]["transmitted"] > 0
    pcaps = sorted(p.stem for p in (result.outdir / "pcap").glob("*.pcap"))
    assert pcaps == sorted(result.network.links)
    lines = (result.outdir / "trace.jsonl").read_text().splitlines()
    assert len(lines) == 1 + len(result.trace) + len(result.trace.notes)
    # The saved trace loads back to the same records, frames and topology.
    from netsim.trace.jsonl import load_jsonl
    loaded = load_jsonl(result.outdir / "trace.jsonl")
    assert list(loaded.records()) == list(result.trace.records())
    assert [loaded.frame_bytes(i) for i in range(loaded.frame_count)] == \
        [result.trace.frame_bytes(i) for i in range(result.trace.frame_count)]
    assert loaded.meta["nodes"].keys() == result.network.nodes.keys()
    assert len(loaded.notes) == len(result.trace.notes)


@pytest.mark.parametrize("name", ALL)
def test_captures_pass_tshark_with_the_textbook_stack_too(tmp_path, name):
    """`defaults: {stack: textbook}` on every scenario: the other stack's frames must be
    just as clean (nodes that name their stack keep it)."""
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    scenario.data.setdefault("defaults", {})["stack"] = "textbook"
    scenario.data["outputs"] = ["pcap"]
    result = run_scenario(scenario, tmp_path)
    pcaps = sorted((result.outdir / "pcap").glob("*.pcap"))
    assert pcaps
    for pcap in pcaps:
        assert tshark_problems(pcap, ON_PURPOSE.get(name, ())) == [], pcap.name


@pytest.mark.parametrize("name", ALL)
def test_captures_pass_tshark(runs, name):
    result = runs[name]
    for pcap in sorted((result.outdir / "pcap").glob("*.pcap")):
        frames = tshark_fields(pcap, "frame.number")
        assert len(frames) == result.summary["links"][pcap.stem]["frames"], pcap.name
        assert tshark_problems(pcap, ON_PURPOSE.get(name, ())) == [], pcap.name


def test_router_chain_traceroute_lists_every_router_then_the_destination(runs):
    result = runs["router-chain"]
    tr = result.summary["apps"][0]
    assert tr["app"] == "traceroute" and tr["result"]["reached"]
    assert [h["probes"][0]["name"] for h in tr["result"]["hops"]] == ["r1", "r2", "r3", "files"]
    assert [h["probes"][0]["address"] for h in tr["result"]["hops"]] == \
        ["10.0.1.1", "10.255.0.2", "10.255.0.6", "10.0.2.20"]
    assert all(p is not None for h in tr["result"]["hops"] for p in h["probes"])
    out = tr["output"]
    assert out[0] == "traceroute to files (10.0.2.20), 30 hops max, 60 byte packets"
    assert out[2].startswith(" 2  r2 (10.255.0.2)  ")
    saved = json.loads((result.outdir / "summary.json").read_text())
    assert saved["apps"][0]["result"]["hops"] == tr["result"]["hops"]
    # What tshark sees on the first link, as Linux's traceroute sends it: 16 probes at
    # once (hops 1–6), each from its own source port to the next port from 33434, more
    # as answers come; then every router's time-exceeded, three each, and the target's
    # port-unreachables (a burst of 6, then Linux's rate limit, per destination).
    rows = tshark_fields(result.outdir / "pcap" / "alice-r1.pcap", "frame.time_epoch", "ip.src",
                         "ip.ttl", "icmp.type", "udp.srcport", "udp.dstport",
                         display_filter="(udp.dstport >= 33434 && !icmp) || icmp.type == 11 || icmp.type == 3")
    probes = [(float(t), int(ttl), int(sport), int(dport)) for t, src, ttl, _icmp, sport, dport in rows
              if src == "10.0.1.10"]
    first = [p for p in probes if p[0] < probes[0][0] + 0.001]
    assert [ttl for _t, ttl, _s, _d in first] == [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6]
    assert [d for _t, _ttl, _s, d in probes] == list(range(33434, 33434 + len(probes)))
    assert len({s for _t, _ttl, s, _d in probes}) == len(probes)
    answers = [(src, icmp) for _t, src, _ttl, icmp, _s, _d in rows if src != "10.0.1.10"]
    assert answers[:9] == [("10.0.1.1", "11")] * 3 + [("10.255.0.2", "11")] * 3 + \
        [("10.255.0.6", "11")] * 3
    assert answers[9:] == [("10.0.2.20", "3")] * 6


def test_diskless_host_learns_its_address_by_rarp_then_pings(runs):
    result = runs["rarp-boot"]
    boot = result.app("rarp-boot").result()
    assert boot["address"] == "10.1.0.42/24"
    ping = result.app("ping").result()
    assert ping["sent"] == 3 and ping["received"] == 3
    rows = tshark_fields(result.outdir / "pcap" / "server-sw.pcap", "eth.type", "arp.opcode",
                         display_filter="arp")
    assert ("0x8035", "3") in [tuple(r) for r in rows]      # RARP request
    assert ("0x8035", "4") in [tuple(r) for r in rows]      # RARP reply


def test_bottleneck_queue_overflows(runs):
    result = runs["bottleneck"]
    assert result.summary["drops"].get("queue-full", 0) > 100
    assert result.summary["links"]["r1-receiver"]["queue_full"] > 100
    sink = result.app("udp-sink").result()
    assert 9.0e6 < sink["goodput_bps"] <= 10e6                # the bottleneck's rate, less headers


def test_lan_hosts_arp_then_ping(runs):
    result = runs["lan-ping"]
    assert all(a.result()["loss_percent"] == 0 for a in result.network.apps)
    rows = tshark_fields(result.outdir / "pcap" / "alice-sw1.pcap", "arp.opcode", display_filter="arp")
    assert ["1"] in rows and ["2"] in rows


@pytest.mark.parametrize("name", ALL)
def test_same_seed_gives_byte_identical_captures(tmp_path, name):
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    first = run_scenario(scenario, tmp_path / "a")
    second = run_scenario(scenario, tmp_path / "b")
    if first.network.tls is not None:
        # OpenSSL's randomness cannot be seeded: ciphertext, randoms and key shares differ
        # run to run; every frame's time and size, and everything else, must not.
        for pcap in (tmp_path / "a" / "pcap").glob("*.pcap"):
            assert _times_and_sizes(pcap) == _times_and_sizes(tmp_path / "b" / "pcap" / pcap.name)
        assert first.summary == second.summary
        return
    for pcap in (tmp_path / "a" / "pcap").glob("*.pcap"):
        assert pcap.read_bytes() == (tmp_path / "b" / "pcap" / pcap.name).read_bytes()
    assert (tmp_path / "a" / "trace.jsonl").read_bytes() == (tmp_path / "b" / "trace.jsonl").read_bytes()
    assert first.summary == second.summary


def _times_and_sizes(pcap):
    """Each record's timestamp and length, read from the pcap's record headers."""
    import struct
    data = pcap.read_bytes()
    out, at = [], 24
    while at < len(data):
        seconds, fraction, length, _orig = struct.unpack_from("<IIII", data, at)
        out.append((seconds, fraction, length))
        at += 16 + length
    return out


def test_another_seed_changes_what_the_seed_drives(tmp_path):
    scenario = load_scenario(SCENARIOS / "design-example.yaml")
    a = run_scenario(scenario, tmp_path / "a", seed=1)
    b = run_scenario(scenario, tmp_path / "b", seed=2)
    mac = lambda r: r.network.nodes["alice"].interfaces["eth0"].mac
    assert mac(a) != mac(b)                                  # MACs come from the seed
    assert (tmp_path / "a" / "pcap" / "alice-r1.pcap").read_bytes() != \
        (tmp_path / "b" / "pcap" / "alice-r1.pcap").read_bytes()
    # …but not what the scenario fixes: the addresses and the path.
    assert a.network.nodes["r1"].addresses == b.network.nodes["r1"].addresses
    assert a.app("traceroute").result()["hops"][0]["probes"][0]["address"] == "10.0.1.1"
    assert b.app("traceroute").result()["hops"][0]["probes"][0]["address"] == "10.0.1.1"


def test_loss_pattern_follows_the_seed(tmp_path):
    def lost(seed):
        r = run_scenario(load_scenario(SCENARIOS / "design-example.yaml"), seed=seed)
        return [rec.time for rec in r.trace.records() if rec.reason == "loss"]
    assert lost(3) == lost(3)
    assert any(lost(s) != lost(3) for s in (4, 5, 6))


# -- TCP ---------------------------------------------------------------------------------------

def tcp_rows(pcap):
    return tshark_fields(pcap, "tcp.flags.str", "tcp.seq", "tcp.ack", "tcp.len",
                         display_filter="tcp")


def test_clean_tcp_shows_handshake_data_teardown_and_no_analysis_flags(runs):
    result = runs["tcp-clean"]
    source = result.app("tcp-source").result()
    assert source["intact"] and source["bytes_delivered"] == 200 * 1024
    assert source["retransmissions"]["segments"] == 0
    for pcap in sorted((result.outdir / "pcap").glob("*.pcap")):
        assert tcp_analysis_messages(pcap) == [], pcap.name
        rows = tcp_rows(pcap)
        flags = [r[0].replace("·", "") for r in rows]
        assert flags[:3] == ["S", "AS", "A"], pcap.name          # SYN, SYN-ACK, ACK
        assert sum(int(r[3]) for r in rows) == 200 * 1024, pcap.name   # every byte, once
        fins = [f for f in flags if "F" in f]
        assert len(fins) == 2 and flags[-1] == "A"                 # FIN/ACK both ways, last ACK


def test_lossy_tcp_recovers_and_tshark_sees_only_retransmission_flags(runs):
    result = runs["tcp-lossy"]
    source = result.app("tcp-source").result()
    assert source["intact"] and source["bytes_delivered"] == 2 * 1024 * 1024
    assert source["retransmissions"]["fast_retransmit"] >= 3
    for pcap in sorted((result.outdir / "pcap").glob("*.pcap")):
        messages = set(tcp_analysis_messages(pcap))
        assert messages, pcap.name
        unexpected = {m for m in messages if not any(a in m for a in RETRANSMISSION_FAMILY)}
        assert unexpected == set(), pcap.name
        assert not any("ACKed segment that wasn't captured" in m for m in messages)
    assert any("fast retransmission" in m for m in tcp_analysis_messages(
        result.outdir / "pcap" / "client-r1.pcap"))


def test_lossy_cwnd_trace_shows_slow_start_halving_and_timeout_reset(runs):
    result = runs["tcp-lossy"]
    notes = [n for n in result.trace.notes if n.node == "client" and n.what.startswith("tcp-")]
    metrics = [n.detail for n in notes if n.what == "tcp-metrics"]
    mss = 1460
    # Slow start: cwnd grows from the initial window to tens of segments before any loss.
    first_loss = next(i for i, n in enumerate(notes) if n.what == "tcp-retransmit")
    before = [n.detail["cwnd"] for n in notes[:first_loss] if n.what == "tcp-metrics"]
    assert before[0] <= 4 * mss and max(before) >= 30 * mss
    assert all(m["phase"] == "slow-start" for m in metrics[:len(before)])
    # Fast retransmit: ssthresh becomes about half the flight; recovery ends at cwnd = ssthresh.
    fast = [i for i, n in enumerate(notes) if n.what == "tcp-retransmit"
            and n.detail["cause"] == "fast-retransmit"]
    after = next(n.detail for n in notes[fast[0]:] if n.what == "tcp-metrics")
    assert after["ssthresh"] <= max(before) // 2 + 3 * mss
    exits = [m for a, m in zip(metrics, metrics[1:])
             if a["phase"] == "fast-recovery" and m["phase"] == "congestion-avoidance"]
    assert len(exits) >= 3 and all(m["cwnd"] == m["ssthresh"] for m in exits)
    # Timeout: the window collapses to one segment.
    timeout = next(i for i, n in enumerate(notes) if n.what == "tcp-retransmit"
                   and n.detail["cause"] == "timeout")
    reset = next(n.detail for n in notes[timeout:] if n.what == "tcp-metrics")
    assert reset["cwnd"] == mss


def test_refused_connection_gets_rst(runs):
    result = runs["tcp-refused"]
    assert result.app("tcp-source").result()["error"] == "connect: Connection refused"
    flags = [r[0].replace("·", "") for r in tcp_rows(result.outdir / "pcap" / "client-server.pcap")]
    assert flags == ["S", "AR"]


def test_slow_reader_closes_the_window_and_the_sender_waits(runs):
    result = runs["tcp-slow-reader"]
    source = result.app("tcp-source").result()
    assert source["intact"]
    pcap = result.outdir / "pcap" / "client-server.pcap"
    messages = tcp_analysis_messages(pcap)
    assert any("Zero Window" in m for m in messages)
    # The reader stops from 1 s to 4 s: the sender stalls, and probes the closed window
    # at a doubling interval (the persist timer) until it opens — as Linux does, with an
    # empty segment one below the next sequence number (tshark: "TCP Keep-Alive").
    probes = [float(t) for t, in tshark_fields(pcap, "frame.time_epoch",
                                               display_filter="tcp.analysis.keep_alive")]
    assert len(probes) >= 3 and all(1.0 < t < 4.0 for t in probes)
    gaps = [b - a for a, b in zip(probes, probes[1:])]
    assert all(later == pytest.approx(2 * earlier, rel=0.05) for earlier, later in zip(gaps, gaps[1:]))
    data = [float(t) for t, in tshark_fields(pcap, "frame.time_epoch",
                                             display_filter="tcp.srcport != 5001 && tcp.len > 1")]
    assert max(b - a for a, b in zip(data, data[1:])) > 2.5            # the stall
    # The transfer takes as long as the reader, and the pause.
    assert source["duration_s"] > 3 + 0.8 - 16 * 1024 * 8 / 1e6


def test_same_seed_same_bytes_across_processes(tmp_path):
    """Nothing may depend on Python's per-process string hashing (set or dict order)."""
    import os
    import subprocess
    import sys
    for hash_seed in ("1", "2"):
        subprocess.run([sys.executable, "-m", "netsim.cli", "run", "tcp-lossy", "-q",
                        "-o", str(tmp_path / hash_seed)], check=True,
                       env={**os.environ, "PYTHONHASHSEED": hash_seed})
    for pcap in (tmp_path / "1" / "pcap").glob("*.pcap"):
        assert pcap.read_bytes() == (tmp_path / "2" / "pcap" / pcap.name).read_bytes()
    assert (tmp_path / "1" / "sequence.mmd").read_text() == (tmp_path / "2" / "sequence.mmd").read_text()


@pytest.mark.parametrize("name", ALL)
def test_every_packet_sent_appears_in_the_sequence_diagram(runs, name):
    """A diagram that silently leaves a packet out misleads worse than none."""
    from netsim.trace import TX
    from netsim.viz.messages import _identity, messages
    trace = runs[name].trace
    sent = {_identity(trace.frame_bytes(frame), frame)
            for _t, kind, _port, frame, _r in trace.raw() if kind == TX}
    shown = {_identity(trace.frame_bytes(m.frame), m.frame) for m in messages(trace)}
    assert sent - shown == set()


@functools.cache
def _tshark_against_the_registry(outdir: Path) -> tuple[tuple[str, ...], frozenset[str]]:
    """tshark's protocol column on every frame of a run's captures, held against the
    protocol registry (netsim.wire.registry) two ways:

    * by port: on a registered protocol's well-known port, a frame carrying data is
      named that protocol — tshark recognised the bytes — or one that takes its
      connections over (WebSocket after HTTP's Upgrade);
    * by name: a frame netsim's diagrams name by a protocol with a tshark name (ARP,
      ICMP, DNS, SMTP's lines, FTP-DATA, …) is named the same by tshark.

    A segment tshark holds for reassembly is named on the frame that completes the PDU,
    so it is not held to either. Returns the disagreements and the tshark names seen
    agreeing."""
    import netsim.proto  # noqa: F401 — every protocol's descriptor
    from scapy.utils import RawPcapReader
    from netsim.viz.labels import Labeller
    from netsim.wire import registry

    wrong, seen = [], set()
    for pcap in sorted((outdir / "pcap").glob("*.pcap")):
        rows = tshark_fields(pcap, "frame.number", "_ws.col.Protocol", "udp.srcport", "udp.dstport",
                             "tcp.srcport", "tcp.dstport", "tcp.len", "_ws.col.Info",
                             out_of_order=True)
        labeller = Labeller()
        frames = [data for data, _meta in RawPcapReader(str(pcap))]
        assert len(frames) == len(rows), pcap.name
        for (number, column, usport, udport, tsport, tdport, tlen, info), data in zip(rows, frames):
            named = labeller.label(data).protocol       # in frame order, as diagrams are drawn
            if "reassembled PDU" in info or info.startswith(_RESENT):
                continue        # tshark leaves a resent or out-of-order segment's data undissected
            where = f"{pcap.name} frame {number}: {column} {info}"
            transport, ports = ("udp", (udport, usport)) if usport else \
                ("tcp", (tdport, tsport)) if tsport and tlen not in ("", "0") else ("", ())
            owner = next((p for p in (registry.on_port(transport, int(x)) for x in ports) if p), None)
            # (An ICMP error quotes a datagram's ports: it is ICMP's, not theirs.)
            if owner is not None and column != "ICMP":
                accepted = [q.tshark for q in [owner, *registry.upgrades_of(owner.name)]]
                match = next((t for t in accepted if column.startswith(t)), None)
                if match is None:
                    wrong.append(f"{where} (port of {owner.name})")
                seen.add(match)
            # Only a TCP segment's data is its protocol's: tshark calls a SYN or an ACK
            # on port 21 TCP, netsim's diagram draws it in FTP's colour.
            carries = transport or not (usport or tsport)
            described = registry.find(named)
            if described is not None and described.tshark and carries:
                if column.startswith(described.tshark):
                    seen.add(described.tshark)
                else:
                    wrong.append(f"{where} (netsim names it {named})")
    return tuple(wrong), frozenset(seen - {None})


@pytest.mark.parametrize("name", ALL)
def test_tshark_names_every_frame_as_the_protocol_registry_does(runs, name):
    wrong, _seen = _tshark_against_the_registry(runs[name].outdir)
    assert wrong == ()


def test_every_registered_protocol_is_in_a_bundled_scenario_and_tshark_agrees(runs):
    """The registry's every tshark name is checked somewhere, never vacuously."""
    from netsim.wire import registry
    seen = set().union(*(_tshark_against_the_registry(runs[n].outdir)[1] for n in ALL))
    assert {p.tshark for p in registry.protocols() if p.tshark} - seen == set()


def test_the_pcapngs_open_every_tls_capture_with_the_protocols_inside(runs):
    """tshark reads each TLS run's pcapng, its secrets inside: HTTP, SMTP and the message
    (IMF), IMAP, POP and WebSocket are named inside TLS in the bundled scenarios, and no
    frame of any of them is malformed."""
    inside = set()
    for name in ALL:
        for pcapng in sorted((runs[name].outdir / "pcap").glob("*.pcapng")):
            for (protocols,) in tshark_fields(pcapng, "frame.protocols"):
                layers = protocols.split(":")
                assert "_ws.malformed" not in layers, (name, pcapng.name)
                if "tls" in layers:
                    inside.update(layers[layers.index("tls") + 1:])
    assert {"http", "imf", "smtp", "imap", "pop", "websocket"} <= inside, inside


@pytest.mark.parametrize("name", ["dns-iterative", "dns-recursive", "dns-poisoning", "dhcp-relay",
                                  "mail-relay"])
def test_dnspython_parses_every_dns_message_netsim_sent(runs, name):
    import dns.message

    trace = runs[name].trace
    parsed = 0
    for i in range(trace.frame_count):
        data = trace.frame_bytes(i)
        if data[12:14] != b"\x08\x00" or data[23] != 17:
            continue
        hlen = (data[14] & 0xF) * 4
        udp = data[14 + hlen:]
        if 53 in (int.from_bytes(udp[0:2], "big"), int.from_bytes(udp[2:4], "big")):
            dns.message.from_wire(udp[8:int.from_bytes(udp[4:6], "big")])   # not the padding
            parsed += 1
    assert parsed > 0


def test_udp_sink_goodput_counts_the_bytes_that_arrived_after_the_first(runs):
    """n datagrams arrive over n − 1 gaps: the rate is the n − 1 after the first over
    the time between the first and the last. Through a saturated 10 Mbit/s link,
    1000-byte payloads in 1042-byte frames give 10 Mbit/s × 1000 / 1042."""
    sink = next(a for a in runs["bottleneck"].summary["apps"] if a["app"] == "udp-sink")["result"]
    assert sink["goodput_bps"] == pytest.approx(10e6 * 1000 / 1042, rel=2e-3)


@pytest.mark.parametrize("name", ALL)
def test_no_frame_is_malformed_and_no_app_hit_its_error_boundary(runs, name):
    """netsim's own frames always parse, and no bundled exchange makes an engine raise:
    a ``malformed`` drop or an ``app-error`` note here is a bug, not a lesson."""
    trace = runs[name].trace
    malformed = [r for r in trace.records() if r.kind == "drop" and r.reason == "malformed"]
    assert malformed == []
    expected = EXPECTED_PEER_FAILURES.get(name, ())
    assert [n.detail for n in trace.notes if n.what == "app-error"
            and not (n.detail["cause"] == "peer" and n.detail["error"].startswith(expected))] == []


#: Peers that fail on purpose: https's servers with bad certificates (the client refuses
#: them; the server hears the alert).
EXPECTED_PEER_FAILURES = {"https": ("SSL certificate problem", "TLS alert from the peer")}


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("level", ["end-to-end", "link", "app"])
def test_nothing_is_drawn_lost_that_the_trace_delivered(runs, name, level):
    from netsim.viz.messages import messages
    from tests.viz.test_true_pictures import drawn_against_the_trace
    trace = runs[name].trace
    assert drawn_against_the_trace(trace, messages(trace, level=level)) == []


#: What each bundled scenario exists to show, as its default diagram must draw it: every
#: pattern matches some drawn message ("label" or "label ✗ reason").
LESSONS = {
    "asyncio-smtp": ["EHLO", "MAIL FROM", "DATA", "✗ loss", "fast retransmission",
                     "250 Message accepted", "QUIT"],
    "bottleneck": ["UDP #1 ", "✗ queue-full", "UDP #500 "],
    "design-example": ["echo request seq=1", "echo request seq=3 ✗ loss", "TTL=1 ✗ ttl-expired",
                       "✗ port-unreachable"],
    "dhcp-relay": ["DHCPDISCOVER", "RARP who-am-I .* ✗ no-rarp-service", r"DHCPDISCOVER \(relayed\)",
                   r"DHCPOFFER .* \(relayed\)", r"DHCPACK .* \(relayed\)"],
    "dns-iterative": ["query A www.163.com", "referral: com", "referral: 163.com",
                      "response CNAME", "query MX 163.com"],
    "dns-poisoning": ["query A probe1", "query A www.bank.test", "✗ port-unreachable",
                      "GET /index.html"],
    "dns-recursive": ["query A www.163.com", "response CNAME", "query MX 163.com"],
    "ftp-active": ["^opens \\d+ → 21$", "USER alice", "PASS", "PORT ", "LIST", "^opens 20 → \\d+$",
                   "RETR report.txt", "STOR notes.txt", "CWD docs", "RETR readme.txt", "QUIT"],
    "ftp-firewall": ["PORT ", "RETR report.txt", "^opens 20 → \\d+ ✗ firewall",
                     "425 Can't open data connection", "PASV", "227 Entering Passive Mode",
                     "^opens \\d+ → (?!21$)\\d+$", "226 Transfer complete", "QUIT"],
    "ftp-passive": ["USER alice", "PASV", "227 Entering Passive Mode", "^opens \\d+ → (?!21$)\\d+$", "LIST",
                    "RETR report.txt", "STOR", "QUIT"],
    "hol-blocking": ["^SYN ", "QUIC Initial"],
    "http-1.0-vs-1.1": ["GET /index.html HTTP/1.0", "GET /hero.png HTTP/1.0",
                        "GET /index.html HTTP/1.1", "GET /d.png HTTP/1.1"],
    "http-caching": ["GET /index.html", "200 OK", "304 Not Modified"],
    "http-cookies": ["GET /account", "403 Forbidden", "POST /login", "303 See Other"],
    "http-pipelining": ["GET /gallery.html", "GET /big.png", "GET /7.png"],
    "http-redirects": ["301 Moved Permanently", "302 Found", "307 Temporary Redirect",
                       "308 Permanent Redirect", "303 See Other", "GET /loop-a"],
    "http2": ["Magic", r"HEADERS\[1\]: GET /index.html", r"HEADERS\[21\]: GET /d.png", "DATA"],
    "http3": ["QUIC Initial", "QUIC Initial, Handshake", "1-RTT"],
    "httpdns": ["DNS query A www.example.com", "GET /d\\?dn=www.example.com", "GET /index.html"],
    "https": ["DNS query", "^SYN ", "ClientHello", "ServerHello", "Finished", "Application Data"],
    "lan-ping": ["ARP who-has", "echo request seq=1", "echo reply seq=3"],
    "mail-relay": ["query MX qq.com", "EHLO alice", "AUTH PLAIN", "MAIL FROM", "RCPT TO", "DATA",
                   "query MX 163.com", "referral: com", "EHLO mail.qq.com", "queued as", "QUIT"],
    "mail-tls": ["\\[TLS\\] EHLO alice", "query MX 163.com", "STARTTLS", "220 2.0.0 Ready to start TLS",
                 "\\[TLS\\] MAIL FROM", "QUIT"],
    "rarp-boot": ["RARP who-am-I .* ✗ no-rarp-service", "RARP .* is 10.1.0.42", "echo request"],
    "rest-api": ["GET /v1/users", "POST /v1/users", "201 Created", "DELETE", "204 No Content",
                 "404 Not Found", "405 Method Not Allowed", "409 Conflict"],
    "routing-loop": ["echo request seq=1", "✗ ttl-expired", "ICMP time-exceeded"],
    "router-chain": ["TTL=1 ✗ ttl-expired", "ICMP time-exceeded", "ICMP port-unreachable"],
    "soap-weather": ["GET /WeatherWS.asmx\\?wsdl", "POST /WeatherWS.asmx", "500 Internal Server Error"],
    "switch-loop": ["BPDU root", "ARP who-has 192.168.1.20", "echo request seq=1"],
    "tcp-clean": ["^SYN ", "SYN,ACK", "^FIN "],
    "tcp-goodput-vs-loss": ["^SYN ", "dup #3", "fast retransmission", "^FIN "],
    "tcp-lossy": ["^SYN ", "dup #3", "fast retransmission", "^FIN "],
    "tcp-refused": ["^SYN .*✗ port-closed", "RST"],
    "tcp-slow-reader": ["^SYN ", "win=0|zero window", "window update"],
    "udp-echo": ["UDP #1 ", "UDP #4 "],
    "websocket-vs-polling": ["GET /ticker", "101 Switching Protocols", "GET /latest", "WS text",
                             "\\[TLS\\] WS text"],
}


def test_every_bundled_scenario_names_its_lesson():
    assert sorted(LESSONS) == ALL


@pytest.mark.parametrize("name", ALL)
def test_the_default_diagram_keeps_the_lesson(runs, name):
    """The story cut of a long run keeps what the scenario is for — FTP's PASV, its 227
    and the data connection's SYN; the firewall's drop; the loss and its repair — above
    ARP and ACKs."""
    import re
    from netsim.scenario.runner import sequence_options
    from netsim.viz import sequence_diagram
    result = runs[name]
    diagram = sequence_diagram(result.trace, **sequence_options(result.scenario.data.get("sequence", {})))
    drawn = [m.label + (f" ✗ {m.dropped}" if m.dropped else "") for m in diagram.messages]
    missing = [p for p in LESSONS[name] if not any(re.search(p, text) for text in drawn)]
    assert missing == [], f"{name}'s default diagram leaves out {missing}"


def test_the_text_tells_the_run_in_time_order(runs):
    """Each tool's block where its output begins: the relay's log after the submission
    that caused it, the name servers' closing counts at the end."""
    blocks = [line for line in runs["mail-relay"].text().splitlines() if line.startswith("-- ")]
    order = [b.split(" at ")[0] for b in blocks]
    assert order.index("-- mail-send on alice") < order.index("-- mail-server on mailqq")
    assert order.index("-- dhcp-client on alice") < order.index("-- mail-send on alice")
    assert order[-1].startswith("-- dns-server")
