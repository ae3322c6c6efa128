"""Plots a reader can trust: shown in Jupyter, axes fitted to what happened, legends
off the data, honest panels, the receive window, and a topology with nothing overlapping."""

import pytest

from netsim import load_scenario, run_scenario
from netsim.viz import tcp_plot, throughput_plot, timeline_figure, topology_plot
from netsim.viz.timeline import throughput_series
from tests.conftest import SCENARIOS


def run(name):
    return run_scenario(load_scenario(SCENARIOS / f"{name}.yaml"))


@pytest.fixture(scope="module")
def bottleneck():
    return run("bottleneck")


@pytest.fixture(scope="module")
def chain():
    return run("router-chain")


def _draw(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    FigureCanvasAgg(fig).draw()
    return fig.canvas.get_renderer()


@pytest.mark.parametrize("make", [tcp_plot, timeline_figure, topology_plot, throughput_plot])
def test_every_plot_shows_itself_in_jupyter(make):
    fig = make(run("tcp-clean").trace)
    png = fig._repr_png_()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Figure size" not in repr(fig)


def test_time_axis_fits_where_things_happen(bottleneck):
    fig = timeline_figure(bottleneck.trace)
    first = min(t for t, *_ in bottleneck.trace.raw())
    last = max(t for t, *_ in bottleneck.trace.raw())
    left, right = fig.axes[0].get_xlim()
    assert first - 0.05 * (last - first) <= left <= first
    assert last <= right <= last + 0.05 * (last - first)


def test_legends_sit_beside_the_data(bottleneck):
    fig = timeline_figure(bottleneck.trace)
    renderer = _draw(fig)
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is not None:
            assert legend.get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1


def test_an_empty_queue_panel_says_so_and_utilisation_runs_to_100_percent():
    from netsim import parse_scenario
    quiet = run_scenario(parse_scenario("""
name: one-ping
until: 3s
nodes:
  a: {kind: host, ip: 10.0.0.1/24}
  b: {kind: host, ip: 10.0.0.2/24}
links:
  - {endpoints: [a, b]}
apps:
  - {node: a, at: 1s, run: ping, target: b, count: 1}
"""))
    fig = timeline_figure(quiet.trace)
    util, queue = fig.axes[1], fig.axes[2]
    assert util.get_ylabel() == "utilisation (%)" and util.get_ylim()[1] >= 100
    assert any("nothing queued" in t.get_text() for t in queue.texts)
    assert not queue.get_lines()


def test_traceroute_probes_refused_as_port_unreachable_deliver_nothing(chain):
    _start, _width, series = throughput_series(chain.trace)
    assert series == {}
    fig = timeline_figure(chain.trace)
    assert any("no TCP or UDP payload" in t.get_text() for t in fig.axes[3].texts)


def test_cwnd_plot_shows_the_receive_window_and_explains_recovery():
    slow = tcp_plot(run("tcp-slow-reader").trace)
    labels = [line.get_label() for line in slow.axes[0].get_lines()]
    assert any(label.startswith("rwnd") for label in labels)
    lossy = tcp_plot(run("tcp-lossy").trace)
    legend = [t.get_text() for t in lossy.axes[0].get_legend().get_texts()]
    assert any("fast recovery" in text and "inflated" in text for text in legend)
    renderer = _draw(lossy)
    legend_box = lossy.axes[0].get_legend().get_window_extent(renderer)
    assert legend_box.x1 <= lossy.bbox.x1            # the legend fits in the picture
    # cwnd is a line, bytes in flight a filled area: told apart by more than colour.
    assert any(label.startswith("cwnd") for label in (l.get_label() for l in lossy.axes[0].get_lines()))
    assert any(c.get_label() == "bytes in flight" for c in lossy.axes[0].collections)


@pytest.mark.parametrize("name", ["router-chain", "rarp-boot", "design-example", "lan-ping",
                                  "switch-loop", "dhcp-relay", "mail-relay"])
def test_topology_text_never_overlaps(name):
    fig = topology_plot(run(name).trace)
    renderer = _draw(fig)
    ax = fig.axes[0]
    boxes = [t.get_window_extent(renderer) for t in ax.texts if t.get_text()]
    for k, a in enumerate(boxes):
        for b in boxes[k + 1:]:
            assert not (a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1), (a, b)
    # Names fit inside their node boxes: a name's box lies within its patch.
    for text in ax.texts:
        patch = text.get_bbox_patch()
        if patch is not None and text.get_fontweight() == "bold":
            inner, outer = text.get_window_extent(renderer), patch.get_window_extent(renderer)
            assert outer.x0 <= inner.x0 and inner.x1 <= outer.x1


def test_topology_legend_lists_kinds_present_and_learned_addresses_show():
    fig = topology_plot(run("rarp-boot").trace)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["host", "switch"]
    assert any("10.1.0.42/24 (learned)" in t.get_text() for t in ax.texts)


def test_many_links_keep_each_legend_beside_its_own_panel():
    """mail-relay has 30 link directions: legends are cut to the busiest and say how many
    they leave out, so no legend runs into the next panel; DHCP hosts' goodput shows."""
    fig = timeline_figure(run("mail-relay").trace)
    renderer = _draw(fig)
    boxes = []
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is not None:
            box = legend.get_window_extent(renderer)
            assert box.y0 >= ax.get_window_extent(renderer).y0 - 2, ax.get_title()
            boxes.append(box)
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    util = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert util[-1].endswith("quieter)")
    goodput = [t.get_text() for t in fig.axes[3].get_legend().get_texts()]
    assert "into bob-laptop" in goodput and "into bob-desktop" in goodput
