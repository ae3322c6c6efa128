"""Sequence diagrams: lanes are endpoints, arrows are messages, crosses are losses.

One :class:`SequenceDiagram` renders four ways: ``figure()`` (matplotlib, saved as
SVG or PNG), ``mermaid()`` (``sequenceDiagram``, rendered by code-hosting sites),
``plantuml()``, and itself in Jupyter. Rows follow cause and effect (see
:mod:`netsim.viz.layout`): an arrow leaves its sender at the row it was sent and
lands at the row it arrived, so a reply is never above its request nor a frame
released by ARP above the ARP reply that released it. Time runs down the page,
compressed (the default) or to scale (``scale="time"``). The time beside an arrow
is when it was *sent*; every diagram has a legend of its colours.

A long run is cut to its story (:mod:`netsim.viz.story`): beginning, end, and what
happened around every loss, retransmission and window change, with marks saying
what was left out.
"""

from __future__ import annotations

from pathlib import Path

from netsim.viz.colors import (COLORS, DROP_COLOR, KIND_COLORS, KIND_NAMES, PROTOCOL_COLORS,
                               color_of)
from netsim.viz.layout import Layout, layout
from netsim.viz.messages import AFTER_WINDOW, Message, messages as collect, within_window
from netsim.viz.story import select

__all__ = ["COLORS", "DROP_COLOR", "SequenceDiagram", "lane_order", "sequence_diagram"]

TIME_HEADER = "sent at"


def lane_order(found: list[Message], meta: dict | None = None) -> list[str]:
    """Lanes left to right: whoever speaks first — the client, when the first word is a
    server's greeting — then the others by how many hops away from it they are (so a
    path reads along the page), ties by first appearance."""
    lanes: list[str] = []
    for m in found:
        ends = _lanes_of(m)
        if not lanes and m.sport and m.dport and m.sport < m.dport:
            # The first thing said came from a server (FTP's 220, SMTP's greeting): its
            # well-known port is the lower one. The client, who opened the connection, is
            # the one a reader starts from, on the left.
            ends = (m.dst, m.src, *ends[2:])
        for lane in ends:
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


def _lanes_of(m: Message) -> tuple:
    """The lanes a message needs: its ends, and the node where it died (a cross is drawn
    on that node's lane, unless it was lost on a wire, between two nodes)."""
    died = (m.drop_node,) if m.dropped and m.drop_node and m.dropped != "loss" else ()
    return (m.src, m.dst, *(r[0] for r in m.also), *died)


def time_decimals(times: list[float]) -> int:
    """Decimals of a second (3 to 9) that tell every two consecutive times apart."""
    ordered = sorted(set(times))
    for decimals in range(3, 10):
        if all(round(a, decimals) != round(b, decimals) for a, b in zip(ordered, ordered[1:])):
            return decimals
    return 9


