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
    if simple.number_of_nodes() > 3 and nx.is_connected(simple) and \
            simple.number_of_edges() == simple.number_of_nodes() - 1:
        return _radial_tree(simple)
    # Spring layout needs only numpy (kamada_kawai would pull in SciPy); seeded, so a
    # topology is drawn the same way every time.
    return nx.spring_layout(simple, seed=1, iterations=200)


def _radial_tree(tree: nx.Graph) -> dict:
    """A tree drawn from its centre outwards: each node on the ring of its depth, in the
    middle of the angle its leaves share, every leaf with an equal share — so the hosts
    round a switch fan out instead of piling up, as they do in a spring layout."""
    import math

    centre = min(nx.center(tree))
    children: dict = {n: [] for n in tree}
    depth = {centre: 0}
    order = list(nx.bfs_tree(tree, centre))
    for node in order[1:]:
        parent = min((p for p in tree.neighbors(node) if p in depth), key=lambda p: depth[p])
        depth[node] = depth[parent] + 1
        children[parent].append(node)
    leaves: list = []

    def walk(node):
        if not children[node]:
            leaves.append(node)
        for child in sorted(children[node]):
            walk(child)
    walk(centre)
    angle = {leaf: 2 * math.pi * k / len(leaves) for k, leaf in enumerate(leaves)}

    def place(node) -> float:
        if node not in angle:
            spans = [place(child) for child in sorted(children[node])]
            angle[node] = sum(spans) / len(spans)
        return angle[node]
    place(centre)
    # Leaves on the outer ring, however shallow: a host next to the core gets as much
    # room as one at the edge of the network.
    outer = max(depth.values())
    radius = {n: outer if not children[n] else depth[n] for n in tree}
    return {n: (0.0, 0.0) if n == centre else
            (radius[n] * math.cos(angle[n]), radius[n] * math.sin(angle[n])) for n in tree}


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
    edge_labels = []
    for a, b, data in graph.edges(data=True):
        (x0, y0), (x1, y1) = pos[a], pos[b]
        ax.plot([x0, x1], [y0, y1], color="#777777", lw=1.5, zorder=1)
        text = f"{format_rate(data['rate'])}\n{format_time(data['delay'])}"
        if data.get("loss"):
            text += f", {data['loss'] * 100:g}% loss"
        # On the line, in a box: it interrupts the line, never crosses text.
        label = ax.text((x0 + x1) / 2, (y0 + y1) / 2, text, fontsize=7, ha="center",
                        va="center", color="#444444", zorder=2,
                        bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="#cccccc", lw=0.6))
        edge_labels.append((label, (x0, y0), (x1, y1)))
    address_labels = []
    for name, data in graph.nodes(data=True):
        shape, color = _BOX.get(data["kind"], ("round", "#dddddd"))
        x, y = pos[name]
        ax.text(x, y, name, ha="center", va="center", fontsize=9, fontweight="bold", zorder=4,
                bbox=dict(boxstyle=f"{shape},pad=0.5", fc=color, ec="#333333", lw=1.2))
        lines = addresses.get(name, [])
        if lines:
            label = ax.text(x, y, "\n".join(lines), fontsize=7, color="#333333", zorder=4)
            address_labels.append((label, name))
    pad_x = 0.3 * span_x
    ax.set_xlim(min(xs) - pad_x, max(xs) + pad_x)
    if chain:
        ax.set_ylim(min(ys) - 0.42, max(ys) + 0.18)
    else:
        ax.set_ylim(min(ys) - 0.35 * span_y, max(ys) + 0.3 * span_y)
    _place_labels(fig, ax, pos, address_labels, edge_labels, chain)
    ax.set_title(f"{meta.get('name', 'network')}: topology", fontsize=11)
    present = {data["kind"] for _n, data in graph.nodes(data=True)}
    for kind, (shape, color) in _BOX.items():
        if kind in present:
            ax.scatter([], [], marker=_MARKER[kind], color=color, edgecolors="#333333", s=80,
                       label=kind)
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    return fig


def _place_labels(fig, ax, pos: dict, address_labels: list, edge_labels: list, chain: bool) -> None:
    """Move each address block and link label to the first place where it covers no
    other text, node or label: addresses round their node (below it first in a chain,
    else away from the middle of the drawing), link labels along their link."""
    import math

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    fixed = [t.get_window_extent(renderer).expanded(1.04, 1.1) for t in ax.texts
             if t.get_fontweight() == "bold"]                       # the node boxes
    placed: list = []

    def clear(box) -> bool:
        return not any(box.overlaps(other) for other in fixed + placed)

    for label, (x0, y0), (x1, y1) in edge_labels:
        for t in (0.5, 0.38, 0.62, 0.28, 0.72, 0.2, 0.8):
            label.set_position((x0 + (x1 - x0) * t, y0 + (y1 - y0) * t))
            box = label.get_window_extent(renderer)
            if clear(box):
                break
        placed.append(label.get_window_extent(renderer))
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    cx, cy = sum(xs) / len(xs), sum(ys) / len(ys)
    to_display, to_data = ax.transData.transform, ax.transData.inverted().transform
    for label, name in address_labels:
        x, y = pos[name]
        px, py = to_display((x, y))
        away = math.atan2(y - cy, x - cx) if (x, y) != (cx, cy) else -math.pi / 2
        first = -math.pi / 2 if chain else away
        # Candidate directions: the preferred one, then turning either way; distances
        # growing from just outside the node's box.
        turns = [0, 1, -1, 2, -2, 3, -3, 4]
        best = None
        for distance in (20, 30, 44, 62, 86, 114):
            for k in turns:
                angle = first + k * math.pi / 4
                dx, dy = math.cos(angle), math.sin(angle)
                label.set_horizontalalignment("left" if dx > 0.3 else "right" if dx < -0.3 else "center")
                label.set_verticalalignment("bottom" if dy > 0.3 else "top" if dy < -0.3 else "center")
                label.set_position(to_data((px + distance * dx * 1.6, py + distance * dy)))
                box = label.get_window_extent(renderer)
                if clear(box):
                    best = box
                    break
            if best is not None:
                break
        placed.append(best or label.get_window_extent(renderer))

