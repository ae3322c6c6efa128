"""A picture as a list of shapes, written three ways: SVG as text, PNG with Pillow, and
onto matplotlib axes.

A sequence diagram is lines, arrowheads, crosses and boxed labels. Through matplotlib
each is an artist, its text laid out glyph by glyph twice (once to measure, once to
draw), and a 60-message diagram took half a second to save as PNG and a seventh of one
as SVG. Here the shapes are kept once, in inches from the top left, and

* :meth:`Canvas.svg` writes them as SVG elements (text stays text, as matplotlib's
  ``svg.fonttype: none`` kept it; same fonts, colours, dashes and line widths);
* :meth:`Canvas.png` draws them with Pillow: slanted shapes at three times the
  resolution and scaled down (so edges are smooth, as Agg's are), only in the tiles
  they pass through; lines along the axes by how much of each pixel they cover; text
  with FreeType at the size matplotlib uses;
* :meth:`Canvas.figure` draws them as matplotlib artists — one collection per kind
  of shape — for whoever wants to go on drawing on the figure.

Text is placed as matplotlib places it (a line box at least as tall as "lp", aligned
by that box), measured with the same DejaVu Sans matplotlib ships; texts are drawn
above shapes.
"""

from __future__ import annotations

import functools
import importlib.util
import math
from dataclasses import dataclass, field
from pathlib import Path

#: matplotlib's default sans-serif list, which its SVGs name too.
FONT_FAMILY = ("'DejaVu Sans', 'Bitstream Vera Sans', 'Computer Modern Sans Serif', "
               "'Lucida Grande', 'Verdana', 'Geneva', 'Lucid', 'Arial', 'Helvetica', "
               "'Avant Garde', sans-serif")
#: matplotlib's dash patterns (points, scaled by the line width as matplotlib scales them).
DASHED = (3.7, 1.6)
SUPERSAMPLE = 3
TILE = 64                       # PNG pixels a side of the tiles drawn finer


@dataclass
class Box:
    """A box behind a text: ``style`` "round" or "square", ``pad`` in font sizes."""
    style: str = "square"
    pad: float = 0.1
    fill: str = "white"
    edge: str | None = None
    alpha: float = 1.0
    line_width: float = 1.0     # points


@dataclass
class Line:
    points: list                # [(x, y), …] inches
    color: str
    width: float                # points
    dash: tuple | None = None   # (on, off) points
    cap: str = "butt"           # butt, round, projecting
    alpha: float = 1.0
    z: float = 2


@dataclass
class Head:
    """A filled arrowhead (matplotlib's ``-|>``): tip, the point it comes from."""
    tip: tuple
    tail: tuple
    color: str
    width: float                # outline, points
    length: float = 4.4         # points (head_length 0.4 × mutation_scale 11)
    half_width: float = 2.2     # points
    z: float = 2


@dataclass
class Cross:
    """matplotlib's ``x`` marker."""
    at: tuple
    color: str
    size: float = 9.0           # points
    width: float = 2.0
    z: float = 4


@dataclass
class Text:
    at: tuple
    text: str
    size: float                 # points
    color: str
    ha: str = "left"
    va: str = "baseline"
    bold: bool = False
    italic: bool = False
    box: Box | None = None
    z: float = 3


