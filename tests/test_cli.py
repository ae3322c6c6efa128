"""The CLI through its entry point (httpx's tests/test_main.py is the model)."""

import json
import subprocess
import sys
import time

import pytest

from netsim.cli import main


def test_run_prints_the_tools_output_and_writes_files(tmp_path, capsys):
    assert main(["run", "router-chain", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "traceroute to files (10.0.2.20), 30 hops max, 60 byte packets" in out
    assert " 3  r3 (10.255.0.6)" in out
    assert "--- files ping statistics ---" in out
    assert "drops:" in out and "ttl-expired 9" in out
    assert (tmp_path / "summary.json").exists() and (tmp_path / "pcap" / "r3-files.pcap").exists()


def test_seed_and_until_override(tmp_path, capsys):
    assert main(["run", "lan-ping", "-o", str(tmp_path), "--seed", "99", "--until", "1.2s", "-q"]) == 0
    assert capsys.readouterr().out == ""
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["seed"] == 99 and summary["end_time"] == 1.2


def test_bad_until_exits_2(tmp_path, capsys):
    assert main(["run", "lan-ping", "-o", str(tmp_path), "--until", "later"]) == 2
    assert "--until" in capsys.readouterr().err


def test_validate_list_schema(capsys):
    assert main(["validate", "rarp-boot"]) == 0
    assert "ok (3 nodes, 2 links, 2 apps)" in capsys.readouterr().out
    assert main(["list"]) == 0
    listing = capsys.readouterr().out
    for name in ("lan-ping", "router-chain", "rarp-boot", "bottleneck", "design-example"):
        assert name in listing
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["$schema"].endswith("2020-12/schema")
    assert "ping" in schema["$defs"]["app"]["properties"]["run"]["enum"]


def test_schema_validates_every_bundled_scenario():
    import jsonschema
    import yaml
    from netsim.scenario.schema import scenario_schema
    from tests.conftest import SCENARIOS
    for path in SCENARIOS.glob("*.yaml"):
        jsonschema.validate(yaml.safe_load(path.read_text()), scenario_schema())


def test_help_starts_without_the_heavy_imports():
    # Speed itself is measured in benchmarks/; here only what is imported is checked.
    code = "import sys, netsim.cli; sys.argv=['netsim','--help']; import contextlib, io\n" \
           "with contextlib.redirect_stdout(io.StringIO()):\n" \
           "    try: netsim.cli.main()\n" \
           "    except SystemExit: pass\n" \
           "print(sorted(m for m in ('scapy','simpy','networkx','matplotlib','yaml') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_run_writes_every_diagram_format_and_the_timelines(tmp_path, capsys):
    for name in ("router-chain", "tcp-lossy"):
        out = tmp_path / name
        assert main(["run", name, "-o", str(out), "-q"]) == 0
        for file in ("sequence.svg", "sequence.png", "sequence.mmd", "sequence.puml",
                     "timeline.png", "topology.png"):
            assert (out / file).stat().st_size > 500, (name, file)
        assert (out / "cwnd.png").exists() == (name == "tcp-lossy")
        assert (out / "sequence.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lossy = (tmp_path / "tcp-lossy" / "sequence.mmd").read_text()
    assert "-x" in lossy and "queue-full" in lossy and "(fast retransmission)" in lossy


def test_diagram_redraws_a_saved_run_with_a_filter(tmp_path, capsys):
    assert main(["run", "router-chain", "-o", str(tmp_path), "-q"]) == 0
    assert main(["diagram", str(tmp_path), "--filter", "icmp,from=7s", "--format", "mermaid"]) == 0
    assert "6 messages" in capsys.readouterr().out
    text = (tmp_path / "diagram.mmd").read_text()
    assert text.count("ICMP echo request") == 3 and "UDP" not in text and "ARP" not in text
    out = tmp_path / "arp.puml"
    assert main(["diagram", str(tmp_path), "--filter", "arp", "--level", "link",
                 "--format", "plantuml", "-o", str(out)]) == 0
    # Each router's and files' broadcast on its way out, then (about five seconds after
    # first using entries learned from requests) each one's unicast check of its asker.
    assert out.read_text().count("ARP who-has") == 8
    assert out.read_text().count(" (unicast)") == 4
    assert main(["diagram", str(tmp_path), "--filter", "gopher"]) == 2
    assert main(["diagram", str(tmp_path / "nowhere")]) == 2


def test_diagram_filters_websocket_apart_from_the_http_that_opened_it(tmp_path, capsys):
    """WebSocket is a protocol of the registry like any other: its word filters its
    frames, and HTTP's keeps the Upgrade handshake (and the poller's requests) without them."""
    assert main(["run", "websocket-vs-polling", "-o", str(tmp_path), "-q", "--outputs", "jsonl"]) == 0
    ws, http = tmp_path / "ws.mmd", tmp_path / "http.mmd"
    for word, out in (("websocket", ws), ("http", http)):
        assert main(["diagram", str(tmp_path), "--level", "app", "--filter", word,
                     "--format", "mermaid", "--limit", "500", "-o", str(out)]) == 0
    frames = [line for line in ws.read_text().splitlines() if "->>" in line or "-x" in line]
    # carol's wss:// frames too, drawn from what went into TLS and marked so.
    assert frames and all(" · WS " in line or " · [TLS] WS " in line for line in frames)
    assert any('WS text "hello"' in line for line in frames) and any("WS ping" in line for line in frames)
    assert any('[TLS] WS text "hello over TLS"' in line for line in frames)
    text = http.read_text()
    assert "GET /ticker HTTP/1.1" in text and "HTTP/1.1 101 Switching Protocols" in text
    assert "GET /latest HTTP/1.1" in text and " · WS " not in text


def test_diagram_help_lists_every_filter_word_of_the_protocol_registry(capsys):
    import netsim.proto  # noqa: F401
    from netsim.wire import registry
    with pytest.raises(SystemExit):
        main(["diagram", "--help"])
    text = " ".join(capsys.readouterr().out.split())      # argparse wraps the lines
    assert f"a protocol ({', '.join(registry.filter_words())})" in text
    assert "websocket" in registry.filter_words()


@pytest.mark.parametrize("app, message", [
    ("{node: a, run: dns-server}", "apps[0]: a dns-server needs zones"),
    ("{node: a, run: imap-client, server: a, user: u, password: p, actions: [open]}",
     "apps[0]: IMAP action 'open' needs its arguments"),
    ("{node: a, run: dhcp-server, pools: [{subnet: 10.0.0.0/24, range: [10.0.0.9, 10.0.1.9]}]}",
     "apps[0]: pool range address 10.0.1.9 is not in 10.0.0.0/24"),
])
def test_validate_refuses_what_run_would_refuse(tmp_path, capsys, app, message):
    path = tmp_path / "s.yaml"
    path.write_text(f"name: s\nnodes:\n  a: {{kind: host, ip: 10.0.0.1/24}}\napps:\n  - {app}\n")
    assert main(["validate", str(path)]) == 2
    assert message in capsys.readouterr().err
    assert main(["run", str(path), "-o", str(tmp_path / "out"), "-q"]) == 2


def test_netsim_apps_lists_the_keys_inside_a_mapping_and_ends_summaries_at_sentences(capsys):
    assert main(["apps", "http-server"]) == 0
    text = capsys.readouterr().out
    first = text.splitlines()[0]
    assert first.endswith("for the sites it is given.")
    for key in ("HOST:", "PATH:", "cache_control", "etag", "embeds", "one of 301, 302, 303, 307, 308"):
        assert key in text