class SequenceDiagram:
    def __init__(self, items: list, *, lanes: list[str] | None = None, title: str = "",
                 times: bool = True, scale: str = "compressed", total: int | None = None,
                 meta: dict | None = None) -> None:
        if scale not in ("compressed", "time"):
            raise ValueError("scale is 'compressed' or 'time'")
        #: Messages and :class:`~netsim.viz.story.Elision` marks, in the order they were sent.
        self.items = items
        self.messages = [m for m in items if isinstance(m, Message)]
        self.lanes = lanes or lane_order(self.messages, meta)
        self.title = title
        self.times = times
        self.scale = scale
        #: How many messages there were before the story was chosen.
        self.total = len(self.messages) if total is None else total
        self._decimals = time_decimals([m.sent for m in self.messages])
        self._layout: Layout | None = None

    # -- text ----------------------------------------------------------------------------

    def time_text(self, t: float) -> str:
        """One unit (seconds) in every diagram, with as many decimals as tell rows apart."""
        return f"{t:.{self._decimals}f} s"

    def drop_text(self, m: Message, lane: str | None = None) -> str:
        where = f" at {m.drop_node}" if m.drop_node and m.drop_node != lane else ""
        return f"✗ {m.dropped}{where}"

    def text_of(self, m: Message) -> str:
        text = m.label
        if m.dropped:
            text += " " + self.drop_text(m, self.end_lane(m))
        elif m.beyond:
            text += f" ({m.beyond})"
        return f"{self.time_text(m.sent)} · {text}" if self.times else text

    def end_lane(self, m: Message) -> str:
        """The lane an arrow ends at: where it died when that node has a lane."""
        if (m.dropped or m.beyond) and m.drop_node in self.lanes and m.drop_node != m.src:
            return m.drop_node
        return m.dst

    @property
    def note(self) -> str | None:
        if self.total > len(self.messages):
            return (f"{len(self.messages)} of {self.total} messages shown; ⋯ marks those left "
                    "out (filter, or raise the limit, for more)")
        return None

    @property
    def layout(self) -> Layout:
        if self._layout is None:
            self._layout = layout(self.items, self.lanes, self.scale)
        return self._layout

    def _rows(self) -> list:
        """What the text formats draw, one line each, in the order of the picture's rows:
        marks, and arrows. A message that waited on a drawn lane (a router holding it for
        ARP) is split there, so the part after the wait comes after what it waited for."""
        rows = [(mk.y, 0, k, mk) for k, mk in enumerate(self.layout.marks)]
        for k, arrow in enumerate(self.layout.arrows):
            m = arrow.message
            start, t_start, y = m.src, m.sent, arrow.y_send
            # The drawn hops in the order they happened, as the layout placed them: a
            # packet caught in a routing loop passes the same router many times.
            passed = [hop for hop in m.hops if hop[0] in self.lanes]
            for (lane, y_in, y_out), (_node, _arrived, left) in zip(arrow.hops, passed):
                if y_out is not None and y_out > y_in:
                    rows.append((y, 1, k, (m, start, lane, t_start, False)))
                    start, t_start, y = lane, left if left is not None else t_start, y_out
            rows.append((y, 1, k, (m, start, None, t_start, True)))
        return [row[3] for row in sorted(rows, key=lambda r: r[:3])]

    def _text_rows(self):
        """(from lane, to lane, text, dropped, message) per line of a Mermaid or PlantUML
        diagram, or a mark; a broadcast's further receivers get ditto marks, not the label again."""
        for row in self._rows():
            if not isinstance(row, tuple):
                yield row
                continue
            m, start, to, t, last = row
            text = m.label if start == m.src else f"{m.label} (forwarded by {start})"
            if self.times:
                text = f"{self.time_text(t)} · {text}"
            if not last:
                yield (start, to, text, None, m)
                continue
            for k, (lane, _t, why) in enumerate(m.receivers):
                if k == 0:
                    end = self.end_lane(m)
                    tail = " " + self.drop_text(m, end) if m.dropped else \
                        f" ({m.beyond})" if m.beyond else ""
                    yield (start, end, text + tail, m.dropped, m)
                elif why == AFTER_WINDOW:
                    yield (start, lane, f"″ (same broadcast, {why})", None, m)
                else:
                    yield (start, lane, "″ (same broadcast)" + (f" ✗ {why}" if why else ""), why, m)

    def mermaid(self) -> str:
        ids = {lane: f"L{k}" for k, lane in enumerate(self.lanes)}
        span = f"{ids[self.lanes[0]]},{ids[self.lanes[-1]]}" if len(self.lanes) > 1 else \
            ids[self.lanes[0]] if self.lanes else ""
        lines = ["sequenceDiagram"]
        if self.title:
            lines.insert(0, f"---\ntitle: {_mermaid_escape(self.title)}\n---")
        lines += [f"    participant {ids[lane]} as {_mermaid_escape(lane)}" for lane in self.lanes]
        if self.times and span:
            lines.append(f"    Note over {span}: times are when each message was sent")
        for row in self._text_rows():
            if not isinstance(row, tuple):
                lines.append(f"    Note over {span}: {_mermaid_escape(row.text)}")
                continue
            start, end, text, dropped, _m = row
            arrow = "-x" if dropped else "->>"
            lines.append(f"    {ids[start]}{arrow}{ids[end]}: {_mermaid_escape(text)}")
        if self.note and span:
            lines.append(f"    Note over {span}: {_mermaid_escape(self.note)}")
        return "\n".join(lines) + "\n"

    def plantuml(self) -> str:
        ids = {lane: f"L{k}" for k, lane in enumerate(self.lanes)}
        lines = ["@startuml"]
        if self.title:
            lines.append(f"title {self.title}")
        lines += [f'participant "{lane}" as {ids[lane]}' for lane in self.lanes]
        if self.times:
            lines.append("note across : times are when each message was sent")
        for row in self._text_rows():
            if not isinstance(row, tuple):
                lines.append(f"... {row.text} ...")
                continue
            start, end, text, dropped, m = row
            color = color_of(m.protocol, m.kind)
            arrow = f"-[{color}]>" + ("x" if dropped else "")
            lines.append(f"{ids[start]} {arrow} {ids[end]} : {text}")
        if self.note:
            lines.append(f"note across : {self.note}")
        lines.append("@enduml")
        return "\n".join(lines) + "\n"

    # -- pictures --------------------------------------------------------------------------

    def legend(self) -> list[tuple[str, str]]:
        """(name, colour) for what this diagram shows, in a stable order."""
        entries = [(p, c) for p, c in PROTOCOL_COLORS.items()
                   if any(m.protocol == p and m.kind not in KIND_COLORS for m in self.messages)]
        seen = set()
        for kind, color in KIND_COLORS.items():
            name = KIND_NAMES[kind]
            if name not in seen and any(m.kind == kind for m in self.messages):
                seen.add(name)
                entries.append((name, color))
        if any(m.dropped for m in self.messages):
            entries.append(("✗ lost or refused", DROP_COLOR))
        return entries

    def canvas(self):
        """The picture as shapes (:class:`~netsim.viz.canvas.Canvas`), in inches: what
        :meth:`save` writes as SVG or PNG and :meth:`figure` draws with matplotlib."""
        from netsim.viz.canvas import Box, Canvas

        lay = self.layout
        n = max(1, len(self.lanes))
        longest = max((len(m.label) for m in self.messages), default=10)
        lane_gap = min(4.2, max(2.6 if n > 2 else 3.4, 0.068 * longest + 0.4))
        left = 1.25 if self.times else 0.6
        width = max(6.5, left + 0.6 + lane_gap * (n - 1) + 1.6)
        bottom = max(lay.bottom, 1.0)
        unit = 0.26                                 # inches per row unit
        height = min(300.0, 1.0 + unit * (bottom + 2.6))
        top, per_row = -2.9, height / (bottom + 0.3 + 2.9)
        canvas = Canvas(width, height)

        def y(row: float) -> float:                 # a row → inches from the top
            return (row - top) * per_row
        x_of = {lane: left + 0.6 + lane_gap * k for k, lane in enumerate(self.lanes)}
        for lane, x in x_of.items():
            canvas.line([(x, y(-0.9)), (x, y(bottom))], "#bbbbbb", 1.0,
                        dash=(3.7, 1.6), z=1)
            canvas.text((x, y(-1.25)), lane, 9, "black", ha="center", va="center",
                        bold=True, z=3, box=Box("round", 0.35, "#f2f2f2", "#555555"))
        if self.title:
            canvas.text((0.15, y(-2.55)), self.title, 10, "black", va="center", italic=True)
        self._draw_legend(canvas, y)
        if self.times:
            canvas.text((0.12, y(-0.55)), TIME_HEADER, 7, "#666666", va="center",
                        italic=True)
        for mark in lay.marks:
            self._draw_mark(canvas, y, mark, x_of)
        for arrow in lay.arrows:
            self._draw(canvas, y, arrow, x_of)
        if self.note:
            canvas.text((0.15, y(bottom)), self.note, 8, "#555555", va="center")
        return canvas

    def figure(self):
        """The picture as a matplotlib Figure (axes in inches, y downwards)."""
        return self.canvas().figure()

    def _draw_legend(self, canvas, y) -> None:
        x = 0.15
        for name, color in self.legend():
            canvas.text((x, y(-2.05)), "━ " + name if not name.startswith("✗") else name,
                        7.5, color, va="center")
            x += 0.075 * (len(name) + 3) + 0.25

    def _draw_mark(self, canvas, y, mark, x_of: dict) -> None:
        from netsim.viz.canvas import Box

        xs = list(x_of.values()) or [1.0]
        at = y(mark.y)
        if mark.kind == "jump":
            canvas.line([(min(xs) - 0.4, at), (max(xs) + 0.4, at)], "#999999", 0.8, dash=(1, 3), z=1)
            canvas.text((0.12, at), f"⋮ {mark.text}", 7, "#555555", va="center", italic=True,
                        box=Box("square", 0.1, "white"))
            return
        if mark.kind == "minor":
            # In the margin of times, where no arrow crosses.
            canvas.text((0.12, at), mark.text, 6.5, "#888888", va="center", italic=True)
            return
        canvas.line([(min(xs) - 0.4, at), (max(xs) + 0.4, at)], "#aaaaaa", 0.8, dash=(4, 3), z=1)
        canvas.text(((min(xs) + max(xs)) / 2, at), mark.text, 7.5, "#555555", ha="center",
                    va="center", italic=True, z=4, box=Box("round", 0.2, "#fafafa", "#cccccc"))

    def _draw(self, canvas, y, arrow, x_of: dict) -> None:
        from netsim.viz.canvas import Box

        m = arrow.message
        color = color_of(m.protocol, m.kind)
        x0, y0 = x_of[m.src], arrow.y_send
        if self.times:
            canvas.text((0.12, y(y0)), self.time_text(m.sent), 7, "#666666", va="center")
        path = [(x0, y0)]
        for lane, y_in, y_out in arrow.hops:
            path.append((x_of[lane], y_in))
            if y_out is not None:
                path.append((x_of[lane], y_out))
        heading = None
        for lane, y_end, why, reached in arrow.ends:
            xs, ys = path[-1]
            x_target = x_of[lane]
            if not reached:
                x_target = xs + 0.55 * (x_target - xs) if x_target != xs else xs + 0.8
            line = [(x, y(row)) for x, row in path + [(x_target, y_end)]]
            heading = heading if heading is not None else (line[1][0] - x0)
            # Still on its way when the window ended: its last stretch dotted, open-ended.
            solid = line[:-1] if why == AFTER_WINDOW else line
            if len(solid) > 1:
                # A connection's opening is a thin mark beside what was said over it.
                canvas.line(solid, color, 0.7 if m.kind == "open" else 1.3, cap="round", z=2,
                            **({"dash": (3.0, 2.0)} if m.kind == "open" else {}))
            if why is None:
                canvas.head(line[-1], line[-2], color, 1.3, z=2)
            elif why == AFTER_WINDOW:
                canvas.line(line[-2:], color, 1.3, dash=(1.5, 2.0), z=2)
                if m.beyond and lane in (m.dst, m.drop_node):
                    canvas.text((x_target + 0.15, y(y_end)), f"⋯ {m.beyond}", 7,
                                "#555555", va="center", italic=True, z=5,
                                box=Box("square", 0.05, "white", alpha=0.8))
            else:
                canvas.cross((x_target, y(y_end)), DROP_COLOR, size=9, width=2, z=4)
                where = lane if reached else None
                text = f"✗ {why}" + (f" at {m.drop_node}" if m.drop_node and m.drop_node != where
                                     and why == m.dropped else "")
                canvas.text((x_target + 0.15, y(y_end)), text, 7, DROP_COLOR, va="center",
                            z=5, box=Box("square", 0.05, "white", alpha=0.8))
        rightward = (heading or 1.0) >= 0
        label_x = x0 + (0.12 if rightward else -0.12)
        canvas.text((label_x, y(arrow.label_y)), m.label, 8, color,
                    ha="left" if rightward else "right", va="bottom", z=5,
                    box=Box("square", 0.05, "white", alpha=0.85))
        if arrow.label_y > y0 - 0.1:                # moved down to make room: point back
            canvas.line([(x0, y(y0)), (label_x, y(arrow.label_y))], color, 0.5,
                        alpha=0.6, cap="projecting", z=2)

    def save(self, path: str | Path, figure=None) -> Path:
        """Write by suffix: ``.svg``/``.png`` (picture), ``.mmd`` (Mermaid), ``.puml`` (PlantUML),
        ``.pdf`` (through matplotlib). ``figure``: a :meth:`canvas` (or a matplotlib
        figure) already drawn, to save it again in another format."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".mmd":
            path.write_text(self.mermaid(), encoding="utf-8")
        elif suffix in (".puml", ".plantuml"):
            path.write_text(self.plantuml(), encoding="utf-8")
        elif suffix in (".svg", ".png", ".pdf"):
            from netsim.viz.canvas import Canvas
            drawn = figure or self.canvas()
            if isinstance(drawn, Canvas) and suffix == ".svg":
                path.write_text(drawn.svg(), encoding="utf-8")
            elif isinstance(drawn, Canvas) and suffix == ".png":
                # 90 dpi keeps 8-point labels legible; the SVG is there for print.
                path.write_bytes(drawn.png(dpi=90))
            else:
                from netsim.viz.render import save_figure
                save_figure(drawn.figure() if isinstance(drawn, Canvas) else drawn, path, dpi=90)
        else:
            raise ValueError(f"unknown diagram format {suffix!r} (svg, png, mmd, puml)")
        return path

    def _repr_svg_(self) -> str:
        return self.canvas().svg()

    def _repr_png_(self) -> bytes:
        return self.canvas().png(dpi=90)

    def __len__(self) -> int:
        return len(self.messages)


def sequence_diagram(trace, *, level: str = "end-to-end", ports: bool = False, protocols=None,
                     nodes=None, flow: str | None = None, start: float | None = None,
                     end: float | None = None, limit: int | None = None, times: bool = True,
                     scale: str = "compressed", title: str | None = None,
                     headers=()) -> SequenceDiagram:
    """The sequence diagram of a trace; see :func:`netsim.viz.messages.messages` for filters.
    ``limit``: at most this many messages, chosen to tell the story (see :mod:`netsim.viz.story`)."""
    everything = collect(trace, level=level, ports=ports, headers=headers)
    filtered = any(x is not None for x in (protocols, nodes, flow, start, end))
    found = collect(trace, level=level, ports=ports, protocols=protocols, nodes=nodes, flow=flow,
                    start=start, end=end, headers=headers) if filtered else everything
    total = len(found)
    if end is not None:
        found = [within_window(m, end) for m in found]
    items: list = select(found, limit) if limit is not None else list(found)
    shown = [m for m in items if isinstance(m, Message)]
    # Lanes in the order the whole run introduced them, so a window cut from the middle
    # of an exchange still has the client on the left.
    present = {lane for m in shown for lane in _lanes_of(m)}
    lanes = [lane for lane in lane_order(everything, trace.meta) if lane in present]
    lanes += [lane for lane in lane_order(shown, trace.meta) if lane not in lanes]
    name = trace.meta.get("name", "")
    return SequenceDiagram(items, lanes=lanes, title=name if title is None else title, times=times,
                           scale=scale, total=total, meta=trace.meta)


def _mermaid_escape(text: str) -> str:
    # Mermaid ends a message at ';' and reads '#…;' as an entity: write both as entities.
    return "".join({"#": "#35;", ";": "#59;"}.get(c, c) for c in text)