@dataclass
class Canvas:
    width: float                # inches
    height: float
    items: list = field(default_factory=list)

    def line(self, points, color, width, **options) -> None:
        self.items.append(Line(list(points), color, width, **options))

    def head(self, tip, tail, color, width, **options) -> None:
        self.items.append(Head(tip, tail, color, width, **options))

    def cross(self, at, color, **options) -> None:
        self.items.append(Cross(at, color, **options))

    def text(self, at, text, size, color, **options) -> None:
        self.items.append(Text(at, text, size, color, **options))

    def _ordered(self) -> list:
        """Shapes, then texts, each in z order (stable: the order drawn)."""
        shapes = [i for i in self.items if not isinstance(i, Text)]
        texts = [i for i in self.items if isinstance(i, Text)]
        return sorted(shapes, key=lambda i: i.z) + sorted(texts, key=lambda i: i.z)

    # -- SVG ---------------------------------------------------------------------------------

    def svg(self) -> str:
        """The picture as SVG text, in points (72 to the inch), as matplotlib sizes it."""
        w, h = self.width * 72, self.height * 72
        out = ['<?xml version="1.0" encoding="utf-8" standalone="no"?>',
               f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(w)}pt" height="{_n(h)}pt" '
               f'viewBox="0 0 {_n(w)} {_n(h)}" version="1.1">',
               ' <metadata><title>netsim</title></metadata>',
               ' <style type="text/css">*{stroke-linejoin: round; stroke-linecap: butt}</style>',
               f' <rect width="{_n(w)}" height="{_n(h)}" style="fill: #ffffff"/>']
        for item in self._ordered():
            out.append(_svg_of(item))
        out.append("</svg>")
        return "\n".join(out) + "\n"

    # -- PNG ---------------------------------------------------------------------------------

    def png(self, dpi: float = 90) -> bytes:
        import numpy as np
        from PIL import Image, ImageDraw

        width, height = int(self.width * dpi), int(self.height * dpi)
        pixels = np.full((height, width, 3), 255, np.uint8)
        ordered = self._ordered()
        shapes = [i for i in ordered if not isinstance(i, Text)]
        # Lanes and marks (lines along an axis, without round ends) are drawn with their
        # exact coverage of each pixel; every other shape in tiles drawn SUPERSAMPLE
        # times finer and scaled down, only where it passes: most of a tall diagram is
        # white, and supersampling it whole was most of the time.
        tiles: dict[tuple[int, int], list[int]] = {}
        for k, shape in enumerate(shapes):
            if _straight(shape):
                _cover(pixels, shape, dpi)
            else:
                for tile in _tiles_of(shape, dpi, width, height):
                    tiles.setdefault(tile, []).append(k)
        for k, shape in enumerate(shapes):          # under the rest, in the tiles they cross
            if _straight(shape):
                for tile in _tiles_of(shape, dpi, width, height):
                    if tile in tiles:
                        tiles[tile].append(k)
        scale = dpi * SUPERSAMPLE
        for (tx, ty), members in tiles.items():
            x0, y0 = tx * TILE, ty * TILE
            w, h = min(TILE, width - x0), min(TILE, height - y0)
            tile = Image.new("RGB", (w * SUPERSAMPLE, h * SUPERSAMPLE), "white")
            draw = ImageDraw.Draw(tile, "RGBA")
            for k in sorted(members):
                _draw_shape(draw, shapes[k], scale, x0 * SUPERSAMPLE, y0 * SUPERSAMPLE,
                            w * SUPERSAMPLE, h * SUPERSAMPLE)
            pixels[y0:y0 + h, x0:x0 + w] = np.asarray(tile.reduce(SUPERSAMPLE))
        image = Image.fromarray(pixels)
        draw = ImageDraw.Draw(image, "RGBA")
        for text in ordered[len(shapes):]:
            _draw_text(draw, text, dpi)
        return png_file(np.asarray(image), dpi)

    # -- matplotlib ----------------------------------------------------------------------------

    def figure(self):
        """A matplotlib Figure of the picture; its axes are in inches, y downwards."""
        from matplotlib.collections import LineCollection, PolyCollection
        from matplotlib.figure import Figure

        fig = Figure(figsize=(self.width, self.height))
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.set_xlim(0, self.width)
        ax.set_ylim(self.height, 0)
        ax.axis("off")
        groups: dict = {}
        heads: dict = {}
        for item in self.items:
            if isinstance(item, Line):
                key = (item.color, item.width, item.dash, item.cap, item.alpha, item.z)
                groups.setdefault(key, []).append(item.points)
            elif isinstance(item, Head):
                heads.setdefault((item.width, item.z), []).append(item)
            elif isinstance(item, Cross):
                ax.plot([item.at[0]], [item.at[1]], marker="x", color=item.color, ms=item.size,
                        mew=item.width, zorder=item.z, linestyle="none")
            else:
                ax.text(*item.at, item.text, fontsize=item.size, color=item.color, ha=item.ha,
                        va=item.va, fontweight="bold" if item.bold else "normal",
                        style="italic" if item.italic else "normal", zorder=item.z + 10,
                        bbox=_mpl_box(item.box))
        for (color, width, dash, cap, alpha, z), paths in groups.items():
            ax.add_collection(LineCollection(
                paths, colors=color, linewidths=width, alpha=alpha, zorder=z, capstyle=cap,
                linestyles=(0, dash) if dash else "solid"), autolim=False)
        for (width, z), items in heads.items():
            ax.add_collection(PolyCollection(
                [_head_points(h, 1 / 72) for h in items], facecolors=[h.color for h in items],
                edgecolors=[h.color for h in items], linewidths=width, zorder=z,
                joinstyle="miter"), autolim=False)
        return fig


