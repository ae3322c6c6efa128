"""Plots over simulated time: frames per node, link load and queues, TCP state, throughput.

Each function reads the trace (records, notes and the recorded topology) and
returns a matplotlib :class:`~matplotlib.figure.Figure` that also shows itself in
Jupyter; they never touch the models. Axes carry units, the time axis spans where
things happened (not from 0 when the first frame left at 1 s), legends sit beside
the data, never on it.
"""

from __future__ import annotations

from collections import defaultdict

from netsim.trace.recorder import DROP, ENQUEUE, RX, TX, Trace
from netsim.viz.colors import COLORS, DROP_COLOR
from netsim.viz.messages import NOT_A_FATE, address_owners
from netsim.viz.render import show


def _figure(rows: int, width: float = 10.0, height_per_row: float = 2.6, names=()):
    from matplotlib.figure import Figure
    height = 0.6 + height_per_row * rows
    fig = Figure(figsize=(width, height))
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    _margins(fig, width, height, names)
    return show(fig), axes


def _margins(fig, width: float, height: float, names=()) -> None:
    """Fixed margins in inches (legends on the right): a constrained layout gives the
    same picture here at three times the cost of drawing it. The left one is as wide as
    the longest lane name needs (10-point ticks, ≈ 0.085 in a character)."""
    left = max(0.95, 0.3 + 0.085 * max((len(n) for n in names), default=0))
    fig.subplots_adjust(left=left / width, right=1 - 2.9 / width, bottom=0.55 / height,
                        top=1 - 0.85 / height, hspace=0.45)


def time_window(trace: Trace) -> tuple[float, float]:
    """(first, last) record time, widened a little so marks at the edges show."""
    times = [t for t, *_ in trace.raw()]
    if not times:
        return 0.0, 1.0
    first, last = min(times), max(times)
    margin = 0.03 * (last - first) or 0.01 * max(abs(last), 1e-3)
    return max(0.0, first - margin), last + margin


#: Legend entries beside a panel at most: more would run down into the next panel.
LEGEND_MAX = 9


