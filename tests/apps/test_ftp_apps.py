"""FTP on the network, checked from the captures as tshark reads them: the control
connection to 21, the data connections from port 20 (active) or to the announced port
(passive), the firewall that tells them apart, and files that arrive whole."""

import hashlib

import re

import pytest

from netsim import load_scenario, parse_scenario, run_scenario
from netsim.errors import ScenarioError
from netsim.proto.ftp import content_of
from tests.conftest import SCENARIOS, tshark_fields


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return {name: run_scenario(load_scenario(SCENARIOS / f"{name}.yaml"), tmp_path_factory.mktemp(name))
            for name in ("ftp-active", "ftp-passive", "ftp-firewall")}


def syns(pcap):
    """(source, source port, destination, destination port) of each connection's first SYN."""
    rows = tshark_fields(pcap, "ip.src", "tcp.srcport", "ip.dst", "tcp.dstport",
                         display_filter="tcp.flags.syn == 1 && tcp.flags.ack == 0 && "
                                        "!tcp.analysis.retransmission")
    return [(a, int(b), c, int(d)) for a, b, c, d in rows]


def test_active_mode_data_comes_from_port_20_to_a_fresh_ephemeral_port(runs):
    """On the Linux stack alice binds port 0 for each transfer, as tnftp and netkit ftp
    do: PORT names a new ephemeral port each time, and the server connects from 20."""
    pcap = runs["ftp-active"].outdir / "pcap" / "alice-r1.pcap"
    (control, *data) = syns(pcap)
    assert control[2:] == ("10.0.2.20", 21)
    ports = [int(p[0]) for p in tshark_fields(pcap, "ftp.active.port",
                                              display_filter="ftp.request.command == \"PORT\"")]
    assert [(s[0], s[1], s[2], s[3]) for s in data] == [("10.0.2.20", 20, "10.0.1.10", p)
                                                        for p in ports]
    assert len(set(ports)) == len(ports) == 4 and all(32768 <= p <= 60999 for p in ports)
    assert ports != [control[1] + k for k in range(1, 5)]          # not the textbook's N+k
    assert runs["ftp-active"].app("ftp").result()["data_ports"] == "ephemeral"


def test_passive_mode_data_goes_from_an_ephemeral_port_to_the_announced_port(runs):
    pcap = runs["ftp-passive"].outdir / "pcap" / "alice-r1.pcap"
    (control, *data) = syns(pcap)
    announced = [int(p[0]) for p in tshark_fields(pcap, "ftp.passive.port",
                                                  display_filter="ftp.response.code == 227")]
    assert len(announced) == len(data) == 4
    assert [s[3] for s in data] == announced
    assert len({s[1] for s in data}) == 4 and {s[1] for s in data}.isdisjoint(
        {control[1] + k for k in range(1, 5)})
    assert all(s[0] == "10.0.1.10" and s[2] == "10.0.2.20" for s in data)


@pytest.mark.parametrize("mode", ["active", "passive"])
def test_on_the_textbook_stack_the_kth_transfer_uses_n_plus_k_and_says_so(tmp_path, mode):
    text = (SCENARIOS / f"ftp-{mode}.yaml").read_text().replace(
        "alice:  {kind: host, ip: 10.0.1.10/24, gateway: 10.0.1.1}",
        "alice:  {kind: host, ip: 10.0.1.10/24, gateway: 10.0.1.1, stack: textbook}")
    result = run_scenario(parse_scenario(text), tmp_path / "out")
    (control, *data) = syns(result.outdir / "pcap" / "alice-r1.pcap")
    n = control[1]
    ends = [s[3] if mode == "active" else s[1] for s in data]
    assert ends == [n + k for k in range(1, 5)]
    ftp = result.app("ftp")
    assert ftp.status == "finished" and ftp.result()["data_ports"] == "n+1"
    assert ftp.lines[-1].startswith(f"(data ports {n}+1, +2, …: the textbook's N+1")


