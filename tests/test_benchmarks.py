"""The benchmark scripts run and print what the issues ask for (speed is not asserted:
it is measured by running them, never by a timed test)."""

import re
import subprocess
import sys

from tests.conftest import ROOT


def run(script, *args):
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args],
                         capture_output=True, text=True, check=True, timeout=300).stdout
    return out.strip().splitlines()


def test_forward_prints_frames_per_second_and_trace_memory():
    lines = run("forward.py", "--frames", "3000")
    assert re.fullmatch(r"frames_per_s=\d+", lines[-1])
    assert any(re.fullmatch(r"trace_bytes_per_frame=[\d.]+", line) for line in lines)
    assert "frames=3000 " in lines[0]


def test_tcp_bulk_prints_segments_per_second_last():
    lines = run("tcp_bulk.py", "--size", "300KB")
    assert re.fullmatch(r"segments_per_s=\d+", lines[-1])
    assert "bytes=300000 " in lines[0]


def test_small_run_prints_the_median_wall_time():
    lines = run("small_run.py", "--runs", "1")
    assert re.fullmatch(r"median_s=[\d.]+", lines[-1])
    assert "files=" in lines[0] and "scenario=router-chain" in lines[0]


def test_dns_prints_lookups_per_second_cold_and_cached():
    lines = run("dns_lookups.py", "--lookups", "50")
    assert re.fullmatch(r"case=cached lookups=50 lookups_per_s=\d+", lines[-1])
    assert lines[0].startswith("case=cold lookups=50 upstream=")


def test_http_prints_requests_per_second():
    lines = run("http_requests.py", "--requests", "50")
    assert re.fullmatch(r"requests_per_s=\d+", lines[-1])
    assert lines[0].startswith("requests=50 trace=on ")
