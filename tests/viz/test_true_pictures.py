"""Pictures that say nothing false: a message drawn incomplete must not be one the
receiver got whole."""

import pytest

from netsim import load_scenario, parse_scenario, run_scenario
from netsim.viz import messages, sequence_diagram
from netsim.viz.messages import IN_FLIGHT
from tests.conftest import SCENARIOS, tshark_fields


def test_an_http_1_0_response_whose_last_segment_carries_the_fin_is_drawn_whole(tmp_path):
    """Linux puts its FIN on the last data segment when nginx closes after an HTTP/1.0
    answer: that segment's bytes are the response's end, not a close after it."""
    result = run_scenario(load_scenario(SCENARIOS / "http-1.0-vs-1.1.yaml"), tmp_path)
    drawn = [m for m in messages(result.trace, level="app") if m.protocol == "HTTP"]
    assert drawn and not [m.label for m in drawn if "incomplete" in m.label]
    # The captures agree: FINs with data, and every response tshark reassembled is whole.
    fins = tshark_fields(tmp_path / "pcap" / "r1-web.pcap", "frame.number",
                         display_filter="tcp.srcport == 80 && tcp.flags.fin == 1 && tcp.len > 0")
    assert fins
    lengths = tshark_fields(tmp_path / "pcap" / "r1-web.pcap", "http.content_length",
                            display_filter="http.response")
    answered = [m for m in drawn if m.label.startswith("HTTP/1.1 200")]
    assert len(answered) == len(lengths)


def drawn_against_the_trace(trace, found) -> list[str]:
    """What the drawn messages say happened that the trace says did not: an arrival
    where none of the message's frames reached its receiver, a loss where none was
    dropped for that reason (or, for one drawn in flight at the end, where one arrived)."""
    from netsim.trace.recorder import DROP, ENQUEUE, RX, TX
    from netsim.viz.messages import _identity
    rx, drops, dropped = set(), set(), set()
    handed_on: dict[tuple, set[int]] = {}       # (identity, node) → frames it sent or dropped
    came_in: dict[tuple, list[float]] = {}      # (identity, node) → when one arrived
    for t, kind, port, frame, reason in sorted(trace.raw(), key=lambda r: r[0]):
        node = trace.ports[port].node
        key = (_identity(trace.frame_bytes(frame), frame), node)
        if kind == RX:
            rx.add((frame, node))
            came_in.setdefault(key, []).append(t)
        elif kind == DROP:
            drops.add((frame, trace.reason_name(reason)))
            dropped.add(frame)
        if kind in (TX, DROP, ENQUEUE):
            handed_on.setdefault(key, set()).add(frame)
    wrong = []
    for m in found:
        if m.received is not None and not any((f, m.dst) in rx for f in m.frames):
            wrong.append(f"drawn arriving at {m.dst}, never got there: {m.label}")
        if m.dropped == IN_FLIGHT:
            # In flight at the end: its last frame neither arrived nor was dropped, nor
            # handed on by the node it last reached. That node handles packets that look
            # alike (a constant-payload UDP flow) one at a time in the order they came —
            # sent, queued or refused by a full queue — so the k-th to come in went on
            # (or was dropped) if the node handed on k of them.
            last = m.frames[-1]
            key = (_identity(trace.frame_bytes(last), last), m.drop_node)
            k = sum(1 for t in came_in.get(key, []) if t <= m.dropped_at)
            went_on = m.drop_node != m.src and len(handed_on.get(key, ())) >= k
            if (last, m.dst) in rx or last in dropped or went_on:
                wrong.append(f"drawn in flight at {m.drop_node}, went on: {m.label}")
        elif m.dropped and m.dropped != IN_FLIGHT and \
                not any((f, m.dropped) in drops for f in m.frames):
            wrong.append(f"drawn {m.dropped}, no such drop in the trace: {m.label}")
    return wrong


TWO_ROUTERS = """
name: two-routers-lossy
seed: {seed}
until: 40s
defaults:
  link: {{rate: 10Mbps, delay: 2ms}}
nodes:
  alice: {{kind: host, ip: 10.0.1.10/24, gateway: 10.0.1.1}}
  r1: {{kind: router}}
  r2: {{kind: router}}
  web: {{kind: host, ip: 10.0.3.80/24, gateway: 10.0.3.1}}
links:
  - endpoints: [alice, r1]
  - {{endpoints: [r1, r2], delay: 30ms, loss: 10%}}
  - endpoints: [r2, web]
apps:
  - node: web
    run: http-server
    sites:
      "*":
        /index.html: {{body: 8KiB, embeds: [/a.png, /b.png, /c.png, /d.png]}}
        /a.png: {{body: 5KiB}}
        /b.png: {{body: 5KiB}}
        /c.png: {{body: 5KiB}}
        /d.png: {{body: 5KiB}}
  - {{node: alice, at: 1s, run: browser, url: http://web/index.html, version: "1.0"}}
"""


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("level", ["end-to-end", "link", "app"])
def test_a_lossy_page_load_through_two_routers_draws_only_what_happened(seed, level):
    """Four SYN-ACKs sent at once, all with IP id 0, were once drawn 'in flight at web'
    in a 40 s run: the routers' copies were matched to one packet."""
    result = run_scenario(parse_scenario(TWO_ROUTERS.format(seed=seed)))
    found = messages(result.trace, level=level)
    assert any(m.dropped == "loss" for m in found) or level == "app"
    assert drawn_against_the_trace(result.trace, found) == []


def test_a_window_ends_an_arrow_that_goes_on_with_what_became_of_it():
    """A window cut (``to=``) neither draws as lost what arrived after it nor as arrived
    what had not yet: the arrow stops at the window's edge, saying what came next."""
    result = run_scenario(parse_scenario(TWO_ROUTERS.format(seed=3)))
    whole = {m.frame: m for m in messages(result.trace)}
    diagram = sequence_diagram(result.trace, start=1.0, end=1.1)
    went_on = [m for m in diagram.messages if m.beyond]
    assert went_on, "the SYN held at r1 while ARP is retried goes on after 1.1 s"
    for m in went_on:
        assert m.received is None and m.dropped is None
        assert whole[m.frame].ended > 1.1
        assert all(arrived <= 1.1 for _n, arrived, _left in m.hops)
    syn = next(m for m in went_on if m.label.startswith("SYN "))
    assert syn.beyond == f"at r1 as this window ends, arrives at web at {whole[syn.frame].received:.3f} s, after this window"
    assert not any(m.dropped == IN_FLIGHT for m in diagram.messages)
    mermaid = diagram.mermaid()
    assert "after this window" in mermaid and "in flight" not in mermaid
