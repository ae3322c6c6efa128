"""Bad scenario files: each gives a ScenarioError naming the key path and the line."""

import subprocess
import sys
import textwrap

import pytest

from netsim import ScenarioError, parse_scenario

GOOD = """\
name: t
nodes:
  a: {kind: host, ip: 10.0.1.10/24, gateway: 10.0.1.1}
  r1: {kind: router}
  b: {kind: host, ip: 10.0.2.10/24, gateway: 10.0.2.1}
links:
  - endpoints: [a:eth0, r1:eth0]
  - endpoints: [r1:eth1, b:eth0]
    delay: 2ms
apps:
  - {node: a, at: 1s, run: ping, target: b}
"""


def error_of(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(textwrap.dedent(text), source="t.yaml")
    return info.value


def test_the_good_scenario_is_good():
    parse_scenario(GOOD).build()


@pytest.mark.parametrize("old, new, path, line, words", [
    ("[r1:eth1, b:eth0]", "[r1:eth1, r9:eth0]", "links[1].endpoints[1]", 8, "node 'r9' is not defined"),
    ("[a:eth0, r1:eth0]", "[ax:eth0, r1:eth0]", "links[0].endpoints[0]", 7, "did you mean 'a'"),
    ("[r1:eth1, b:eth0]", "[r1:eth0, b:eth0]", "links[1].endpoints[0]", 8, "already wired by links[0]"),
    ("[r1:eth1, b:eth0]", "[r1:eth1]", "links[1].endpoints", 8, "out of range"),
    ("[r1:eth1, b:eth0]", "[r1:eth1, r1:eth2]", "links[1].endpoints", 8, "not r1 to itself"),
    ("delay: 2ms", "delay: 2 parsecs", "links[1].delay", 9, "a duration"),
    ("delay: 2ms", "dealy: 2ms", "links[1].dealy", 9, "did you mean 'delay'"),
    ("delay: 2ms", "rate: fast", "links[1].rate", 9, "a rate such as '100Mbps'"),
    ("delay: 2ms", "loss: 150%", "links[1].loss", 9, "between 0 and 1"),
    ("delay: 2ms", "queue: -3", "links[1].queue", 9, ""),
    ("r1: {kind: router}", "r1: {kind: ruoter}", "nodes.r1.kind", 4, "did you mean 'router'"),
    ("ip: 10.0.1.10/24,", "ip: 10.0.1.300/24,", "nodes.a.ip", 3, "address/prefix"),
    ("gateway: 10.0.1.1}", "gateway: 10.0.9.1}", "nodes.a.gateway", 3, "not on a's subnet"),
    ("r1: {kind: router}", "r1: {kind: router, ip: 10.0.0.1/24}", "nodes.r1.ip", 4, "interfaces"),
    ("run: ping, target: b}", "run: pong, target: b}", "apps[0].run", 11, "did you mean 'ping'"),
    ("run: ping, target: b}", "run: ping, target: zz}", "apps[0].target", 11, "neither a node"),
    ("run: ping, target: b}", "run: ping, target: b, count: 0}", "apps[0].count", 11, "out of range"),
    ("run: ping, target: b}", "run: ping, target: b, colour: red}", "apps[0].colour", 11, "unknown key"),
    # JSON Schema would take 3.0 (and 1.0e+300, which then crashed a body) as an integer.
    ("run: ping, target: b}", "run: ping, target: b, count: 3.0}", "apps[0].count", 11,
     "expected integer, got number 3.0"),
    ("run: ping, target: b}", "run: ping}", "apps[0]", 11, "missing required key 'target'"),
    ("{node: a, at: 1s", "{node: q, at: 1s", "apps[0].node", 11, "not defined"),
    ("{node: a, at: 1s", "{node: a, at: soon", "apps[0].at", 11, "a duration"),
    ("run: ping, target: b}", "run: ping, target: b, interval: 2 parsecs}", "apps[0].interval", 11,
     "a duration"),
    ("run: ping, target: b}", "run: ping, target: b, wait: 1 fortnight}", "apps[0].wait", 11, ""),
    ("name: t\n", "name: t\nsede: 4\n", "sede", 2, "did you mean 'seed'"),
    # YAML reads 1.0 as a number; the choices are strings: say to quote it.
    ("run: ping, target: b}", "run: http-get, url: 'http://b/', version: 1.0}", "apps[0].version",
     11, 'read as a number here: write it in quotes, "1.0"'),
    # A bare number is a fraction of one: loss 2 meant 2 %.
    ("delay: 2ms", "loss: 2", "links[1].loss", 9, "did you mean '2%'?"),
    # A host name with dots is one key, in brackets and quotes.
    ("run: ping, target: b}",
     "run: http-server, sites: {www.campus.edu: {/index.html: {cache_control: 7}}}}",
     'apps[0].sites["www.campus.edu"]["/index.html"].cache_control', 11, "header value"),
])
def test_bad_values_are_named_by_path_and_line(old, new, path, line, words):
    assert old in GOOD
    err = error_of(GOOD.replace(old, new, 1))
    assert err.path == path, str(err)
    assert err.line == line, str(err)
    assert words in str(err)
    assert str(err).startswith(f"t.yaml:{line}: {path}: ")


@pytest.mark.parametrize("text, words", [
    ("", "a scenario is a mapping"),
    ("- just\n- a list\n", "a scenario is a mapping"),
    ("name: t\nnodes: {a: {kind: host\n", "not valid YAML"),
    ("name: t\n", "missing required key 'nodes'"),
    ("name: t\nnodes: {}\n", "out of range"),
    ("name: t\nname: u\nnodes: {a: {kind: host}}\n", "appears twice"),
    ("name: t\nnodes:\n  s: {kind: switch, ip: 10.0.0.1/24}\n", "a switch has no 'ip'"),
])
def test_structural_errors(text, words):
    assert words in str(error_of(text))


def test_a_rest_resource_list_holds_only_resources():
    """The fuzzer's find: ``cars: [null]`` passed the schema and crashed the API at the
    first request that walked the list; every depth of sub-collection is checked now."""
    text = GOOD.replace("apps:\n", "apps:\n  - node: b\n    run: rest-api\n    data:\n"
                        "      users:\n        - {id: 6, cars: [{id: 88, wheels: [7]}]}\n")
    err = error_of(text)
    assert err.path == "apps[0].data.users[0].cars[0].wheels[0]", str(err)
    assert err.line == 15 and "expected object, got integer 7" in str(err)
    err = error_of(text.replace("wheels: [7]", "wheels: [null]"))
    assert "got null" in str(err)


def test_a_lone_surrogate_is_refused_wherever_it_stands():
    """YAML's "\\ud800" reads as a string no encoder can write: a located error, not a
    crash when an app first puts it on the wire (found by an FTP string fuzzer)."""
    err = error_of(GOOD.replace("target: b}", 'target: b, size: 56}').replace(
        "name: t", 'name: t\nnote: "a\\ud800b"'))
    assert err.path == "note" and "lone surrogate" in str(err)
    err = error_of(GOOD.replace("run: ping, target: b}",
                                'run: mail-send, server: b, from: "x@a.b", to: "y@a.b", '
                                'subject: "hi \\udc80"}'))
    assert err.path == "apps[0].subject" and err.line == 11, str(err)


def test_cli_exits_2_with_the_message_and_no_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("[r1:eth1, b:eth0]", "[r1:eth1, r9:eth0]"))
    for args in (["run", str(bad), "-o", str(tmp_path / "out")], ["validate", str(bad)]):
        proc = subprocess.run([sys.executable, "-m", "netsim.cli", *args], capture_output=True, text=True)
        assert proc.returncode == 2
        assert "Traceback" not in proc.stderr
        assert not (tmp_path / "out").exists()
        assert f"{bad}:8: links[1].endpoints[1]: node 'r9' is not defined" in proc.stderr


def test_missing_file_exits_2(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "netsim.cli", "run", str(tmp_path / "none.yaml")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "cannot read" in proc.stderr and "Traceback" not in proc.stderr
