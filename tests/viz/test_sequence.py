"""Sequence diagrams: the right messages, labelled as a textbook labels them, in order."""

import re

import pytest

from netsim import Ping, load_scenario, run_scenario
from netsim.topo import line
from netsim.viz import messages, sequence_diagram
from netsim.viz.filters import parse_filter
from tests.conftest import SCENARIOS


@pytest.fixture(scope="module")
def chain():
    return run_scenario(load_scenario(SCENARIOS / "router-chain.yaml"))


@pytest.fixture(scope="module")
def clean():
    return run_scenario(load_scenario(SCENARIOS / "tcp-clean.yaml"))


def mermaid_arrows(text):
    return re.findall(r"^    (L\d+)(->>|-x)(L\d+): (.*)$", text, flags=re.M)


def test_traceroute_mermaid_lists_probes_and_icmp_replies_in_order(chain):
    diagram = sequence_diagram(chain.trace, protocols={"UDP", "ICMP"}, end=5.0, limit=500)
    text = diagram.mermaid()
    arrows = mermaid_arrows(text)
    lane = dict(re.findall(r"participant (L\d+) as (\S+)", text))
    labels = [a[3].split(" · ")[1] for a in arrows]
    # Linux's traceroute: the first 16 probes (hops 1–6) leave together, so they come
    # first, in order.
    assert [label.split(" ")[2] for label in labels[:16]] == \
        [f"TTL={t}" for t in (1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6)]
    # Each probe dies where its TTL ran out, or at files, which refuses it: its last
    # arrow is a cross (-x) on that node's lane.
    died = {"1": "r1", "2": "r2", "3": "r3"}
    probes = [m for m in diagram.messages if m.label.startswith("UDP probe")]
    assert probes and all(m.drop_node == died.get(m.label.split("TTL=")[1][0], "files")
                          and m.dropped in ("ttl-expired", "port-unreachable") for m in probes)
    crosses = [(lane[dst], label) for _src, arrow, dst, label in arrows if arrow == "-x"]
    assert len(crosses) == len(probes)
    # The answers arrive (->>) from each router in turn, then from files.
    replies = [(lane[src], label.split(" · ")[1]) for src, arrow, _dst, label in arrows
               if "ICMP" in label]
    assert all(arrow == "->>" for _s, arrow, _d, label in arrows if "ICMP" in label)
    assert replies[:9] == [("r1", "ICMP time-exceeded")] * 3 + [("r2", "ICMP time-exceeded")] * 3 + \
        [("r3", "ICMP time-exceeded")] * 3
    assert set(replies[9:]) == {("files", "ICMP port-unreachable")}
    # An answer is never drawn above the probe that caused it.
    sent = {f: m.sent for m in diagram.messages for f in m.frames}
    assert all(sent[cause] <= m.sent for m in diagram.messages for cause in m.causes if cause in sent)


def test_lanes_read_along_the_path(chain):
    assert sequence_diagram(chain.trace).lanes == ["alice", "r1", "r2", "r3", "files"]


def test_plantuml_has_one_arrow_per_message_in_order(chain):
    diagram = sequence_diagram(chain.trace, protocols={"ICMP"}, start=7.0)
    text = diagram.plantuml()
    assert text.startswith("@startuml") and text.rstrip().endswith("@enduml")
    arrows = re.findall(r"^(L\d+) \S+ (L\d+) : (.*)$", text, flags=re.M)
    assert [a[2].split("  ")[-1].split(" · ")[-1] for a in arrows] == \
        [m.label for m in diagram.messages] == \
        ["ICMP echo request seq=1", "ICMP echo reply seq=1", "ICMP echo request seq=2",
         "ICMP echo reply seq=2", "ICMP echo request seq=3", "ICMP echo reply seq=3"]


def test_tcp_labels_use_relative_numbers(clean):
    labels = [m.label for m in messages(clean.trace, protocols={"TCP"})]
    # Linux's handshake: MSS, SACK permitted, timestamps, window scale 7 (×128); the
    # SYN's window 64240 (whole 1460-byte segments of 65536), the SYN-ACK's 65160 (whole
    # 1448-byte ones, timestamps agreed), the first ACK's 502 × 128 = 64256 (rounded up to
    # the scale's unit); 1448-byte segments (1460 less the 12 bytes of timestamps).
    assert labels[:4] == ["SYN seq=0 win=64240 MSS=1460 SACK_PERM TS WS=128",
                          "SYN,ACK seq=0 ack=1 win=65160 MSS=1460 SACK_PERM TS WS=128",
                          "ACK ack=1 win=64256", "seq=1 len=1448"]
    # Teardown: the client closed before its last 632 bytes left, so its FIN rides on
    # them (200 KiB → seq 204801); the server acknowledges, sends its own FIN, and the
    # client's last ACK ends the exchange.
    teardown = [label for label in labels if "FIN" in label or label.startswith(("ACK ack=204802 ",
                                                                                 "ACK ack=2 "))]
    assert [t.split(" win=")[0] for t in teardown] == [
        "FIN seq=204169 ack=1 len=632", "ACK ack=204802", "FIN seq=1 ack=204802", "ACK ack=2"]
    assert labels[-1].startswith("ACK ack=2 win=")


