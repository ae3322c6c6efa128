"""What a new user needs without asking: pictures by default, loud failures, names
everywhere, documented applications, helpful command-line errors."""

import json

import pytest

from netsim import load_scenario, run_scenario
from netsim.apps.docs import describe_apps
from netsim.apps import APPS
from netsim.cli import main
from netsim.errors import ScenarioError
from netsim.scenario.loader import parse_scenario
from netsim.topo import line
from tests.conftest import SCENARIOS, two_hosts

NO_OUTPUTS = two_hosts("- {node: a, at: 1s, run: ping, target: b, count: 2}", name="plain")


def test_a_scenario_without_outputs_writes_every_picture(tmp_path, capsys):
    source = tmp_path / "plain.yaml"
    source.write_text(NO_OUTPUTS)
    assert main(["run", str(source), "-o", str(tmp_path / "out"), "-q"]) == 0
    for name in ("sequence.svg", "sequence.png", "sequence.mmd", "sequence.puml", "timeline.png",
                 "topology.png", "trace.jsonl", "summary.json", "pcap/a-b.pcap"):
        assert (tmp_path / "out" / name).exists(), name


def test_outputs_can_be_trimmed_on_the_command_line(tmp_path):
    source = tmp_path / "plain.yaml"
    source.write_text(NO_OUTPUTS)
    assert main(["run", str(source), "-o", str(tmp_path / "out"), "-q", "--outputs", "pcap,summary"]) == 0
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["pcap", "summary.json"]
    assert main(["run", str(source), "-o", str(tmp_path / "o2"), "--outputs", "pcap,movie"]) == 2


def test_every_output_file_is_byte_identical_for_the_same_seed(tmp_path):
    for k in (1, 2):
        assert main(["run", "router-chain", "-o", str(tmp_path / str(k)), "-q"]) == 0
    files = sorted(p.relative_to(tmp_path / "1") for p in (tmp_path / "1").rglob("*") if p.is_file())
    assert len(files) >= 12
    for name in files:
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes(), name


def test_a_misspelt_scenario_name_gets_a_suggestion(capsys):
    assert main(["run", "router-chan"]) == 2
    assert "did you mean router-chain?" in capsys.readouterr().err


def test_diagram_filter_that_matches_nothing_says_so(tmp_path, capsys):
    assert main(["run", "lan-ping", "-o", str(tmp_path), "-q"]) == 0
    assert main(["diagram", str(tmp_path), "--filter", "node=zz"]) == 1
    assert "no message matches" in capsys.readouterr().err
    for bad in ("0", "-5"):
        with pytest.raises(SystemExit) as exit_:
            main(["diagram", str(tmp_path), "--limit", bad])
        assert exit_.value.code == 2


def test_yaml_errors_point_at_the_line_of_the_mistake():
    text = "name: x\nnodes:\n  a: {kind: host, ip: 10.0.0.1/24\n  b: {kind: host}\nlinks: []\n"
    with pytest.raises(ScenarioError) as error:
        parse_scenario(text)
    assert error.value.line == 3 and "not closed" in str(error.value)
    text = "name: x\nnodes:\n  a: {kind: host}\n  b {kind: host}\n"
    with pytest.raises(ScenarioError) as error:
        parse_scenario(text)
    assert error.value.line == 4 and "':' missing" in str(error.value)


@pytest.mark.parametrize("nodes, where", [
    ("a: {kind: host, ip: 10.0.0.1/24}\n  b: {kind: host, ip: 10.0.0.1/24}", "nodes.b.ip"),
    ("a: {kind: host, ip: 10.0.0.1/24, gateway: 10.0.0.1}\n  b: {kind: host, ip: 10.0.0.2/24}",
     "nodes.a.gateway"),
    ("a: {kind: router, interfaces: {eth0: 10.0.0.1/24, eth1: 10.0.0.1/24}}\n  b: {kind: host, ip: 10.0.0.2/24}",
     "nodes.a.interfaces.eth1"),
])
def test_address_conflicts_are_located_errors(nodes, where):
    text = f"name: x\nnodes:\n  {nodes}\nlinks:\n  - endpoints: [a, b]\n"
    with pytest.raises(ScenarioError) as error:
        parse_scenario(text)
    assert error.value.path == where


