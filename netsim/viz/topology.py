"""The network drawn from the topology the trace recorded: kinds, addresses, link rates."""

from __future__ import annotations

import networkx as nx

from netsim.units import format_rate, format_time

_STYLE = {"host": ("o", "#9ecae1"), "router": ("s", "#fdae6b"), "switch": ("D", "#a1d99b")}


def topology_graph(meta: dict) -> nx.MultiGraph:
    graph = nx.MultiGraph()
    for name, node in meta.get("nodes", {}).items():
        graph.add_node(name, kind=node.get("kind", "host"), interfaces=node.get("interfaces", {}))
    for name, link in meta.get("links", {}).items():
        graph.add_edge(link["a"][0], link["b"][0], key=name, **link)
    return graph


def _layout(graph: nx.MultiGraph) -> dict:
    simple = nx.Graph(graph)
    degrees = [d for _, d in simple.degree()]
    if simple.number_of_nodes() > 1 and nx.is_connected(simple) and max(degrees) <= 2 and \
            simple.number_of_edges() == simple.number_of_nodes() - 1:
        # A chain reads best left to right.
        start = next(n for n, d in simple.degree() if d == 1)
        order = list(nx.dfs_preorder_nodes(simple, start))
        return {n: (k, 0.0) for k, n in enumerate(order)}
    # Spring layout needs only numpy (kamada_kawai would pull in SciPy); seeded, so a
    # topology is drawn the same way every time.
    return nx.spring_layout(simple, seed=1, iterations=200)


def topology_plot(trace_or_meta):
    """A figure of the network; accepts a :class:`~netsim.trace.Trace` or its ``meta``."""
    from matplotlib.figure import Figure

    meta = getattr(trace_or_meta, "meta", trace_or_meta)
    graph = topology_graph(meta)
    pos = _layout(graph)
    xs = [p[0] for p in pos.values()] or [0]
    ys = [p[1] for p in pos.values()] or [0]
    span_x, span_y = (max(xs) - min(xs)) or 1, (max(ys) - min(ys)) or 1
    fig = Figure(figsize=(max(6, 2.4 * len(pos) if max(ys) == min(ys) else 9),
                          3.2 if max(ys) == min(ys) else 7), layout="constrained")
    ax = fig.add_subplot()
    ax.axis("off")
    for a, b, data in graph.edges(data=True):
        (x0, y0), (x1, y1) = pos[a], pos[b]
        ax.plot([x0, x1], [y0, y1], color="#777777", lw=1.5, zorder=1)
        text = f"{format_rate(data['rate'])}, {format_time(data['delay'])}"
        if data.get("loss"):
            text += f", {data['loss'] * 100:g}% loss"
        ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.04 * span_y, text, fontsize=7.5, ha="center",
                va="bottom", color="#444444",
                bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.9), zorder=2)
    for name, data in graph.nodes(data=True):
        marker, color = _STYLE.get(data["kind"], ("o", "#dddddd"))
        x, y = pos[name]
        ax.scatter([x], [y], s=900, marker=marker, color=color, edgecolors="#333333", zorder=3)
        ax.text(x, y, name, ha="center", va="center", fontsize=8.5, fontweight="bold", zorder=4)
        addresses = [f"{iface}: {i['address']}" for iface, i in data["interfaces"].items()
                     if i.get("address")]
        if addresses:
            ax.text(x, y - 0.09 * span_y, "\n".join(addresses), ha="center", va="top", fontsize=7,
                    color="#333333", zorder=4)
    ax.set_xlim(min(xs) - 0.25 * span_x, max(xs) + 0.25 * span_x)
    ax.set_ylim(min(ys) - 0.45 * span_y, max(ys) + 0.25 * span_y)
    ax.set_title(f"{meta.get('name', 'network')}: topology", fontsize=11)
    for kind, (marker, color) in _STYLE.items():
        ax.scatter([], [], marker=marker, color=color, edgecolors="#333333", s=80, label=kind)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    return fig
