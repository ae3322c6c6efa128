"""Sequence diagrams: lanes are endpoints, arrows are messages, crosses are losses.

One :class:`SequenceDiagram` renders four ways: ``figure()`` (matplotlib, saved as
SVG or PNG), ``mermaid()`` (``sequenceDiagram``, rendered by code-hosting sites),
``plantuml()``, and itself in Jupyter. Time runs down the page, either compressed
(one step per message, the default: readable however bursty the run) or to scale
(``scale="time"``: arrow slopes show the delays). The simulated time of each
message is printed beside it.
"""

from __future__ import annotations

import io
from pathlib import Path

from netsim.viz.messages import Message, messages as collect

COLORS = {"ARP": "#7f7f7f", "RARP": "#9467bd", "ICMP": "#ff7f0e", "UDP": "#2ca02c",
          "TCP": "#1f77b4"}
DROP_COLOR = "#d62728"


def lane_order(found: list[Message], meta: dict | None = None) -> list[str]:
    """Lanes left to right: whoever speaks first, then the others by how many hops
    away from it they are (so a path reads along the page), ties by first appearance."""
    lanes: list[str] = []
    for m in found:
        for lane in (m.src, m.dst):
            if lane not in lanes:
                lanes.append(lane)
    if not lanes or not meta or not meta.get("links"):
        return lanes
    import networkx as nx
    graph = nx.Graph()
    for link in meta["links"].values():
        graph.add_edge(link["a"][0], link["b"][0])
    origin = lanes[0].split(":")[0]
    hops = nx.single_source_shortest_path_length(graph, origin) if origin in graph else {}
    return sorted(lanes, key=lambda lane: (hops.get(lane.split(":")[0], len(graph)),
                                           lanes.index(lane)))


