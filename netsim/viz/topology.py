"""The network drawn from the topology the trace recorded: kinds, addresses, link rates."""

from __future__ import annotations

import networkx as nx

from netsim.units import format_rate, format_time

# Box style and colour per kind (the legend shows the same colour in a marker).
_BOX = {"host": ("round", "#9ecae1"), "router": ("square", "#fdae6b"), "switch": ("sawtooth", "#a1d99b")}
_MARKER = {"host": "o", "router": "s", "switch": "D"}


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


def _addresses(meta: dict, notes) -> dict[str, list[str]]:
    """Node → its addresses: those it started with, then those it learned (RARP, DHCP)."""
    found: dict[str, list[str]] = {}
    for name, node in meta.get("nodes", {}).items():
        found[name] = [f"{iface}: {i['address']}" for iface, i in node.get("interfaces", {}).items()
                       if i.get("address")]
    for note in notes:
        if note.what == "address" and note.detail.get("address") and note.node in found:
            text = f"{note.detail.get('iface', '?')}: {note.detail['address']}"
            if text not in found[note.node]:
                found[note.node].append(text + " (learned)")
    return found


def topology_plot(trace_or_meta):
    """A figure of the network; accepts a :class:`~netsim.trace.Trace` or its ``meta``.

    Nodes are drawn as boxes big enough for their names (shape and colour by kind),
    addresses sit beside each node on the side away from its links, and link labels
    sit on their links in a box of their own, so nothing is written over anything.
    """
    from matplotlib.figure import Figure
    from netsim.viz.render import show

    meta = getattr(trace_or_meta, "meta", trace_or_meta)
    notes = getattr(trace_or_meta, "notes", [])
    graph = topology_graph(meta)
    pos = _layout(graph)
    xs = [p[0] for p in pos.values()] or [0]
    ys = [p[1] for p in pos.values()] or [0]
    chain = max(ys) == min(ys)
    span_x, span_y = (max(xs) - min(xs)) or 1, (max(ys) - min(ys)) or 1
    fig = show(Figure(figsize=(max(7, 2.6 * len(pos)) if chain else 10, 2.4 if chain else 8),
                      layout="constrained"))
    ax = fig.add_subplot()
    ax.axis("off")
    addresses = _addresses(meta, notes)
    for a, b, data in graph.edges(data=True):
        (x0, y0), (x1, y1) = pos[a], pos[b]
        ax.plot([x0, x1], [y0, y1], color="#777777", lw=1.5, zorder=1)
        text = f"{format_rate(data['rate'])}\n{format_time(data['delay'])}"
        if data.get("loss"):
            text += f", {data['loss'] * 100:g}% loss"
        # On the line, at its middle, in a box: it interrupts the line, never crosses text.
        ax.text((x0 + x1) / 2, (y0 + y1) / 2, text, fontsize=7, ha="center", va="center",
                color="#444444", zorder=2,
                bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="#cccccc", lw=0.6))
    for name, data in graph.nodes(data=True):
        shape, color = _BOX.get(data["kind"], ("round", "#dddddd"))
        x, y = pos[name]
        ax.text(x, y, name, ha="center", va="center", fontsize=9, fontweight="bold", zorder=4,
                bbox=dict(boxstyle=f"{shape},pad=0.5", fc=color, ec="#333333", lw=1.2))
        lines = addresses.get(name, [])
        if lines:
            # Below the node in a chain (links run sideways); elsewhere on the side facing
            # away from the middle of the drawing, where its links are not.
            if chain:
                ax.text(x, y - 0.13, "\n".join(lines), ha="center", va="top",
                        fontsize=7, color="#333333", zorder=4)
            else:
                cx, cy = sum(xs) / len(xs), sum(ys) / len(ys)
                dx, dy = x - cx, y - cy
                norm = (dx * dx + dy * dy) ** 0.5 or 1.0
                ox, oy = 0.09 * span_x * dx / norm, 0.09 * span_y * dy / norm
                ax.text(x + ox, y + oy - 0.05 * span_y * (dy < 0), "\n".join(lines),
                        ha="left" if dx >= 0 else "right", va="bottom" if dy >= 0 else "top",
                        fontsize=7, color="#333333", zorder=4)
    pad_x = 0.3 * span_x
    ax.set_xlim(min(xs) - pad_x, max(xs) + pad_x)
    if chain:
        ax.set_ylim(min(ys) - 0.42, max(ys) + 0.18)
    else:
        ax.set_ylim(min(ys) - 0.35 * span_y, max(ys) + 0.3 * span_y)
    ax.set_title(f"{meta.get('name', 'network')}: topology", fontsize=11)
    present = {data["kind"] for _n, data in graph.nodes(data=True)}
    for kind, (shape, color) in _BOX.items():
        if kind in present:
            ax.scatter([], [], marker=_MARKER[kind], color=color, edgecolors="#333333", s=80,
                       label=kind)
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    return fig
