"""What a reader of a diagram needs: crosses where frames died, textbook TCP labels,
numbered datagrams, readable times, broadcasts drawn once, and the story of a long run."""

import re

import pytest

from netsim import load_scenario, run_scenario
from netsim.viz import messages, sequence_diagram
from netsim.viz.colors import KIND_COLORS
from tests.conftest import SCENARIOS


def run(name, **options):
    return run_scenario(load_scenario(SCENARIOS / f"{name}.yaml"), **options)


@pytest.fixture(scope="module")
def lossy():
    return run("tcp-lossy")


@pytest.fixture(scope="module")
def slow():
    return run("tcp-slow-reader")


def lanes_of(text):
    return dict(re.findall(r"participant (L\d+) as (\S+)", text))


def test_a_frame_refused_by_the_receiving_host_ends_in_a_cross_in_every_format():
    trace = run("rarp-boot").trace
    diagram = sequence_diagram(trace, protocols={"RARP"})
    first = diagram.messages[0]
    assert first.dropped == "no-rarp-service" and first.received is None
    arrow = diagram.layout.arrows[0]
    assert arrow.ends[0][2] == "no-rarp-service" and arrow.ends[0][3]   # a cross on the lane
    lane = {name: lane for lane, name in lanes_of(diagram.mermaid()).items()}
    diskless, server = lane["diskless"], lane["server"]
    assert re.search(rf"^    {diskless}-x{server}: .*RARP who-am-I .*✗ no-rarp-service$",
                     diagram.mermaid(), flags=re.M)
    assert re.search(rf"^{diskless} -\[#\w+\]>x {server} : .*no-rarp-service", diagram.plantuml(),
                     flags=re.M)


def test_plantuml_crosses_end_on_the_lane_where_the_frame_died():
    diagram = sequence_diagram(run("router-chain").trace, protocols={"UDP"}, end=1.1)
    lanes = lanes_of(diagram.mermaid()) or {f"L{k}": lane for k, lane in enumerate(diagram.lanes)}
    ends = re.findall(r"^L0 -\[#\w+\]>x (L\d+) : .*UDP probe TTL=(\d)", diagram.plantuml(), flags=re.M)
    assert [(lanes[lane], ttl) for lane, ttl in ends][:3] == [("r1", "1")] * 3


def test_tcp_labels_carry_windows_duplicate_counts_and_syn_options(lossy, slow):
    labels = [m.label for m in messages(lossy.trace, protocols={"TCP"}, nodes={"client"})]
    assert labels[0] == "SYN seq=0 win=65535 MSS=1460 WS=4"             # the textbook stack
    assert all(" win=" in label for label in labels if label.startswith("ACK "))
    assert any(label.endswith("(dup #3)") for label in labels)
    slow_labels = [m.label for m in messages(slow.trace, protocols={"TCP"})]
    assert any("win=0 " in label + " " for label in slow_labels)
    assert any(label.endswith("(window update)") for label in slow_labels)
    assert not any("(duplicate)" in label for label in slow_labels)


def test_a_one_byte_segment_into_a_closed_window_is_a_zero_window_probe():
    from netsim.viz.labels import Labeller
    from netsim.wire.headers import tcp_options
    from netsim.wire.templates import TcpTemplate
    a, b = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")
    plain_c = TcpTemplate(a, b, 0x0A000001, 0x0A000002, 40000, 5001)
    plain_s = TcpTemplate(b, a, 0x0A000002, 0x0A000001, 5001, 40000)
    syn = tcp_options(mss=1460, wscale=2)
    labeller = Labeller()
    frames = [plain_c.build(100, 0, 0x02, 65535, b"", 1, options=syn),
              plain_s.build(500, 101, 0x12, 65535, b"", 1, options=syn),
              plain_c.build(101, 501, 0x10, 1000, b"", 2),
              plain_c.build(101, 501, 0x18, 1000, b"x" * 100, 3),
              plain_s.build(501, 201, 0x10, 0, b"", 2),
              plain_c.build(201, 501, 0x10, 1000, b"y", 4)]
    labels = [labeller.label(f) for f in frames]
    assert labels[0].text == "SYN seq=0 win=65535 MSS=1460 WS=4"
    assert labels[4].text == "ACK ack=101 win=0 (zero window)" and labels[4].kind == "zero-window"
    assert labels[5].text == "seq=101 len=1 (zero-window probe)"
    assert labels[5].kind == "zero-window-probe"
    # Linux's probe: no data, one below the next sequence number.
    linux = Labeller()
    for frame in frames[:5]:
        linux.label(frame)
    linux_probe = linux.label(plain_c.build(200, 501, 0x10, 1000, b"", 5))
    assert linux_probe.text == "ACK seq=100 (zero-window probe)"
    assert linux_probe.kind == "zero-window-probe"


def test_retransmissions_probes_and_dup_acks_are_coloured_and_in_the_legend(lossy, slow):
    diagram = sequence_diagram(lossy.trace, protocols={"TCP"}, limit=80)
    names = [name for name, _color in diagram.legend()]
    assert "fast retransmission" in names and "duplicate ACK" in names
    assert "✗ lost or refused" in names
    kinds = {m.kind for m in diagram.messages}
    assert {"fast-retransmission", "dup-ack"} <= kinds
    windows = sequence_diagram(slow.trace, protocols={"TCP"}, limit=60)
    assert "zero window / window update" in [name for name, _ in windows.legend()]
    assert KIND_COLORS["fast-retransmission"] != KIND_COLORS["retransmission"] != \
        KIND_COLORS["zero-window-probe"]
    figure = diagram.figure()
    texts = [t.get_text() for t in figure.axes[0].texts]
    assert any("fast retransmission" in t for t in texts)        # the legend is drawn