@pytest.mark.parametrize("name", ["ftp-active", "ftp-passive"])
def test_tshark_reads_ftp_and_ftp_data_and_files_arrive_whole(runs, name):
    result = runs[name]
    for pcap in (result.outdir / "pcap").glob("*.pcap"):
        rows = tshark_fields(pcap, "_ws.col.Protocol", "tcp.srcport", "tcp.dstport", "tcp.len",
                             display_filter="tcp.len > 0")
        for protocol, sport, dport, _length in rows:
            assert protocol == ("FTP" if "21" in (sport, dport) else "FTP-DATA"), (pcap.name, sport, dport)
    ftp = result.app("ftp").result()
    assert ftp["received"]["report.txt"]["sha256"] == hashlib.sha256(
        content_of("report.txt", 65536)).hexdigest()
    files = result.app("ftp-server").result()["files"]
    assert files["/notes.txt"]["sha256"] == ftp["sent"]["notes.txt"]["sha256"]
    assert result.app("ftp").status == "finished"


def test_the_firewall_drops_the_active_data_connection_and_passes_the_passive_one(runs):
    result = runs["ftp-firewall"]
    active, passive = [a for a in result.network.apps if a.name == "ftp"]
    assert "425 Can't open data connection." in active.lines and active.status == "failed"
    assert passive.status == "finished" and "report.txt" in passive.result()["received"]
    assert result.summary["drops"]["firewall"] == 4           # the SYN and its three retries
    fw = result.network.nodes["fw"].firewall
    assert fw.dropped == 4
    # Drawn: the data connection's SYN, from port 20, ends in a cross at the firewall.
    dropped = [m for m in result.sequence(limit=500).messages if m.dropped == "firewall"]
    assert dropped and all(m.drop_node == "fw" and m.label.startswith("20 → ") for m in dropped)
    assert {m.protocol for m in dropped} == {"FTP-DATA"}


def test_a_lossy_link_still_delivers_whole_files_in_both_modes(tmp_path):
    for mode in ("active", "passive"):
        text = (SCENARIOS / f"ftp-{mode}.yaml").read_text()
        text = text.replace("  - endpoints: [r1, server]", "  - endpoints: [r1, server]\n    loss: 2%")
        result = run_scenario(parse_scenario(text), tmp_path / mode)
        ftp = result.app("ftp").result()
        assert ftp["errors"] == []
        assert ftp["received"]["report.txt"]["sha256"] == hashlib.sha256(
            content_of("report.txt", 65536)).hexdigest()
        assert result.summary["drops"].get("loss", 0) > 0


@pytest.mark.parametrize("entry, message", [
    ("report.txt: 12QB", "apps[0].files[\"report.txt\"]: '12QB' is not a size"),
    ("../etc/passwd: hi", "is not a file path inside the tree"),
    ("big.bin: 2GiB", "more than the 256 MiB"),
])
def test_bad_files_entries_are_located_errors(entry, message):
    text = (SCENARIOS / "ftp-passive.yaml").read_text().replace(
        "    files: {report.txt: 64KiB, docs/readme.txt: \"Welcome to the netsim FTP server.\\n\"}",
        f"    files: {{{entry}}}")
    with pytest.raises(ScenarioError, match=re.escape(message)):
        parse_scenario(text)


def test_commands_are_checked_and_paths_stay_in_the_tree(tmp_path):
    text = (SCENARIOS / "ftp-passive.yaml").read_text()
    with pytest.raises(ScenarioError, match="unknown ftp command"):
        parse_scenario(text.replace("commands: [ls,", "commands: [fetch x,")).build()
    result = run_scenario(parse_scenario(text.replace(
        "commands: [ls, get report.txt, put notes.txt 8KiB, cd docs, get readme.txt]",
        "commands: [get ../../etc/passwd, cd ../../.., pwd]")), tmp_path)
    lines = result.app("ftp").lines
    assert "550 Failed to open file." in lines and '257 "/" is the current directory' in lines


@pytest.mark.parametrize("old, new, message", [
    ("    firewall: {eth1: stateful}", "    firewall: {eth7: stateful}",
     "nodes.fw.firewall.eth7: fw has no interface 'eth7'"),
    ("  alice:  {kind: host, ip: 10.0.1.10/24, gateway: 10.0.1.1}",
     "  alice:  {kind: host, ip: 10.0.1.10/24, gateway: 10.0.1.1, firewall: {eth0: stateful}}",
     "only routers filter what they forward"),
    ("    firewall: {eth1: stateful}", "    firewall: {eth1: {rules: [{proto: tcp}]}}",
     "needs an action"),
])
def test_firewall_settings_are_checked_where_they_are_written(old, new, message):
    text = (SCENARIOS / "ftp-firewall.yaml").read_text()
    assert old in text
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(text.replace(old, new))
