"""Timelines, TCP plots and topology drawings carry the trace's numbers."""

import pytest

from netsim import load_scenario, run_scenario
from netsim.trace import TX
from netsim.viz import frame_timeline, link_plot, tcp_plot, throughput_plot, topology_plot
from netsim.viz.timeline import link_series, tcp_connections
from tests.conftest import SCENARIOS


@pytest.fixture(scope="module")
def lossy():
    return run_scenario(load_scenario(SCENARIOS / "tcp-lossy.yaml"))


@pytest.fixture(scope="module")
def bottleneck():
    return run_scenario(load_scenario(SCENARIOS / "bottleneck.yaml"))


def test_frame_timeline_has_a_tick_per_frame_sent(lossy):
    fig = frame_timeline(lossy.trace)
    ax = fig.axes[0]
    ticks = sum(len(c.get_offsets()) for c in ax.collections if c.get_label() != "dropped")
    assert ticks == sum(1 for _t, kind, *_ in lossy.trace.raw() if kind == TX)
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert names[:4] == ["client", "r1", "r2", "server"]
    assert sorted(names[4:]) == ["linux-client", "linux-server", "r3", "r4"]


def test_cwnd_plot_follows_the_engine(lossy):
    fig = tcp_plot(lossy.trace)
    ax = fig.axes[0]
    cwnd_line = next(l for l in ax.get_lines() if l.get_label().startswith("cwnd"))
    notes = [n for n in lossy.trace.notes if n.what == "tcp-metrics" and n.node == "client"]
    assert list(cwnd_line.get_ydata()) == [n.detail["cwnd"] / 1000 for n in notes]
    labels = [c.get_label() for c in ax.collections]
    assert any(l.startswith("fast-retransmit") for l in labels)
    assert any(l.startswith("timeout") for l in labels)
    assert ax.get_ylabel() == "kB" and fig.axes[1].get_xlabel() == "simulated time (s)"
    assert tcp_connections(lossy.trace)[0].startswith("client ")


def test_no_tcp_no_cwnd_plot(bottleneck):
    assert tcp_plot(bottleneck.trace) is None


def test_bottleneck_link_is_full_and_its_queue_hits_the_limit(bottleneck):
    _start, width, utilisation, queues = link_series(bottleneck.trace)
    assert max(utilisation["r1→receiver"]) > 0.95
    assert max(q for _t, q in queues["r1→receiver"]) == 20
    fig = link_plot(bottleneck.trace)
    assert fig.axes[0].get_ylabel() == "utilisation (%)" and fig.axes[1].get_ylabel() == "queue (packets)"


def test_throughput_matches_what_the_sink_received(bottleneck):
    from netsim.viz.timeline import throughput_series
    _start, width, _series = throughput_series(bottleneck.trace, bins=50)
    fig = throughput_plot(bottleneck.trace, bins=50)
    line = fig.axes[0].get_lines()[0]
    assert line.get_label() == "into receiver"
    delivered_bits = sum(line.get_ydata()) * 1e6 * width
    sink = bottleneck.app("udp-sink").result()
    assert delivered_bits == pytest.approx(sink["bytes"] * 8, rel=1e-6)


def test_topology_shows_nodes_addresses_and_links(lossy):
    fig = topology_plot(lossy.trace)
    texts = [t.get_text() for t in fig.axes[0].texts]
    for expected in ("client", "r1", "r2", "server", "10 Mbps\n20 ms, 1% loss",
                     "eth0: 10.0.1.10/24"):
        assert any(expected in t for t in texts), expected
