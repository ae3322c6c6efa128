"""What validates, runs; bad numbers, hostile YAML and bad paths are located errors.

Each case here was a traceback, a hang or a file written in the wrong place before."""

import textwrap
import time

import pytest

from netsim.cli import main
from netsim.errors import ScenarioError
from netsim.scenario import run_scenario
from netsim.scenario.loader import parse_scenario
from tests.conftest import two_hosts

BASE = """\
name: t
until: 5s
nodes:
  a: {kind: host, ip: 10.0.0.1/24, gateway: 10.0.0.254}
  r: {kind: router}
  b: {kind: host, ip: 10.0.1.2/24, gateway: 10.0.1.254}
  sw: {kind: switch}
links:
  - endpoints: [a, r]
  - endpoints: [r, sw]
  - endpoints: [sw, b]
"""


def scenario(extra: str = "", **replace) -> str:
    text = BASE
    for old, new in replace.items():
        text = text.replace(old, new)
    return text + textwrap.dedent(extra)


def error_of(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as error:
        parse_scenario(text)
    return error.value


@pytest.mark.parametrize("apps, where", [
    ("- {node: a, run: ping, target: b, interval: 0}", "apps[0].interval"),
    ("- {node: a, run: traceroute, target: b, wait: 0}", "apps[0].wait"),
    ("- {node: b, run: tcp-sink}\n  - {node: b, run: tcp-sink, port: 5001}", "apps[1].port"),
    ("- {node: b, run: udp-sink, port: 9}\n  - {node: b, run: udp-echo-server, port: 9}",
     "apps[1].port"),
    ("- {node: a, run: ping, target: sw}", "apps[0].target"),
])
def test_apps_that_used_to_crash_at_run_time_are_refused_where_written(apps, where):
    assert error_of(scenario(f"apps:\n  {apps}\n")).path == where


def test_two_sinks_on_different_ports_are_fine():
    parse_scenario(scenario("apps:\n  - {node: b, run: tcp-sink}\n  - {node: b, run: tcp-sink, port: 80}\n"))


@pytest.mark.parametrize("text, where", [
    (BASE.replace("until: 5s", "until: 0"), "until"),
    (BASE.replace("until: 5s", "until: .nan"), "until"),
    (BASE.replace("until: 5s", "until: .inf"), "until"),
    (BASE + "address_pool: 10.255.0.1/16\n", "address_pool"),
    (BASE.replace("  - endpoints: [a, r]", "  - {endpoints: [a, r], delay: .nan}"), "links[0].delay"),
    (BASE.replace("  - endpoints: [a, r]", "  - {endpoints: [a, r], rate: .nan}"), "links[0].rate"),
    (BASE.replace("  - endpoints: [a, r]", "  - {endpoints: [a, r], loss: .nan}"), "links[0].loss"),
    (BASE.replace("  - endpoints: [a, r]", "  - {endpoints: [a, r], queue: 0B}"), "links[0].queue"),
    (BASE.replace("  - endpoints: [a, r]", "  - {endpoints: [a, r], queue: 0}"), "links[0].queue"),
    (BASE.replace("  - endpoints: [a, r]", "  - {endpoints: [a, r], delay: 5000000000s}"),
     "links[0].delay"),
    (BASE + "apps:\n  - {node: a, at: .nan, run: ping, target: b}\n", "apps[0].at"),
    (BASE.replace("name: t", "name: ../../elsewhere"), "name"),
    (BASE.replace("name: t", "name: /tmp/abs"), "name"),
    (BASE.replace("name: t", "name: .."), "name"),
])
def test_bad_numbers_and_names_are_located_errors(text, where):
    assert error_of(text).path == where


def test_until_zero_on_the_command_line_is_refused(tmp_path, capsys):
    assert main(["run", "lan-ping", "--until", "0", "-o", str(tmp_path)]) == 2
    assert "--until" in capsys.readouterr().err


def test_yaml_merge_keys_work_for_link_profiles():
    text = "x-profiles:\n  slow: &slow {rate: 10Mbps, delay: 20ms}\n" + BASE
    text = text.replace("  - endpoints: [a, r]", "  - endpoints: [a, r]\n    <<: *slow\n    delay: 5ms")
    data = parse_scenario(text).data
    assert data["links"][0] == {"endpoints": ["a", "r"], "rate": "10Mbps", "delay": "5ms"}


def test_recursive_aliases_and_alias_bombs_are_refused_quickly():
    error = error_of("name: x\nnodes: &n\n  a: *n\n")
    assert "contains it" in str(error) and error.line is not None
    bomb = "name: bomb\na: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    previous = "a"
    for name in "bcdefghi":
        bomb += f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]\n"
        previous = name
    start = time.perf_counter()
    error = error_of(bomb)
    assert time.perf_counter() - start < 0.5
    assert "expands to more than" in str(error)