def png_file(pixels, dpi: float) -> bytes:
    """RGB pixels (rows × columns × 3 bytes) as a PNG file (RFC 2083): no row filter and
    zlib level 1 — on pictures mostly white, as small as Pillow's adaptive filters make
    them at level 1, in less than half its time. "Software: netsim", the dpi, no date."""
    import struct
    import zlib

    import numpy as np

    height, width = pixels.shape[:2]
    rows = np.zeros((height, width * 3 + 1), np.uint8)       # filter byte 0: none
    rows[:, 1:] = pixels.reshape(height, width * 3)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + \
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    per_metre = round(dpi / 0.0254)
    return b"".join([b"\x89PNG\r\n\x1a\n",
                     chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)),
                     chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
                     chunk(b"tEXt", b"Software\x00netsim"),
                     chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)),
                     chunk(b"IEND", b"")])


# -- geometry shared by the writers -----------------------------------------------------------------

def _head_points(head: Head, inch_per_point: float) -> list:
    (tx, ty), (sx, sy) = head.tip, head.tail
    dx, dy = tx - sx, ty - sy
    norm = math.hypot(dx, dy) or 1.0
    ux, uy = dx / norm, dy / norm
    length, half = head.length * inch_per_point, head.half_width * inch_per_point
    # Drawn back by its outline so the stroked tip ends on the point, as matplotlib's does.
    back = head.width * inch_per_point * 0.6
    tx, ty = tx - ux * back, ty - uy * back
    bx, by = tx - ux * length, ty - uy * length
    return [(bx - uy * half, by + ux * half), (tx, ty), (bx + uy * half, by - ux * half)]


@functools.cache
def _font(size_px: float, bold: bool, italic: bool):
    from PIL import ImageFont
    name = "DejaVuSans" + ("-Bold" if bold else "") + ("Oblique" if italic and bold else
                                                        "-Oblique" if italic else "")
    return ImageFont.truetype(str(_font_dir() / f"{name}.ttf"), size_px,
                              layout_engine=ImageFont.Layout.BASIC)


@functools.cache
def _font_dir() -> Path:
    # matplotlib's own copy of DejaVu Sans, found without importing matplotlib.
    spec = importlib.util.find_spec("matplotlib")
    return Path(spec.submodule_search_locations[0]) / "mpl-data" / "fonts" / "ttf"


@functools.cache
def _metrics(text: str, size_px: float, bold: bool, italic: bool,
             magnify: int = 1) -> tuple[float, float, float]:
    """(width, height, descent) of a line of text, as matplotlib sizes its line box:
    never shorter than "lp" (so lines of one size line up whatever their letters).
    Measured in whole pixels as Agg measures them, or ``magnify`` times finer (SVG
    positions, which matplotlib measures from outlines)."""
    font = _font(size_px * magnify, bold, italic)
    left, top, right, bottom = font.getbbox(text, anchor="ls") if text else (0, 0, 0, 0)
    _l, lp_top, _r, lp_bottom = font.getbbox("lp", anchor="ls")
    descent = max(bottom, lp_bottom)
    height = max(bottom - top, lp_bottom - lp_top)
    return font.getlength(text) / magnify, height / magnify, descent / magnify


