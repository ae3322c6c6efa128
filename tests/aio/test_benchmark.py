"""benchmarks/aio.py runs and prints what issue 25 asks for (speed is measured by running
it, never asserted)."""

import re
import subprocess
import sys

from tests.conftest import ROOT


def test_aio_benchmark_prints_smtp_messages_per_second_last():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "aio.py"), "--messages", "3",
                          "--runs", "1"], capture_output=True, text=True, check=True,
                         timeout=300).stdout.strip().splitlines()
    assert re.fullmatch(r"smtp_messages_per_s=[\d.]+", out[-1])
    assert out[0].startswith("run=0 messages=3 ")