def test_a_run_whose_target_has_no_address_says_so_like_ping():
    text = textwrap.dedent("""\
        name: t
        until: 3s
        nodes:
          a: {kind: host, ip: 10.0.0.1/24}
          lonely: {kind: router}
        links: []
        apps:
          - {node: a, run: ping, target: lonely}
          - {node: a, run: tcp-source, target: 10.9.9.9}
        """)
    result = run_scenario(parse_scenario(text))
    ping = result.app("ping")
    assert ping.status == "failed" and ping.lines == ["ping: lonely: No address associated with hostname"]
    source = result.app("tcp-source")
    assert source.lines == ["tcp-source: connect: Network is unreachable"]


def test_outputs_never_leave_the_folder_and_bad_folders_are_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "s.yaml"
    source.write_text(BASE.replace("name: t", "name: ok.name-1"))
    assert main(["run", str(source), "-q"]) == 0
    assert (tmp_path / "out" / "ok.name-1" / "summary.json").exists()
    (tmp_path / "afile").write_text("x")
    assert main(["run", str(source), "-o", str(tmp_path / "afile")]) == 2
    assert "not a folder" in capsys.readouterr().err
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    import os
    if os.geteuid() != 0:                 # root may write anywhere
        assert main(["run", str(source), "-o", str(locked / "x")]) == 2


def test_long_node_names_get_short_stable_capture_names(tmp_path):
    long_a, long_b = "a" * 126, "b" * 126
    text = textwrap.dedent(f"""\
        name: long
        until: 2s
        nodes:
          {long_a}: {{kind: host, ip: 10.0.0.1/24}}
          {long_b}: {{kind: host, ip: 10.0.0.2/24}}
        links:
          - endpoints: [{long_a}, {long_b}]
        apps:
          - {{node: {long_a}, run: ping, target: {long_b}, count: 1}}
        """)
    source = tmp_path / "long.yaml"
    source.write_text(text)
    assert main(["run", str(source), "-o", str(tmp_path / "o"), "-q", "--outputs", "pcap,summary"]) == 0
    names = [p.name for p in (tmp_path / "o" / "pcap").iterdir()]
    assert len(names) == 1 and len(names[0].encode()) <= 120 and names[0].endswith(".pcap")


def test_diagram_of_a_damaged_trace_names_the_line(tmp_path, capsys):
    assert main(["run", "lan-ping", "-o", str(tmp_path), "-q"]) == 0
    trace = tmp_path / "trace.jsonl"
    lines = trace.read_text().splitlines()
    trace.write_text("\n".join(lines[:10]) + "\n" + lines[10][:25] + "\n")
    assert main(["diagram", str(tmp_path)]) == 2
    assert "trace.jsonl:11: not JSON" in capsys.readouterr().err
    trace.write_text("hello\n")
    assert main(["diagram", str(tmp_path)]) == 2


def test_fifty_sources_into_one_sink_are_each_checked_against_their_own_bytes():
    sources = "\n".join(f"- {{node: a, at: {0.5 + k * 0.01:.2f}s, run: tcp-source, target: b, "
                        "size: 20KiB}" for k in range(50))
    text = two_hosts("- {node: b, run: tcp-sink}\n" + sources, name="many", until="30s")
    result = run_scenario(parse_scenario(text))
    sources = [a for a in result.network.apps if a.name == "tcp-source"]
    assert len(sources) == 50
    for source in sources:
        r = source.result()
        assert r["intact"] is True and r["bytes_delivered"] == 20 * 1024, source.lines
        assert any("SHA-256 matches" in line for line in source.lines)