class SequenceDiagram:
    def __init__(self, found: list[Message], *, lanes: list[str] | None = None, title: str = "",
                 times: bool = True, scale: str = "compressed", total: int | None = None,
                 meta: dict | None = None) -> None:
        if scale not in ("compressed", "time"):
            raise ValueError("scale is 'compressed' or 'time'")
        self.messages = found
        self.lanes = lanes or lane_order(found, meta)
        self.title = title
        self.times = times
        self.scale = scale
        #: How many messages there were before a limit cut the list.
        self.total = len(found) if total is None else total
        last = max((m.sent for m in found), default=0.0)
        self._time_unit = "ms" if last < 2.0 else "s"

    # -- text ----------------------------------------------------------------------------

    def time_text(self, t: float) -> str:
        return f"{t * 1000:.3f} ms" if self._time_unit == "ms" else f"{t:.3f} s"

    def text_of(self, m: Message) -> str:
        text = m.label
        if m.dropped:
            where = f" at {m.drop_node}" if m.drop_node and m.drop_node not in (m.dst,) else ""
            text += f" ✗ {m.dropped}{where}"
        return f"{self.time_text(m.sent)} · {text}" if self.times else text

    @property
    def note(self) -> str | None:
        if self.total > len(self.messages):
            return f"first {len(self.messages)} of {self.total} messages (filter or raise the limit for more)"
        return None

    def mermaid(self) -> str:
        ids = {lane: f"L{k}" for k, lane in enumerate(self.lanes)}
        lines = ["sequenceDiagram"]
        if self.title:
            lines.insert(0, f"---\ntitle: {_mermaid_escape(self.title)}\n---")
        lines += [f"    participant {ids[lane]} as {_mermaid_escape(lane)}" for lane in self.lanes]
        for m in self.messages:
            arrow = "-x" if m.dropped else "->>"
            lines.append(f"    {ids[m.src]}{arrow}{ids[m.dst]}: {_mermaid_escape(self.text_of(m))}")
        if self.note:
            lines.append(f"    Note over {ids[self.lanes[0]]}: {_mermaid_escape(self.note)}")
        return "\n".join(lines) + "\n"

    def plantuml(self) -> str:
        ids = {lane: f"L{k}" for k, lane in enumerate(self.lanes)}
        lines = ["@startuml"]
        if self.title:
            lines.append(f"title {self.title}")
        lines += [f'participant "{lane}" as {ids[lane]}' for lane in self.lanes]
        for m in self.messages:
            arrow = "->x" if m.dropped else "->"
            color = COLORS.get(m.protocol)
            colored = f"-[{color}]{arrow[1:]}" if color and not m.dropped else arrow
            lines.append(f"{ids[m.src]} {colored} {ids[m.dst]} : {self.text_of(m)}")
        if self.note:
            lines.append(f"note over {ids[self.lanes[0]]} : {self.note}")
        lines.append("@enduml")
        return "\n".join(lines) + "\n"

    # -- pictures --------------------------------------------------------------------------

    def figure(self):
        from matplotlib.figure import Figure

        n = max(1, len(self.lanes))
        lane_gap = 2.6 if n > 2 else 3.4
        width = max(6.0, 2.2 + lane_gap * (n - 1) + 1.6)
        rows = self._rows()
        height = min(60.0, max(3.0, 1.4 + 0.42 * (rows[-1][1] + 1 if rows else 1)))
        fig = Figure(figsize=(width, height))
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        x_of = {lane: 1.9 + lane_gap * k for k, lane in enumerate(self.lanes)}
        bottom = (rows[-1][1] + 1.2) if rows else 1.0
        ax.set_xlim(0, width)
        ax.set_ylim(bottom + 0.3, -1.9)
        ax.axis("off")
        for lane, x in x_of.items():
            ax.plot([x, x], [-0.9, bottom], color="#bbbbbb", lw=1, ls="--", zorder=1)
            ax.text(x, -1.15, lane, ha="center", va="center", fontsize=9, fontweight="bold",
                    bbox=dict(boxstyle="round,pad=0.35", fc="#f2f2f2", ec="#555555"), zorder=3)
        if self.title:
            ax.text(0.15, -1.7, self.title, ha="left", va="center", fontsize=10, style="italic")
        for m, (y0, y1) in zip(self.messages, rows):
            self._draw(ax, m, x_of, y0, y1)
        if self.note:
            ax.text(0.15, bottom + 0.1, self.note, fontsize=8, color="#555555", va="center")
        return fig

    def _rows(self) -> list[tuple[float, float]]:
        """(y where the arrow starts, y where it ends) per message, in row units."""
        if self.scale == "compressed":
            return [(float(k), k + 0.55) for k in range(len(self.messages))]
        if not self.messages:
            return []
        t0 = self.messages[0].sent
        span = max((m.received or m.sent) for m in self.messages) - t0 or 1.0
        per_row = span / max(8, len(self.messages))
        rows = []
        for m in self.messages:
            y0 = (m.sent - t0) / per_row
            y1 = ((m.received if m.received is not None else m.sent + 0.4 * per_row) - t0) / per_row
            rows.append((y0, max(y1, y0 + 0.15)))
        return rows

    def _draw(self, ax, m: Message, x_of: dict, y0: float, y1: float) -> None:
        color = COLORS.get(m.protocol, "#333333")
        x0, x1 = x_of[m.src], x_of[m.dst]
        if self.times:
            ax.text(0.12, y0, self.time_text(m.sent), fontsize=7, color="#666666", va="center")
        if m.src == m.dst:                       # a drop inside a node
            ax.plot([x0], [y0 + 0.2], marker="x", color=DROP_COLOR, ms=9, mew=2, zorder=4)
            ax.text(x0 + 0.12, y0 + 0.2, f"{m.label} ✗ {m.dropped}", fontsize=7.5, color=DROP_COLOR,
                    va="center")
            return
        if m.dropped:
            stop = x_of.get(m.drop_node) if m.drop_node in x_of and m.drop_node != m.src else None
            xe = stop if stop is not None else x0 + 0.55 * (x1 - x0)
            ye = y0 + (y1 - y0) * (xe - x0) / (x1 - x0)
            ax.annotate("", xy=(xe, ye), xytext=(x0, y0),
                        arrowprops=dict(arrowstyle="-", color=color, lw=1.3, ls="-"), zorder=2)
            ax.plot([xe], [ye], marker="x", color=DROP_COLOR, ms=9, mew=2, zorder=4)
            where = f" at {m.drop_node}" if m.drop_node and m.drop_node not in x_of else ""
            ax.text(xe, ye + 0.28, f"✗ {m.dropped}{where}", fontsize=7, color=DROP_COLOR,
                    ha="center", va="center")
        else:
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                        arrowprops=dict(arrowstyle="-|>", color=color, lw=1.3, mutation_scale=11),
                        zorder=2)
        xm = (x0 + x1) / 2 if not m.dropped else (x0 + xe) / 2
        ym = (y0 + y1) / 2 if not m.dropped else (y0 + ye) / 2
        ax.text(xm, ym - 0.2, m.label, fontsize=8, color=color, ha="center", va="bottom",
                bbox=dict(boxstyle="square,pad=0.05", fc="white", ec="none", alpha=0.85), zorder=3)

    def save(self, path: str | Path) -> Path:
        """Write by suffix: ``.svg``/``.png`` (picture), ``.mmd`` (Mermaid), ``.puml`` (PlantUML)."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".mmd":
            path.write_text(self.mermaid(), encoding="utf-8")
        elif suffix in (".puml", ".plantuml"):
            path.write_text(self.plantuml(), encoding="utf-8")
        elif suffix in (".svg", ".png", ".pdf"):
            import matplotlib
            # Text stays text in SVG: searchable, and editable once pasted into a document.
            with matplotlib.rc_context({"svg.fonttype": "none"}):
                self.figure().savefig(path, dpi=110 if suffix == ".png" else None)
        else:
            raise ValueError(f"unknown diagram format {suffix!r} (svg, png, mmd, puml)")
        return path

    def _repr_svg_(self) -> str:
        import matplotlib
        out = io.StringIO()
        with matplotlib.rc_context({"svg.fonttype": "none"}):
            self.figure().savefig(out, format="svg")
        return out.getvalue()

    def _repr_png_(self) -> bytes:
        out = io.BytesIO()
        self.figure().savefig(out, format="png", dpi=90)
        return out.getvalue()

    def __len__(self) -> int:
        return len(self.messages)


def sequence_diagram(trace, *, level: str = "end-to-end", ports: bool = False, protocols=None,
                     nodes=None, flow: str | None = None, start: float | None = None,
                     end: float | None = None, limit: int | None = None, times: bool = True,
                     scale: str = "compressed", title: str | None = None) -> SequenceDiagram:
    """The sequence diagram of a trace; see :func:`netsim.viz.messages.messages` for filters."""
    everything = collect(trace, level=level, ports=ports)
    found = collect(trace, level=level, ports=ports, protocols=protocols, nodes=nodes, flow=flow,
                    start=start, end=end)
    total = len(found)
    if limit is not None:
        found = found[:limit]
    # Lanes in the order the whole run introduced them, so a window cut from the middle
    # of an exchange still has the client on the left.
    present = {lane for m in found for lane in (m.src, m.dst)}
    lanes = [lane for lane in lane_order(everything, trace.meta) if lane in present]
    lanes += [lane for lane in lane_order(found, trace.meta) if lane not in lanes]
    name = trace.meta.get("name", "")
    return SequenceDiagram(found, lanes=lanes, title=name if title is None else title, times=times,
                           scale=scale, total=total, meta=trace.meta)


def _mermaid_escape(text: str) -> str:
    # Mermaid ends a message at ';' and reads '#…;' as an entity.
    return text.replace("#", "#35;").replace(";", "#59;")
