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


def test_forward_streams_and_prints_its_peak_memory(tmp_path):
    lines = run("forward.py", "--frames", "3000", "--stream", "--jsonl", "--out", str(tmp_path))
    assert re.fullmatch(r"frames_per_s=\d+", lines[-1])
    assert any(re.fullmatch(r"peak_rss_mb=\d+", line) for line in lines)
    assert sorted(p.name for p in (tmp_path / "pcap").iterdir()) == ["r1-dst.pcap", "src-r1.pcap"]
    assert (tmp_path / "trace.jsonl").stat().st_size > 3000 * 100


def test_tcp_bulk_prints_segments_per_second_last():
    lines = run("tcp_bulk.py", "--size", "300KB")
    assert re.fullmatch(r"segments_per_s=\d+", lines[-1])
    assert "bytes=300000 " in lines[0]
    untraced = run("tcp_bulk.py", "--size", "300KB", "--no-trace")
    assert "trace=off" in untraced[0] and re.fullmatch(r"segments_per_s=\d+", untraced[-1])


def test_scale_builds_routes_and_pings_and_prints_its_figures():
    lines = run("scale.py", "--routers", "6", "--hosts", "3", "--seconds", "2")
    assert lines[0].startswith("nodes=") and "largest_routing_table=" in lines[0]
    sent, received = re.search(r"pings_sent=(\d+) received=(\d+)", lines[1]).groups()
    assert sent == received == str(6 * 3 * 2)
    assert [line.split("=")[0] for line in lines[2:]] == ["build_s", "run_s", "peak_rss_mb"]
    assert re.search(r" routes_s=[\d.]+$", lines[2])


def test_scale_builds_only_when_asked_and_prints_the_route_time():
    lines = run("scale.py", "--routers", "12", "--hosts", "1", "--build-only")
    assert lines[0].startswith("routers=12 nodes=") and "largest_routing_table=" in lines[0]
    assert re.fullmatch(r"build_s=[\d.]+ routes_s=[\d.]+", lines[1]) and len(lines) == 2


def test_sequence_diagram_prints_its_drawing_time():
    lines = run("sequence_diagram.py", "--runs", "1")
    assert lines[0].startswith("scenario=router-chain messages=60 files=4 first_s=")
    assert re.fullmatch(r"median_s=[\d.]+", lines[-1])


def test_tcp_flows_prints_the_set_up_cost_per_flow():
    lines = run("tcp_flows.py", "--flows", "5")
    assert lines[0].startswith("flows=5 size=1024 templates=")
    assert re.fullmatch(r"run_ms_per_flow=[\d.]+", lines[1])
    assert re.fullmatch(r"template_ms_per_flow=[\d.]+", lines[2])


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


def test_http_versions_prints_h2_and_h3_beside_http11():
    lines = run("http_versions.py", "--objects", "20")
    assert [line.split("=")[0] for line in lines[-3:]] == ["h2_requests_per_s", "h3_requests_per_s",
                                                           "requests_per_s"]
    assert all(re.fullmatch(r"[a-z0-9_]+=\d+", line) for line in lines[-3:])
    assert [line.split()[0] for line in lines[:3]] == ["version=1.1", "version=2", "version=3"]


def test_tls_prints_handshakes_per_second_and_what_a_handshake_adds():
    lines = run("tls.py", "--clients", "5")
    assert re.fullmatch(r"handshakes_per_s=\d+", lines[-1])
    assert re.fullmatch(r"handshakes_per_s_tls12=\d+", lines[-2])
    added = {line.split("_adds")[0]: float(re.search(r"simulated_ms_per_get=([\d.]+)", line).group(1))
             for line in lines if "_adds:" in line}
    # One round trip more for TLS 1.3 (4 ms on its path), two for TLS 1.2.
    assert 3.9 < added["tls13"] < 4.2 and 7.9 < added["tls12"] < 8.2


def _module(name):
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_capture_digests_runs_a_scenario_and_names_what_changed(tmp_path, capsys):
    digests = _module("capture_digests")
    files = digests.digests(ROOT / "scenarios" / "lan-ping.yaml")
    assert "trace.jsonl" in files and any(f.startswith("pcap/") for f in files)
    assert "(exit status)" not in files
    before = tmp_path / "before.txt"
    before.write_text("aaaa  lan-ping  pcap/a.pcap\nvaries  https  pcap/b.pcap\n"
                      "cccc  lan-ping  trace.jsonl\ndddd  gone  trace.jsonl\n")
    now = [("aaaa", "lan-ping", "pcap/a.pcap"), ("ffff", "https", "pcap/b.pcap"),
           ("eeee", "lan-ping", "trace.jsonl")]
    assert digests.compare(before, now) == 1
    out = capsys.readouterr().out
    assert "changed  lan-ping  trace.jsonl" in out and "missing  gone  trace.jsonl" in out
    assert "https" not in out                     # its ciphertext may vary from run to run
    assert "1 files byte-identical, 1 changed, 1 missing" in out
    assert digests.compare(before, now[:2] + [("cccc", "lan-ping", "trace.jsonl"),
                                              ("dddd", "gone", "trace.jsonl")]) == 0


def test_the_sitting_reads_every_figure_a_benchmark_prints():
    sitting = _module("sitting")
    figures = sitting.run([sys.executable, "-c", "print('frames=3 wall_s=0.25 goodput=9Mbit/s');"
                           "print('frames_per_s=12.5e3')"], "probe", echo=False)
    assert figures["frames"] == 3 and figures["wall_s"] == 0.25 and figures["frames_per_s"] == 12500
    assert "goodput" not in figures and figures["process_wall_s"] > 0
    as_json = sitting.run([sys.executable, "-c", "print('{\"pkts_per_s\": 5.0, \"N\": 2}')"],
                          "json", echo=False)
    assert as_json["pkts_per_s"] == 5.0 and as_json["N"] == 2
