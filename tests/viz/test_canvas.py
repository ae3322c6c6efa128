"""The picture writers of netsim.viz.canvas agree with matplotlib: the PNG drawn with
Pillow against Agg's drawing of the same shapes, the SVG's text where matplotlib put it,
and the PNG file itself readable and as asked."""

import io
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from netsim import load_scenario, run_scenario
from netsim.viz import sequence_diagram
from netsim.viz.canvas import Canvas, png_file
from netsim.viz.render import png_bytes, svg_text
from tests.conftest import SCENARIOS


@pytest.fixture(scope="module")
def chain():
    return sequence_diagram(run_scenario(load_scenario(SCENARIOS / "router-chain.yaml")).trace,
                            limit=60).canvas()


def grey(png: bytes):
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)


def blocks(pixels, k=8):
    h, w = pixels.shape[0] // k * k, pixels.shape[1] // k * k
    return pixels[:h, :w].reshape(h // k, k, w // k, k).mean(axis=(1, 3))


def test_the_png_looks_as_matplotlib_draws_the_same_shapes(chain):
    ours, agg = grey(chain.png(90)), grey(png_bytes(chain.figure(), 90))
    assert ours.shape == agg.shape == (int(chain.height * 90), int(chain.width * 90))
    difference = abs(blocks(ours) - blocks(agg))
    # Over 8×8-pixel blocks: what differs is antialiasing and a pixel here and there; a
    # label, arrowhead or cross drawn by one and not the other differs by far more.
    assert difference.mean() < 1.5 and difference.max() < 30
    assert abs((255 - ours).mean() - (255 - agg).mean()) < 0.1 * (255 - agg).mean()


def test_svg_text_sits_where_matplotlib_puts_it(chain):
    def texts(svg):
        root = ET.fromstring(svg)
        return sorted((t.text, round(float(t.get("x")), 1), float(t.get("y")),
                       re.search(r"text-anchor: (\w+)", t.get("style")).group(1))
                      for t in root.iter("{http://www.w3.org/2000/svg}text"))
    ours, theirs = texts(chain.svg()), texts(svg_text(chain.figure()))
    assert [t[0] for t in ours] == [t[0] for t in theirs] and len(ours) > 100
    for a, b in zip(ours, theirs):
        assert a[3] == b[3] and abs(a[1] - b[1]) < 0.5 and abs(a[2] - b[2]) < 0.5, (a, b)


def test_lines_along_the_axes_cover_what_their_width_and_dashes_say():
    canvas = Canvas(2.0, 2.0)
    canvas.line([(0.5, 0.2), (0.5, 1.8)], "black", 1.0)                  # 1.6 in solid
    canvas.line([(1.5, 0.2), (1.5, 1.8)], "black", 2.0, dash=(2.0, 2.0))  # half inked
    ink = 1 - grey(canvas.png(100)) / 255
    solid, dashed = ink[:, :100].sum(), ink[:, 100:].sum()
    assert solid == pytest.approx(160 * 100 / 72, rel=0.02)
    assert dashed == pytest.approx(160 * 200 / 72 / 2, rel=0.06)


def test_png_file_holds_the_pixels_dpi_and_no_date():
    pixels = np.random.default_rng(1).integers(0, 256, (7, 5, 3), dtype=np.uint8)
    data = png_file(pixels, 90)
    image = Image.open(io.BytesIO(data))
    assert image.mode == "RGB" and np.array_equal(np.asarray(image), pixels)
    assert round(image.info["dpi"][0]) == 90 and image.info["Software"] == "netsim"
    assert data == png_file(pixels.copy(), 90)