def test_datagrams_of_a_stream_are_numbered_so_lost_ones_can_be_named():
    trace = run("bottleneck").trace
    udp = [m for m in messages(trace, protocols={"UDP"})]
    labels = [m.label for m in udp]
    assert len(set(labels)) == len(labels)
    assert labels[0].startswith("UDP #1 ") and labels[-1].startswith(f"UDP #{len(udp)} ")
    lost = [m.label.split()[1] for m in udp if m.dropped == "queue-full"]
    assert lost and all(n.startswith("#") for n in lost)


def test_times_tell_rows_apart_in_one_unit_and_jumps_are_marked():
    ping = sequence_diagram(run("lan-ping").trace)
    times = [ping.time_text(m.sent) for m in ping.messages]
    distinct = sorted({m.sent for m in ping.messages})
    assert len({ping.time_text(t) for t in distinct}) == len(distinct)
    assert all(t.endswith(" s") for t in times)
    chain = sequence_diagram(run("router-chain").trace)
    assert all(chain.time_text(m.sent).endswith(" s") and "ms" not in chain.time_text(m.sent)
               for m in chain.messages)
    jumps = [mark.text for mark in chain.layout.marks if mark.kind == "jump"]
    # From the traceroute's last arrival (about 1.07 s) to the routers' unicast ARP
    # checks (6 s, five seconds after each first used an entry it learned from a request).
    assert jumps[0] == "4.93 s later"
    assert "4.93 s later" in chain.mermaid()


def _label_boxes(figure, sizes=(8,)):
    """Boxes of the labels (8 pt) and, with 7 in ``sizes``, of the drop reasons and times."""
    renderer = figure.canvas.get_renderer()
    return [t.get_window_extent(renderer) for t in figure.axes[0].texts
            if t.get_fontsize() in sizes and t.get_text()]


def _cross_boxes(figure):
    """Boxes of the loss crosses (markers ``x``), in display units."""
    from matplotlib.transforms import Bbox
    ax = figure.axes[0]
    boxes = []
    for line in ax.get_lines():
        if line.get_marker() == "x":
            x, y = ax.transData.transform((line.get_xdata()[0], line.get_ydata()[0]))
            half = line.get_markersize() * figure.dpi / 72 / 2
            boxes.append(Bbox([[x - half, y - half], [x + half, y + half]]))
    return boxes


def _overlapping(boxes):
    return [(a, b) for k, a in enumerate(boxes) for b in boxes[k + 1:]
            if a.x0 < b.x1 - 1 and b.x0 < a.x1 - 1 and a.y0 < b.y1 - 1 and b.y0 < a.y1 - 1]


def test_time_scale_labels_do_not_overlap(lossy):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    diagram = sequence_diagram(lossy.trace, protocols={"TCP"}, start=0.830, end=0.865,
                               scale="time", limit=200)
    figure = diagram.figure()
    FigureCanvasAgg(figure)
    boxes = _label_boxes(figure)
    assert len(boxes) == len(diagram.messages)
    assert not _overlapping(boxes)


@pytest.mark.parametrize("name", ["router-chain", "tcp-lossy", "lan-ping", "bottleneck",
                                  "tcp-clean", "rarp-boot"])
def test_compressed_labels_do_not_overlap(name):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    result = run(name)
    diagram = result.sequence()
    figure = diagram.figure()
    FigureCanvasAgg(figure)
    assert not _overlapping(_label_boxes(figure, sizes=(7, 7.5, 8)) + _cross_boxes(figure))


def test_a_broadcast_is_one_message_with_every_receiver():
    diagram = sequence_diagram(run("lan-ping").trace, protocols={"ARP"})
    index, first = next((i, m) for i, m in enumerate(diagram.messages)
                        if m.label.startswith("ARP who-has"))
    assert first.src == "alice" and {first.dst, *(r[0] for r in first.also)} == {"bob", "carol"}
    text = diagram.mermaid()
    assert text.count("ARP who-has 192.168.1.20") == 1 and "″ (same broadcast)" in text
    arrow = diagram.layout.arrows[index]
    assert len(arrow.ends) == 2


def test_default_diagram_tells_the_whole_story_of_a_transfer():
    clean = run("tcp-clean").sequence()
    labels = [m.label for m in clean.messages]
    assert labels[0].startswith("ARP") and any(l.startswith("SYN ") for l in labels)
    assert any(l.startswith("FIN") for l in labels) and len(clean.messages) <= 60
    assert any(mark.kind == "elision" and "data segments" in mark.text
               for mark in clean.layout.marks)
    for seed in (5, 8):
        story = run("tcp-lossy", seed=seed).sequence()
        kinds = {m.kind for m in story.messages}
        assert any(m.dropped for m in story.messages), seed
        assert kinds & {"fast-retransmission", "retransmission"}, seed
        assert any(m.label.startswith("FIN") for m in story.messages), seed


def test_random_bulk_bytes_are_never_read_as_an_application_line(lossy):
    from netsim.viz.labels import text_line
    assert text_line(b"250 OK\r\n") == "250 OK"
    assert text_line(b"Y|_\n\x00\x9f binary") is None
    data = [m for m in messages(lossy.trace, protocols={"TCP"}) if m.length > 100]
    assert data and all(m.label.startswith(("seq=", "FIN seq=")) for m in data)