def test_link_level_shows_every_hop(chain):
    e2e = messages(chain.trace, protocols={"ICMP"}, start=7.0)
    hops = messages(chain.trace, protocols={"ICMP"}, start=7.0, level="link")
    assert len(hops) == 4 * len(e2e)                       # four links between alice and files
    assert [(m.src, m.dst) for m in hops[:4]] == [("alice", "r1"), ("r1", "r2"), ("r2", "r3"),
                                                  ("r3", "files")]


def test_losses_on_the_wire_are_marked_where_they_happened():
    net, (a, r, b) = line(["a", "r", "b"], loss=0.2, seed=3)
    Ping(a, target="b", count=20, interval=0.2)
    net.run(20)
    every = messages(net.trace)
    assert all(m.src != m.dst for m in every)            # a lost frame still points somewhere
    lost = [m for m in messages(net.trace, protocols={"ICMP"}) if m.dropped]
    assert all(m.received is None for m in lost)
    on_wire = [m for m in lost if m.dropped == "loss"]
    assert on_wire and {m.drop_node for m in on_wire} <= {"a", "r", "b"}
    # Every echo lost on the wire is one of the trace's loss drops of an ICMP frame.
    loss_frames = {r_.frame for r_ in net.trace.records() if r_.reason == "loss"}
    assert {m.frame for m in on_wire} <= loss_frames or len(on_wire) <= len(loss_frames)


def test_filters_by_node_flow_and_time(clean):
    everything = messages(clean.trace)
    arp_only = messages(clean.trace, protocols={"arp"})
    assert arp_only and all(m.protocol == "ARP" for m in arp_only)
    assert all("r2" in (m.src, m.dst) for m in messages(clean.trace, nodes={"r2"}))
    port = messages(clean.trace, flow="5001")
    assert port and all(5001 in (m.sport, m.dport) for m in port)
    window = messages(clean.trace, start=0.6, end=0.62)
    assert window and all(0.6 <= m.sent <= 0.62 for m in window)
    assert len(window) < len(everything)
    assert parse_filter("tcp,node=r1,from=1s,to=2s,flow=80") == {
        "protocols": {"TCP"}, "nodes": {"r1"}, "start": 1.0, "end": 2.0, "flow": "80"}
    with pytest.raises(ValueError):
        parse_filter("gopher")


def test_ports_give_one_lane_per_application(clean):
    lanes = sequence_diagram(clean.trace, protocols={"TCP"}, ports=True).lanes
    assert any(lane.startswith("client:") for lane in lanes) and "server:5001" in lanes


def test_svg_contains_lanes_and_labels(chain, tmp_path):
    path = sequence_diagram(chain.trace, protocols={"ICMP"}, start=7.0).save(tmp_path / "d.svg")
    svg = path.read_text()
    for text in ("alice", "files", "ICMP echo request seq=1", "ICMP echo reply seq=3", "8.000 s"):
        assert text in svg, text


def test_limit_is_said_in_the_picture(chain):
    diagram = sequence_diagram(chain.trace, limit=5)
    assert len(diagram) == 5 and diagram.total > 5
    assert f"5 of {diagram.total} messages shown" in diagram.mermaid()
    assert "messages not shown" in diagram.mermaid()        # the elision marks


def test_time_scale_places_arrows_by_time(chain):
    diagram = sequence_diagram(chain.trace, protocols={"ICMP"}, start=7.0, scale="time")
    starts = [a.y_send for a in diagram.layout.arrows]
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert gaps[1] > 10 * gaps[0]          # 1 s between pings, 16 ms between request and reply


def test_addresses_learned_during_the_run_still_name_their_lane():
    # The diskless host has no address when the run starts; RARP gives it one.
    result = run_scenario(load_scenario(SCENARIOS / "rarp-boot.yaml"))
    icmp = [(m.src, m.dst, m.label) for m in messages(result.trace, protocols={"ICMP"})]
    assert icmp == [("diskless", "server", f"ICMP echo request seq={k}") if i % 2 == 0 else
                    ("server", "diskless", f"ICMP echo reply seq={k}")
                    for k in (1, 2, 3) for i in (0, 1)]