def _legend_beside(ax, **options) -> None:
    """A legend right of the plot, where it hides no data. Lines are plotted most
    important first; past ``LEGEND_MAX`` entries the legend says how many it leaves out."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return
    if len(handles) > LEGEND_MAX:
        from matplotlib.lines import Line2D
        left_out = len(handles) - (LEGEND_MAX - 1)
        handles = handles[:LEGEND_MAX - 1] + [Line2D([], [], color="none")]
        labels = labels[:LEGEND_MAX - 1] + [f"(+{left_out} quieter)"]
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0,
              fontsize=7.5, frameon=False, **options)


# -- frames per node ------------------------------------------------------------------------------

def draw_frames(ax, trace: Trace) -> None:
    """One lane per node; a tick per frame it sent, coloured by protocol; crosses for drops."""
    nodes = list(trace.meta.get("nodes", {})) or sorted({p.node for p in trace.ports})
    lane = {n: k for k, n in enumerate(nodes)}
    sent = defaultdict(list)
    drops = []
    for t, kind, port, frame, _reason in trace.raw():
        node = trace.ports[port].node
        if kind == TX:
            sent[trace.describe(frame).protocol].append((t, lane[node]))
        elif kind == DROP and trace.reason_name(_reason) not in NOT_A_FATE:
            # Not a flooded copy another NIC ignored, nor a broadcast a host had no
            # listener for: those were never lost.
            drops.append((t, lane[node]))
    for proto, points in sorted(sent.items()):
        xs, ys = zip(*points)
        ax.scatter(xs, ys, marker="|", s=120, color=COLORS.get(proto, "#333333"), label=proto,
                   linewidths=1.2)
    if drops:
        xs, ys = zip(*drops)
        ax.scatter(xs, ys, marker="x", s=40, color=DROP_COLOR, label="dropped", linewidths=1.5, zorder=3)
    ax.set_yticks(range(len(nodes)), nodes)
    ax.set_ylim(-0.7, len(nodes) - 0.3)
    ax.invert_yaxis()
    ax.set_title("Frames sent, by node")
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlim(*time_window(trace))
    _legend_beside(ax)


def frame_timeline(trace: Trace):
    fig, (ax,) = _figure(1, height_per_row=0.9 + 0.35 * len(trace.meta.get("nodes", {}) or [1]),
                         names=list(trace.meta.get("nodes", {})))
    draw_frames(ax, trace)
    ax.set_xlabel("simulated time (s)")
    return fig


# -- links ------------------------------------------------------------------------------------------

def link_series(trace: Trace, bins: int = 200):
    """Per sending port: (bin edges, utilisation 0–1) and queue length steps."""
    links = trace.meta.get("links", {})
    start, end = time_window(trace)
    width = (end - start) / bins
    busy: dict[str, list[float]] = defaultdict(lambda: [0.0] * bins)
    queue_steps: dict[str, list[tuple[float, int]]] = defaultdict(list)
    loss = trace.reason("loss")
    for t, kind, port, frame, reason in sorted(trace.raw(), key=lambda r: r[0]):
        p = trace.ports[port]
        if not p.link or p.link not in links:
            continue
        name = f"{p.node}→{_peer(links[p.link], p.node)}"
        if kind == TX or (kind == DROP and reason == loss):
            # Lost frames occupied the wire too. While frames wait, whatever starts
            # transmission is the head of the queue (FIFO), so the queue shrinks by one.
            duration = len(trace.frame_bytes(frame)) * 8 / links[p.link]["rate"]
            _spread(busy[name], t - start, t - start + duration, width, bins)
            if queue_steps[name] and queue_steps[name][-1][1] > 0:
                queue_steps[name].append((t, queue_steps[name][-1][1] - 1))
        elif kind == ENQUEUE:
            level = queue_steps[name][-1][1] if queue_steps[name] else 0
            queue_steps[name].append((t, level + 1))
    utilisation = {name: [b / width for b in values] for name, values in busy.items()}
    return start, width, utilisation, dict(queue_steps)


def _peer(link: dict, node: str) -> str:
    return link["b"][0] if link["a"][0] == node else link["a"][0]


def _spread(busy: list[float], t0: float, t1: float, width: float, bins: int) -> None:
    k = int(t0 / width)
    while t0 < t1 and k < bins:
        edge = (k + 1) * width
        busy[k] += min(t1, edge) - t0
        t0, k = edge, k + 1


def draw_links(ax_util, ax_queue, trace: Trace, bins: int = 200) -> None:
    start, width, utilisation, queues = link_series(trace, bins)
    # Busiest first, so a legend cut short keeps the links that matter.
    for name, values in sorted(utilisation.items(), key=lambda item: (-sum(item[1]), item[0])):
        if max(values) > 0:
            ax_util.plot([start + width * (k + 0.5) for k in range(len(values))],
                         [100 * v for v in values], lw=1.2, label=name)
    ax_util.set_ylabel("utilisation (%)")
    # The whole 0–100 % where a link came near its rate (an idle stretch should look
    # idle); an application's few messages on fast links would be a flat line at 0 on
    # that scale, so below 10 % the axis is zoomed and the title says so.
    peak = 100 * max((max(v) for v in utilisation.values() if v), default=0.0)
    zoomed = 0 < peak < 10
    ax_util.set_ylim(0, peak * 1.25 if zoomed else 105.0)
    ax_util.set_title(f"Link utilisation per direction, % of the link rate "
                      f"({width * 1000:.3g} ms bins"
                      + (f"; axis zoomed: the busiest reached {peak:.2g} %)" if zoomed else ")"))
    ax_util.grid(alpha=0.3)
    _legend_beside(ax_util)
    queued = {name: steps for name, steps in queues.items() if any(q for _, q in steps)}
    for name, steps in sorted(queued.items(), key=lambda item: (-max(q for _, q in item[1]),
                                                                  item[0])):
        xs = [start] + [t for t, _ in steps]
        ys = [0] + [q for _, q in steps]
        ax_queue.step(xs, ys, where="post", lw=1.2, label=name)
    ax_queue.set_ylabel("queue (packets)")
    ax_queue.set_title("Frames waiting to be sent")
    ax_queue.grid(alpha=0.3)
    if not queued:
        ax_queue.text(0.5, 0.5, "nothing queued: every frame found its link free", ha="center",
                      va="center", transform=ax_queue.transAxes, color="#666666", style="italic")
        ax_queue.set_yticks([])
    _legend_beside(ax_queue)


def link_plot(trace: Trace, bins: int = 200):
    fig, (ax_util, ax_queue) = _figure(2)
    draw_links(ax_util, ax_queue, trace, bins)
    ax_queue.set_xlabel("simulated time (s)")
    return fig


# -- throughput ------------------------------------------------------------------------------------

def throughput_series(trace: Trace, bins: int = 100):
    """Per receiving host: transport payload delivered per bin, in bit/s."""
    kinds = {n: v.get("kind") for n, v in trace.meta.get("nodes", {}).items()}
    owners = address_owners(trace)          # addresses DHCP or RARP gave included
    start, end = time_window(trace)
    width = (end - start) / bins
    series: dict[str, list[float]] = defaultdict(lambda: [0.0] * bins)
    # A datagram the host took in and then refused (no listener: a traceroute probe's
    # port unreachable) delivered nothing to an application.
    refused = {(trace.ports[port].node, frame) for _t, kind, port, frame, _r in trace.raw()
               if kind == DROP}
    for t, kind, port, frame, _reason in trace.raw():
        node = trace.ports[port].node
        if kind != RX or kinds.get(node) != "host" or (node, frame) in refused:
            continue
        data = trace.frame_bytes(frame)
        # By the IP protocol number: the description names the application (DNS, SMTP, …).
        if len(data) < 34 or data[12:14] != b"\x08\x00" or data[23] not in (6, 17):
            continue
        if owners.get(trace.describe(frame).dst) != node:
            continue
        hlen = (data[14] & 0xF) * 4
        total = int.from_bytes(data[16:18], "big")
        l4 = total - hlen
        payload = l4 - (8 if data[23] == 17 else (data[14 + hlen + 12] >> 4) * 4)
        series[node][min(bins - 1, int((t - start) / width))] += payload * 8 / width
    return start, width, dict(series)


def draw_throughput(ax, trace: Trace, bins: int = 100) -> None:
    start, width, series = throughput_series(trace, bins)
    series = {node: values for node, values in series.items() if max(values) > 0}
    for node, values in sorted(series.items(), key=lambda item: (-sum(item[1]), item[0])):
        ax.plot([start + width * (k + 0.5) for k in range(bins)], [v / 1e6 for v in values],
                lw=1.3, label=f"into {node}")
    ax.set_ylabel("goodput (Mbit/s)")
    ax.set_title(f"Transport payload delivered to applications ({width * 1000:.3g} ms bins)")
    ax.grid(alpha=0.3)
    if not series:
        ax.text(0.5, 0.5, "no TCP or UDP payload reached an application", ha="center",
                va="center", transform=ax.transAxes, color="#666666", style="italic")
    _legend_beside(ax)


def throughput_plot(trace: Trace, bins: int = 100):
    fig, (ax,) = _figure(1)
    draw_throughput(ax, trace, bins)
    ax.set_xlabel("simulated time (s)")
    return fig


def timeline_figure(trace: Trace):
    """Frames per node, link utilisation, queues and goodput, one above the other."""
    nodes = len(trace.meta.get("nodes", {})) or 1
    from matplotlib.figure import Figure
    height = 2.2 + 0.3 * nodes + 7.2
    fig = show(Figure(figsize=(11, height)))
    axes = fig.subplots(4, 1, sharex=True, height_ratios=[0.8 + 0.25 * nodes, 2, 1.6, 1.8])
    _margins(fig, 11, height, list(trace.meta.get("nodes", {})))
    draw_frames(axes[0], trace)
    draw_links(axes[1], axes[2], trace)
    draw_throughput(axes[3], trace)
    axes[3].set_xlabel("simulated time (s)")
    fig.suptitle(f"{trace.meta.get('name', 'run')}: what happened over time", fontsize=12)
    return fig


# -- TCP -----------------------------------------------------------------------------------------

def tcp_connections(trace: Trace) -> list[str]:
    """Connections with congestion-control records, most active first."""
    counts: dict[str, int] = defaultdict(int)
    for note in trace.notes:
        if note.what == "tcp-metrics":
            counts[f"{note.node} {note.detail['conn']}"] += 1
    return sorted(counts, key=lambda c: -counts[c])


def _spans(times: list[float], flags: list[bool], end: float) -> list[tuple[float, float]]:
    """The stretches of time where ``flags`` holds (a step function over ``times``)."""
    spans, begun = [], None
    for t, flag in zip(times, flags):
        if flag and begun is None:
            begun = t
        elif not flag and begun is not None:
            spans.append((begun, t))
            begun = None
    if begun is not None:
        spans.append((begun, end))
    return spans


def tcp_plot(trace: Trace, connection: str | None = None):
    """cwnd, ssthresh, the peer's receive window and bytes in flight; SRTT and RTO;
    retransmissions marked by cause; fast recovery shaded.

    ``connection`` is ``"node a:port>b:port"`` as :func:`tcp_connections` lists them;
    by default the busiest sender. Returns None when no TCP ran.
    """
    names = tcp_connections(trace)
    if not names:
        return None
    connection = connection or names[0]
    node, conn = connection.split(" ", 1)
    metrics = [n for n in trace.notes if n.what == "tcp-metrics" and n.node == node
               and n.detail["conn"] == conn]
    retransmits = [n for n in trace.notes if n.what == "tcp-retransmit" and n.node == node
                   and n.detail["conn"] == conn]
    fig, (ax_win, ax_rtt) = _figure(2, width=11.0, height_per_row=3.0)
    t = [n.time for n in metrics]
    end = t[-1] if t else 1.0
    cwnd = [n.detail["cwnd"] / 1000 for n in metrics]
    flight = [n.detail["flight"] / 1000 for n in metrics]
    ssthresh = [n.detail["ssthresh"] / 1000 for n in metrics]
    rwnd = [n.detail.get("snd_wnd", 0) / 1000 for n in metrics]
    # Scaled to what the sender's own window does: the receiver's window is often far
    # larger (Linux advertises hundreds of kB), and scaled to it cwnd would be a flat line.
    top = max(cwnd + flight, default=1) * 1.25 or 1
    for phase, text in (("fast-recovery", "fast recovery: cwnd inflated\nby duplicate ACKs (RFC 6582)"),
                        ("sack-recovery", "SACK recovery: holes resent\nas the pipe allows (RFC 6675)")):
        recovery = _spans(t, [n.detail.get("phase") == phase for n in metrics], end)
        for k, (a, b) in enumerate(recovery):
            ax_win.axvspan(a, b, color="#9467bd", alpha=0.12, lw=0, label=text if k == 0 else None)
    ax_win.fill_between(t, flight, step="post", color="#2ca02c", alpha=0.25, lw=0,
                        label="bytes in flight")
    ax_win.step(t, cwnd, where="post", lw=1.8, label="cwnd (congestion window)", color="#1f77b4")
    ax_win.step(t, [min(s, top * 2) for s in ssthresh], where="post", lw=1.2, ls="--",
                label="ssthresh", color="#ff7f0e")
    if any(rwnd):
        above = max(rwnd) > top
        ax_win.step(t, [min(r, top * 2) for r in rwnd], where="post", lw=1.2, ls=":",
                    color="#8c564b", label="rwnd (window the receiver advertised)"
                    + (f"\n  off the top, up to {max(rwnd):,.0f} kB" if above else ""))
    markers = {"timeout": ("v", "#d62728"), "fast-retransmit": ("^", "#9467bd"),
               "partial-ack": (".", "#8c564b"), "syn-timeout": ("v", "#d62728")}
    for cause, (marker, color) in markers.items():
        at = [n.time for n in retransmits if n.detail["cause"] == cause]
        if at:
            ax_win.scatter(at, [top * 0.93] * len(at), marker=marker, color=color, s=30, zorder=3,
                           label=f"{cause} retransmission ({len(at)})")
    ax_win.set_ylim(0, top)
    ax_win.set_ylabel("kB")
    ax_win.set_title(f"TCP {conn} on {node}: what limits the sender")
    ax_win.grid(alpha=0.3)
    _legend_beside(ax_win)
    srtt = [(n.time, n.detail["srtt"] * 1000) for n in metrics if n.detail["srtt"] is not None]
    if srtt:
        ax_rtt.plot(*zip(*srtt), lw=1.3, label="SRTT")
    ax_rtt.step(t, [n.detail["rto"] * 1000 for n in metrics], where="post", lw=1.0, ls="--",
                label="RTO", color="#d62728")
    ax_rtt.set_ylabel("ms")
    ax_rtt.set_xlabel("simulated time (s)")
    ax_rtt.set_title("Round-trip time estimate and retransmission timeout (RFC 6298)")
    ax_rtt.grid(alpha=0.3)
    _legend_beside(ax_rtt)
    if t:
        margin = 0.02 * (end - t[0]) or 0.01
        ax_rtt.set_xlim(t[0] - margin, end + margin)
    return fig