def test_an_application_that_never_connects_says_why():
    text = two_hosts("""
        - {node: b, run: tcp-sink}
        - {node: a, at: 1s, run: tcp-source, target: b, size: 10KiB}
        - {node: a, at: 10s, run: ping, target: b}
        """, name="stuck", until="3s", link=", loss: 100%")
    result = run_scenario(parse_scenario(text))
    source = result.app("tcp-source")
    assert source.status == "unfinished" and source.error == "unfinished"
    assert any("unfinished when the run ended at 3 s" in line and "still connecting" in line
               for line in source.lines)
    assert "intact" not in source.result()
    late = result.app("ping")
    assert late.status == "not started" and "not started" in late.lines[0]
    text_out = result.text()
    assert "[UNFINISHED]" in text_out and "[NOT STARTED]" in text_out
    summary = {a["app"]: a for a in result.summary["apps"]}
    assert summary["tcp-source"]["status"] == "unfinished"


def test_a_refused_connection_is_a_failure_in_the_result():
    result = run_scenario(load_scenario(SCENARIOS / "tcp-refused.yaml"))
    source = result.app("tcp-source")
    assert source.status == "failed" and "refused" in source.error


def test_services_say_what_they_served():
    result = run_scenario(load_scenario(SCENARIOS / "udp-echo.yaml"))
    server = result.app("udp-echo-server")
    assert server.lines == ["udp-echo-server: echoed 4 datagrams on port 7"]
    client = result.app("udp-echo")
    assert client.lines[-1] == "udp-echo: 4 sent, 4 answered, 0% lost"


def test_the_api_takes_node_names_wherever_it_takes_addresses():
    net, (alice, _r, bob) = line(["alice", "r1", "bob"])
    got = []

    def server(node):
        listener = node.tcp_listen(7)
        sock = yield listener.accept()
        got.append((yield sock.recv()))
        sock.close()

    def client(node):
        sock = node.tcp_connect("bob", 7)
        yield sock.connected
        yield sock.send(b"hello")
        sock.close()

    net.env.process(server(bob))
    net.env.process(client(alice))
    udp = alice.udp_open()
    assert udp.sendto(b"x", ("bob", 9))
    net.run(until=5)
    assert got == [b"hello"]


def test_a_record_reads_well():
    net, (a, _r, b) = line(["a", "r", "b"])
    from netsim import Ping
    Ping(a, target="b", count=1)
    net.run(until=3)
    text = repr(next(iter(net.trace.records())))
    assert text.startswith("<Record 0.000000 s tx a:eth0 #0 ARP who-has")


def test_every_application_is_documented_from_its_schema(capsys):
    assert main(["apps"]) == 0
    out = capsys.readouterr().out
    for name, cls in APPS.items():
        assert f"{name}: " in out
        for key, schema in cls.SCHEMA.items():
            assert schema.get("description"), (name, key)
            assert f"  {key} " in describe_apps(name), (name, key)
        example = getattr(cls, "EXAMPLE", None)
        assert example is not None, name
        # The example is a valid scenario entry.
        nodes = {example["node"]: {"kind": "host", "ip": "10.0.0.1/24"}}
        for value in (example.get("target"), example.get("server"), example.get("forward"),
                      *example.get("table", {})):
            if value and value not in nodes and not value[0].isdigit():
                nodes[value] = {"kind": "host", "ip": f"10.0.0.{len(nodes) + 1}/24"}
        data = {"name": "example", "nodes": nodes, "apps": [example]}
        parse_scenario(json.dumps(data))
    assert "size " in describe_apps("tcp-source") and "(default 1MiB)" in describe_apps("tcp-source")
