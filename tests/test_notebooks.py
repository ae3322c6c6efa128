"""Every notebook runs from top to bottom without an error.

Notebooks run in a child process: a Jupyter kernel talks to its client over
loopback ZMQ, which this suite's guard against touching the network would
(rightly) refuse inside the test process itself.
"""

import subprocess
import sys

import pytest

from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

RUNNER = r"""
import sys, nbformat
from nbclient import NotebookClient
book = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(book, timeout=300, kernel_name="python3",
               resources={"metadata": {"path": sys.argv[2]}}).execute()
errors = [o for c in book.cells if c.cell_type == "code" for o in c.get("outputs", [])
          if o.get("output_type") == "error"]
assert not errors, errors
images = sum(1 for c in book.cells if c.cell_type == "code" for o in c.get("outputs", [])
             if "image/png" in o.get("data", {}) or "image/svg+xml" in o.get("data", {}))
print("images", images)
"""


def test_there_are_three_notebooks():
    assert len(NOTEBOOKS) >= 3


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(notebook, tmp_path):
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(notebook), str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert int(proc.stdout.split()[-1]) >= 1          # it shows at least one picture
