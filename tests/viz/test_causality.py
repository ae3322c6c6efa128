"""Diagrams follow cause and effect: the trace records causes, the layout honours them."""

import json

import pytest

from netsim import load_scenario, run_scenario
from netsim.trace.jsonl import load_jsonl, write_jsonl
from netsim.trace.recorder import TX
from netsim.viz import messages, sequence_diagram
from tests.conftest import SCENARIOS

BUNDLED = sorted(p.stem for p in SCENARIOS.glob("*.yaml"))


@pytest.fixture(scope="module")
def runs():
    return {name: run_scenario(load_scenario(SCENARIOS / f"{name}.yaml")) for name in BUNDLED}


def senders(trace) -> dict[int, str]:
    """Frame id → the node that first put it on a wire."""
    found = {}
    for _t, kind, port, frame, _r in trace.raw():
        if kind == TX and frame not in found:
            found[frame] = trace.ports[port].node
    return found


def arrivals(arrow) -> dict[str, float]:
    """Lane → the row where this arrow first reached it (hops and ends; a packet caught
    in a routing loop reaches the same router many times)."""
    found = {}
    for lane, y, _out in arrow.hops:
        found.setdefault(lane, y)
    for lane, y, _why, reached in arrow.ends:
        if reached:
            found.setdefault(lane, y)
    return found


def departures(arrow) -> dict[str, float]:
    """Lane → the row where this arrow first left it."""
    found = {arrow.message.src: arrow.y_send}
    for lane, _y_in, y_out in arrow.hops:
        if y_out is not None:
            found.setdefault(lane, y_out)
    return found


@pytest.mark.parametrize("name", BUNDLED)
@pytest.mark.parametrize("scale", ["compressed", "time"])
def test_no_effect_is_drawn_above_its_cause(runs, name, scale):
    trace = runs[name].trace
    diagram = sequence_diagram(trace, scale=scale)          # every message, no limit
    arrows = diagram.layout.arrows
    owner = {f: k for k, a in enumerate(arrows) for f in a.message.frames}
    sent_by = senders(trace)
    checked = 0
    for k, arrow in enumerate(arrows):
        leaves = departures(arrow)
        for frame in arrow.message.frames:
            cause = trace.cause_of(frame).frame
            if cause < 0 or owner.get(cause, k) == k:
                continue
            node = sent_by.get(frame)
            reached = arrivals(arrows[owner[cause]]).get(node)
            if node not in leaves or reached is None:
                continue                       # that node has no lane in the diagram
            assert leaves[node] >= reached, (arrow.message.label, arrows[owner[cause]].message.label)
            if frame == arrow.message.frame and scale == "compressed":
                assert arrow.y_send > reached   # a new send starts below what caused it
            checked += 1
    assert checked > 0


def test_trace_records_causes_and_they_survive_jsonl(runs, tmp_path):
    trace = runs["router-chain"].trace
    # A router's forwarded copy points at the frame it received.
    sent_by = senders(trace)
    probe_at_r2 = [f for f in range(trace.frame_count) if sent_by.get(f) == "r1"
                   and "ttl=1" in trace.describe(f).label and trace.cause_of(f).why == "arp-resolved"]
    assert probe_at_r2, "the TTL=2 probe r1 held for ARP is released by the ARP reply"
    reply = trace.cause_of(probe_at_r2[0]).frame
    assert trace.describe(reply).label.startswith("ARP 10.255.0.2 is-at")
    # An echo reply points at its request.
    echo_reply = next(f for f in range(trace.frame_count) if "echo reply" in trace.describe(f).label)
    request = trace.cause_of(echo_reply).frame
    assert "echo request" in trace.describe(request).label
    path = write_jsonl(trace, tmp_path / "trace.jsonl")
    rows = [json.loads(line) for line in path.read_text().splitlines()[1:]]
    assert any(r.get("why") == "arp-resolved" and "cause" in r for r in rows)
    again = load_jsonl(path)
    assert [again.cause_of(f) for f in range(trace.frame_count)] == \
        [trace.cause_of(f) for f in range(trace.frame_count)]


def test_fast_retransmission_is_caused_by_the_third_duplicate_ack(runs):
    trace = runs["tcp-lossy"].trace
    found = [m for m in messages(trace, protocols={"TCP"}, nodes={"client"})
             if m.kind == "fast-retransmission" and m.src == "client"]            # NewReno
    assert found
    for m in found:
        cause = trace.cause_of(m.frame)
        assert cause.why == "fast-retransmit"
        assert trace.describe(cause.frame).protocol == "TCP"
    # In the diagram the first one starts right below the third duplicate's arrival at the
    # client, not after every duplicate the server had sent by then.
    diagram = sequence_diagram(trace, protocols={"TCP"}, nodes={"client"}, limit=80)
    arrows = {a.message.frame: a for a in diagram.layout.arrows}
    first = arrows[found[0].frame]
    third = next(a for a in diagram.layout.arrows
                 if trace.cause_of(found[0].frame).frame in a.message.frames)
    assert third.message.label.endswith("(dup #3)")
    assert first.y_send > arrivals(third)["client"]
    later_dups = [a for a in diagram.layout.arrows if a.message.kind.startswith("dup-ack")
                  and a.y_send < first.y_send and arrivals(a).get("client", 0) > first.y_send]
    assert later_dups, "duplicates sent before it but arriving after it cross its arrow"


def test_rto_retransmissions_say_timeout(runs):
    trace = runs["tcp-lossy"].trace
    timeouts = [f for f in range(trace.frame_count) if trace.cause_of(f).why == "timeout"]
    assert timeouts
    labels = {m.frame: m.label for m in messages(trace, protocols={"TCP"})}
    assert all("timeout retransmission" in labels[f] for f in timeouts if f in labels)
