"""Every notebook runs from top to bottom without an error, and shows its pictures.

Notebooks run in a child process: a Jupyter kernel talks to its client over
loopback ZMQ, which this suite's guard against touching the network would
(rightly) refuse inside the test process itself. No notebook has a ``%matplotlib``
line: a cell whose value is a picture must display it by itself.
"""

import json
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

#: A cell whose last line calls one of these shows a picture.
PICTURES = re.compile(r"^\s*(\w+\s*=\s*)?.*\b(tcp_plot|timeline_figure|topology_plot|frame_timeline|"
                      r"link_plot|throughput_plot|sequence_diagram|waterfall|\.sequence)\(|^\s*diagram\s*$")

RUNNER = r"""
import json, sys, nbformat
from nbclient import NotebookClient
book = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(book, timeout=300, kernel_name="python3",
               resources={"metadata": {"path": sys.argv[2]}}).execute()
cells = []
for c in book.cells:
    if c.cell_type != "code":
        continue
    outputs = c.get("outputs", [])
    cells.append({"source": c.source,
                  "error": [o.get("ename") for o in outputs if o.get("output_type") == "error"],
                  "image": any("image/png" in o.get("data", {}) or "image/svg+xml" in o.get("data", {})
                               for o in outputs),
                  "text": [o.get("data", {}).get("text/plain", "") for o in outputs]})
print(json.dumps(cells))
"""


def run_notebook(notebook, folder) -> list[dict]:
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(notebook), str(folder)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_there_are_three_notebooks():
    assert len(NOTEBOOKS) >= 3


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_and_shows_its_pictures(notebook, tmp_path):
    assert "%matplotlib" not in notebook.read_text(encoding="utf-8")
    cells = run_notebook(notebook, tmp_path)
    assert not [c for c in cells if c["error"]], [c for c in cells if c["error"]]
    picture_cells = [c for c in cells if PICTURES.search(c["source"].strip().splitlines()[-1])]
    assert picture_cells, "each notebook draws at least one picture"
    for cell in picture_cells:
        assert cell["image"], f"no picture shown for: {cell['source']!r} (got {cell['text']})"
