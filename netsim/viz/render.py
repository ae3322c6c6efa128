"""Saving matplotlib figures the same way everywhere: byte-identical for the same run.

SVG keeps text as text (searchable, editable once pasted into a document) and has
no wall-clock date and no random ids (``svg.hashsalt``), PNG no timestamp; so two
runs of one scenario and seed write the same bytes. Figures also show themselves
in Jupyter through :class:`Picture` without ``%matplotlib``.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

_RC = {"svg.fonttype": "none", "svg.hashsalt": "netsim"}
PNG_DPI = 100


def _rc():
    import matplotlib
    return matplotlib.rc_context(_RC)


def save_figure(fig, path: Path, dpi: int = PNG_DPI) -> Path:
    suffix = path.suffix.lower()
    with _rc():
        if suffix == ".svg":
            fig.savefig(path, format="svg", metadata={"Date": None, "Creator": "netsim"})
        elif suffix == ".png":
            path.write_bytes(_png(fig, dpi))
        else:
            fig.savefig(path, dpi=dpi)
    return path


def svg_text(fig) -> str:
    out = io.StringIO()
    with _rc():
        fig.savefig(out, format="svg", metadata={"Date": None, "Creator": "netsim"})
    return out.getvalue()


def png_bytes(fig, dpi: int = 90) -> bytes:
    with _rc():
        return _png(fig, dpi)


def _png(fig, dpi: float) -> bytes:
    """Agg's pixels, written by :func:`netsim.viz.canvas.png_file` (Pillow's encoder
    takes twice as long for the same picture)."""
    import numpy as np

    from netsim.viz.canvas import png_file
    out = io.BytesIO()
    fig.savefig(out, format="rgba", dpi=dpi)
    width = int(fig.get_figwidth() * dpi)
    pixels = np.frombuffer(out.getbuffer(), np.uint8).reshape(-1, width, 4)
    return png_file(pixels[:, :, :3], dpi)


def show(fig):
    """A figure that displays itself in a notebook (as PNG), still a Figure otherwise."""
    fig.__class__ = _picture_class()
    return fig


@functools.cache
def _picture_class():
    # Defined on first use: matplotlib is imported only when a picture is made.
    from matplotlib.figure import Figure

    class Picture(Figure):
        """A matplotlib Figure that Jupyter shows as a picture, with no ``%matplotlib``."""

        def _repr_png_(self) -> bytes:
            return png_bytes(self, dpi=90)

        def __repr__(self) -> str:
            width, height = self.get_size_inches()
            return f"<netsim picture {width:g}×{height:g} in>"

    return Picture