def _placed(text: Text, px_per_inch: float, magnify: int = 1) -> tuple:
    """(left, baseline, width, top, height) in pixels, for ``px_per_inch``."""
    size_px = text.size * px_per_inch / 72
    width, height, descent = _metrics(text.text, size_px, text.bold, text.italic, magnify)
    x, y = text.at[0] * px_per_inch, text.at[1] * px_per_inch
    left = x - {"left": 0.0, "center": width / 2, "right": width}[text.ha]
    top = {"center": y - height / 2, "bottom": y - height, "top": y,
           "baseline": y - (height - descent)}[text.va]
    return left, top + height - descent, width, top, height


# -- SVG ------------------------------------------------------------------------------------------

def _n(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _path(points) -> str:
    return " ".join(("M" if k == 0 else "L") + f" {_n(x * 72)} {_n(y * 72)}"
                    for k, (x, y) in enumerate(points))


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _svg_of(item) -> str:
    if isinstance(item, Line):
        style = f"fill: none; stroke: {item.color}; stroke-width: {_n(item.width)}"
        if item.dash:
            on, off = (d * item.width for d in item.dash)
            style += f"; stroke-dasharray: {_n(on)},{_n(off)}"
        if item.cap != "butt":
            style += f"; stroke-linecap: {'square' if item.cap == 'projecting' else item.cap}"
        if item.alpha < 1:
            style += f"; stroke-opacity: {_n(item.alpha)}"
        return f' <path d="{_path(item.points)}" style="{style}"/>'
    if isinstance(item, Head):
        return (f' <path d="{_path(_head_points(item, 1 / 72))} z" style="fill: {item.color}; '
                f'stroke: {item.color}; stroke-width: {_n(item.width)}; stroke-linejoin: miter"/>')
    if isinstance(item, Cross):
        x, y, r = item.at[0] * 72, item.at[1] * 72, item.size / 2
        return (f' <path d="M {_n(x - r)} {_n(y - r)} L {_n(x + r)} {_n(y + r)} M {_n(x - r)} '
                f'{_n(y + r)} L {_n(x + r)} {_n(y - r)}" style="fill: none; stroke: {item.color}; '
                f'stroke-width: {_n(item.width)}"/>')
    left, baseline, width, top, height = _placed(item, 72, magnify=16)
    parts = []
    if item.box is not None:
        parts.append(_svg_box(item.box, item.size, left, top, width, height))
    anchor = {"left": ("start", left), "center": ("middle", left + width / 2),
              "right": ("end", left + width)}[item.ha]
    style = f"font-size: {_n(item.size)}px; font-family: {FONT_FAMILY}; text-anchor: {anchor[0]}"
    if item.bold:
        style += "; font-weight: 700"
    if item.italic:
        style += "; font-style: italic"
    parts.append(f' <text x="{_n(anchor[1])}" y="{_n(baseline)}" style="{style}; '
                 f'fill: {item.color}">{_esc(item.text)}</text>')
    return "\n".join(parts)


def _svg_box(box: Box, size: float, left: float, top: float, width: float, height: float) -> str:
    pad = box.pad * size
    x, y, w, h = left - pad, top - pad, width + 2 * pad, height + 2 * pad
    radius = f' rx="{_n(pad)}"' if box.style == "round" else ""
    style = f"fill: {box.fill}"
    if box.alpha < 1:
        style += f"; fill-opacity: {_n(box.alpha)}"
    style += f"; stroke: {box.edge}; stroke-width: {_n(box.line_width)}" if box.edge else "; stroke: none"
    return f' <rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}"{radius} style="{style}"/>'


# -- PNG ------------------------------------------------------------------------------------------

def _rgba(color: str, alpha: float = 1.0) -> tuple:
    from PIL import ImageColor
    r, g, b = ImageColor.getrgb(color)[:3]
    return (r, g, b, round(255 * alpha))


def _straight(shape) -> bool:
    """A line along the axes with square ends: one :func:`_cover` draws exactly."""
    return isinstance(shape, Line) and shape.cap != "round" and len(shape.points) == 2 and (
        shape.points[0][0] == shape.points[1][0] or shape.points[0][1] == shape.points[1][1])


def _cover(pixels, line: Line, dpi: float) -> None:
    """Blend an axis-aligned, perhaps dashed, line into ``pixels`` by how much of each
    pixel it covers (what drawing it finer and scaling down approximates)."""
    import numpy as np

    (xa, ya), (xb, yb) = ((x * dpi, y * dpi) for x, y in line.points)
    half = line.width * dpi / 72 / 2
    vertical = xa == xb
    start, end = (min(ya, yb), max(ya, yb)) if vertical else (min(xa, xb), max(xa, xb))
    across = xa if vertical else ya
    if line.cap == "projecting" and not line.dash:
        start, end = start - half, end + half
    rows, cols = pixels.shape[:2]
    along_size, across_size = (rows, cols) if vertical else (cols, rows)
    lo, hi = max(0, int(start)), min(along_size, int(math.ceil(end)))
    a_lo, a_hi = max(0, int(across - half)), min(across_size, int(math.ceil(across + half)))
    if lo >= hi or a_lo >= a_hi:
        return
    cells = np.arange(lo, hi + 1, dtype=np.float64)
    if line.dash:
        on, off = (d * line.width * dpi / 72 for d in line.dash)
        period = on + off

        def inked(t):                       # how much of [start, start + t] is a dash
            t = np.clip(t, 0.0, end - start)
            return np.floor(t / period) * on + np.minimum(np.mod(t, period), on)
        along = np.diff(inked(cells - start))
    else:
        along = np.diff(np.clip(cells, start, end))
    edges = np.arange(a_lo, a_hi + 1, dtype=np.float64)
    across_cover = np.diff(np.clip(edges, across - half, across + half))
    coverage = np.outer(along, across_cover) if vertical else np.outer(across_cover, along)
    alpha = (coverage * line.alpha)[..., None]
    region = (slice(lo, hi), slice(a_lo, a_hi)) if vertical else (slice(a_lo, a_hi), slice(lo, hi))
    color = np.array(_rgba(line.color)[:3], dtype=np.float64)
    pixels[region] = (pixels[region] * (1 - alpha) + color * alpha + 0.5).astype(np.uint8)


def _tiles_of(shape, dpi: float, width: int, height: int):
    """The tiles (column, row) a shape may ink, pixels of line width and cap around it."""
    pt = dpi / 72
    if isinstance(shape, Line):
        points = [(x * dpi, y * dpi) for x, y in shape.points]
        reach = shape.width * pt
    elif isinstance(shape, Head):
        points = [(x * dpi, y * dpi) for x, y in _head_points(shape, 1 / 72)]
        points.append(points[0])
        reach = shape.width * pt
    else:
        x, y = shape.at[0] * dpi, shape.at[1] * dpi
        r = (shape.size / 2 + shape.width) * pt
        points = [(x - r, y - r), (x + r, y + r)]
        reach = 0.0
    reach += 2.0
    columns, rows = (width - 1) // TILE, (height - 1) // TILE
    near = TILE / math.sqrt(2) + reach
    found = set()
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        c0, c1 = max(0, int((min(x0, x1) - reach) // TILE)), min(columns, int((max(x0, x1) + reach) // TILE))
        r0, r1 = max(0, int((min(y0, y1) - reach) // TILE)), min(rows, int((max(y0, y1) + reach) // TILE))
        dx, dy = x1 - x0, y1 - y0
        norm = math.hypot(dx, dy) or 1.0
        for c in range(c0, c1 + 1):
            for r in range(r0, r1 + 1):
                cx, cy = (c + 0.5) * TILE, (r + 0.5) * TILE
                if abs((cx - x0) * dy - (cy - y0) * dx) / norm <= near:
                    found.add((c, r))
    return found


def _draw_shape(draw, shape, scale: float, left: float, top: float, width: float,
                height: float) -> None:
    """One shape on a tile whose top left is (``left``, ``top``) at ``scale`` pixels per
    inch; dashes only where they fall on the tile."""
    pt = scale / 72

    def at(x, y):
        return (x * scale - left, y * scale - top)

    if isinstance(shape, Line):
        color = _rgba(shape.color, shape.alpha)
        points = [at(*p) for p in shape.points]
        width_px = shape.width * pt
        if shape.dash:
            on, off = (d * shape.width * pt for d in shape.dash)
            for a, b in zip(points, points[1:]):
                for piece in _dashes(a, b, on, off, width, height):
                    _segment(draw, *piece, width_px, color, "butt")
            return
        for a, b in zip(points, points[1:]):
            _segment(draw, a, b, width_px, color, shape.cap)
        if shape.cap == "round" or len(points) > 2:
            for p in points[1:-1] if shape.cap != "round" else points:
                _dot(draw, p, width_px / 2, color)
    elif isinstance(shape, Head):
        corners = [at(x, y) for x, y in _head_points(shape, 1 / 72)]
        color = _rgba(shape.color)
        draw.polygon(corners, fill=color)
        for a, b in zip(corners, corners[1:] + corners[:1]):
            _segment(draw, a, b, shape.width * pt, color, "butt")
        for p in corners:
            _dot(draw, p, shape.width * pt / 2, color)
    else:
        x, y = at(*shape.at)
        r = shape.size * pt / 2
        color = _rgba(shape.color)
        _segment(draw, (x - r, y - r), (x + r, y + r), shape.width * pt, color, "butt")
        _segment(draw, (x - r, y + r), (x + r, y - r), shape.width * pt, color, "butt")


def _segment(draw, a, b, width: float, color, cap: str) -> None:
    """A straight stroke as a polygon (exact widths, unlike integer line widths)."""
    (x0, y0), (x1, y1) = a, b
    dx, dy = x1 - x0, y1 - y0
    norm = math.hypot(dx, dy)
    if norm == 0:
        return
    ux, uy = dx / norm, dy / norm
    if cap == "projecting":
        x0, y0, x1, y1 = x0 - ux * width / 2, y0 - uy * width / 2, x1 + ux * width / 2, y1 + uy * width / 2
    nx, ny = -uy * width / 2, ux * width / 2
    draw.polygon([(x0 + nx, y0 + ny), (x1 + nx, y1 + ny), (x1 - nx, y1 - ny), (x0 - nx, y0 - ny)],
                 fill=color)
    if cap == "round":
        _dot(draw, (x0, y0), width / 2, color)
        _dot(draw, (x1, y1), width / 2, color)


def _dot(draw, p, r: float, color) -> None:
    draw.ellipse((p[0] - r, p[1] - r, p[0] + r, p[1] + r), fill=color)


def _dashes(a, b, on: float, off: float, width: float, height: float):
    """The dashes of the segment a→b (the pattern starting at a) that may fall on the
    area (0, 0)–(width, height)."""
    (x0, y0), (x1, y1) = a, b
    length = math.hypot(x1 - x0, y1 - y0)
    if length == 0:
        return
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    # Where along the segment the area begins and ends (the whole of it when slanted).
    lo, hi = 0.0, length
    if ux == 0:
        lo, hi = sorted(((-on - y0) / uy, (height + on - y0) / uy))
    elif uy == 0:
        lo, hi = sorted(((-on - x0) / ux, (width + on - x0) / ux))
    period = on + off
    s = max(0.0, math.floor(lo / period) * period)
    while s < min(length, hi):
        e = min(length, s + on)
        yield (x0 + ux * s, y0 + uy * s), (x0 + ux * e, y0 + uy * e)
        s += period


def _draw_text(draw, text: Text, dpi: float) -> None:
    left, baseline, width, top, height = _placed(text, dpi)
    size_px = text.size * dpi / 72
    box = text.box
    if box is not None:
        pad = box.pad * size_px
        rect = (left - pad, top - pad, left + width + pad, top + height + pad)
        fill = _rgba(box.fill, box.alpha)
        outline = _rgba(box.edge) if box.edge else None
        line = max(1, round(box.line_width * dpi / 72)) if box.edge else 0
        if box.style == "round":
            draw.rounded_rectangle(rect, radius=pad, fill=fill, outline=outline, width=line)
        else:
            draw.rectangle(rect, fill=fill, outline=outline, width=line)
    draw.text((left, baseline), text.text, font=_font(size_px, text.bold, text.italic),
              fill=_rgba(text.color), anchor="ls")


def _mpl_box(box: Box | None):
    if box is None:
        return None
    return dict(boxstyle=f"{box.style},pad={box.pad}", fc=box.fill, ec=box.edge or "none",
                alpha=box.alpha if box.alpha < 1 else None, lw=box.line_width)
