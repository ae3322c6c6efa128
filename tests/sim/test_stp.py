"""Spanning tree: the engine in pairs, BPDUs as Scapy builds them, a switch loop that
STP breaks, and one without STP that storms until the frame budget stops it."""

import subprocess

from hypothesis import given, settings, strategies as st

from netsim import load_scenario, run_scenario
from netsim.proto import stp
from netsim.scenario.loader import parse_scenario
from netsim.wire.stp import Bpdu, BpduTemplate, bridge_id, parse_bpdu
from tests.conftest import SCENARIOS


class Wire:
    """Bridges whose ports are joined pairwise; BPDUs cross instantly, timers run in order."""

    def __init__(self, bridges, cables):
        self.bridges = bridges
        self.peer = {}
        for (a, pa), (b, pb) in cables:
            self.peer[(a, pa)] = (b, pb)
            self.peer[(b, pb)] = (a, pa)
        self.now = 0.0
        self.sent = []

    def pump(self):
        moved = True
        while moved:
            moved = False
            for name, bridge in self.bridges.items():
                for out in bridge.outputs():
                    if isinstance(out, stp.SendBpdu):
                        moved = True
                        self.sent.append((self.now, name, out.port, out.bpdu))
                        peer = self.peer.get((name, out.port))
                        if peer:
                            self.bridges[peer[0]].receive(peer[1], out.bpdu, self.now)

    def run(self, until):
        for bridge in self.bridges.values():
            bridge.start(self.now)
        self.pump()
        while True:
            timers = [(b.get_timer(), n) for n, b in self.bridges.items() if b.get_timer() is not None]
            if not timers:
                return
            at, name = min(timers)
            if at > until:
                return
            self.now = at
            self.bridges[name].handle_timer(at)
            self.pump()


def bridge(priority, mac_last, ports):
    return stp.StpBridge(bridge_id(priority, bytes([2, 0, 0, 0, 0, mac_last])),
                         {n: (19, False) for n in ports})


def test_two_parallel_links_leave_one_port_blocking():
    a, b = bridge(4096, 1, [1, 2]), bridge(32768, 2, [1, 2])
    wire = Wire({"a": a, "b": b}, [(("a", 1), ("b", 1)), (("a", 2), ("b", 2))])
    wire.run(until=40)
    assert a.root == a.bridge_id and b.root == a.bridge_id
    assert [p.role for p in a.ports.values()] == ["designated", "designated"]
    assert [(p.role, p.state) for p in b.ports.values()] == [("root", "forwarding"),
                                                            ("alternate", "blocking")]
    # 802.1D timing: listening then learning, forward_delay each, before forwarding.
    assert not b.forwarding(1) or wire.now >= 30


def test_a_triangle_blocks_exactly_one_port_and_the_lowest_id_is_root():
    x, y, z = bridge(32768, 9, [1, 2]), bridge(32768, 3, [1, 2]), bridge(32768, 5, [1, 2])
    wire = Wire({"x": x, "y": y, "z": z},
                [(("x", 1), ("y", 1)), (("y", 2), ("z", 1)), (("z", 2), ("x", 2))])
    wire.run(until=60)
    assert {b.root for b in (x, y, z)} == {y.bridge_id}
    blocked = [(n, p.number) for n, b in (("x", x), ("y", y), ("z", z))
               for p in b.ports.values() if p.state == "blocking"]
    assert len(blocked) == 1
    assert all(p.role != "alternate" for p in y.ports.values())       # the root blocks nothing


def test_losing_the_root_port_information_reconverges():
    a, b = bridge(4096, 1, [1, 2]), bridge(32768, 2, [1, 2])
    wire = Wire({"a": a, "b": b}, [(("a", 1), ("b", 1)), (("a", 2), ("b", 2))])
    wire.run(until=40)
    del wire.peer[("a", 1)]                  # the cable to b's root port is cut
    wire.run(until=120)
    assert b.root_port == 2 and b.forwarding(2)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**64 - 1), st.integers(0, 2**32 - 1), st.integers(0, 2**64 - 1),
       st.integers(0, 0xFFFF), st.integers(0, 255), st.integers(0, 255), st.integers(1, 255),
       st.integers(1, 255), st.sampled_from([0, 1, 0x80, 0x81]))
def test_bpdus_are_what_scapy_builds(root, cost, bridge_, port, age, max_age, hello, delay, flags):
    from netsim.wire import scapy_layers
    layers = scapy_layers.load()
    mac = bytes.fromhex("02000000a001")
    bpdu = Bpdu(root, cost, bridge_, port, age, max_age, hello, delay, flags)
    ours = BpduTemplate(mac).build(bpdu)
    theirs = bytes(layers.Dot3(dst="01:80:c2:00:00:00", src="02:00:00:00:a0:01")
                   / layers.LLC(dsap=0x42, ssap=0x42, ctrl=3)
                   / layers.STP(bpduflags=flags, rootid=root >> 48,
                                rootmac=(root & (2**48 - 1)).to_bytes(6, "big"), pathcost=cost,
                                bridgeid=bridge_ >> 48,
                                bridgemac=(bridge_ & (2**48 - 1)).to_bytes(6, "big"), portid=port,
                                age=age, maxage=max_age, hellotime=hello, fwddelay=delay))
    assert ours[:len(theirs)] == theirs and len(ours) == 60
    assert parse_bpdu(ours) == bpdu


def test_the_switch_loop_scenario_blocks_a_port_and_pings_get_through(tmp_path):
    result = run_scenario(load_scenario(SCENARIOS / "switch-loop.yaml"), tmp_path)
    states = {name: result.network.nodes[name].spanning_tree() for name in ("sw1", "sw2", "sw3")}
    blocked = [(n, port) for n, ports in states.items() for port, role, state in ports
               if state == "blocking"]
    assert blocked == [("sw2", "eth1")]
    assert "3 received, 0% packet loss" in "\n".join(result.app("ping").lines)
    assert result.summary["drops"].get("port-blocking", 0) >= 1
    # tshark calls every BPDU STP: the protocol column, not a guess from the address.
    pcap = tmp_path / "pcap" / "sw1-sw2.pcap"
    rows = subprocess.run(["tshark", "-r", str(pcap), "-T", "fields", "-e", "eth.dst",
                           "-e", "_ws.col.Protocol"], capture_output=True, text=True,
                          check=True).stdout.split("\n")
    bpdus = [r for r in rows if r.startswith("01:80:c2:00:00:00")]
    assert bpdus and all(r.endswith("\tSTP") for r in bpdus)
    notes = [n for n in result.trace.notes if n.what == "stp-port" and n.node == "sw2"
             and n.detail["port"] == "eth1"]
    assert notes[-1].detail == {"port": "eth1", "role": "alternate", "state": "blocking"}


def test_without_stp_a_loop_storms_until_the_frame_budget_stops_the_run():
    text = (SCENARIOS / "switch-loop.yaml").read_text()
    text = text.replace("{kind: switch, stp: {priority: 4096}}", "{kind: switch, stp: false}")
    text = text.replace("sw2:   {kind: switch}", "sw2:   {kind: switch, stp: false}")
    text = text.replace("sw3:   {kind: switch}", "sw3:   {kind: switch, stp: false}")
    text = text.replace("until: 45s", "until: 45s\nframe_budget: 20000")
    text = text.replace("at: 32s", "at: 1s").replace("count: 3", "count: 100")
    result = run_scenario(parse_scenario(text))
    assert result.trace.budget_drawn == 20000              # every share of the budget drawn
    assert sum(c["frames"] for c in result.summary["links"].values()) <= 20000
    assert "broadcast storm" in result.summary["stopped"]
    assert result.summary["end_time"] < 45
    assert "!! stopped at" in result.text()
    assert result.app("ping").status == "unfinished"


def test_two_switches_joined_twice_do_not_storm():
    text = """\
name: twice
until: 40s
nodes:
  a: {kind: host, ip: 10.0.0.1/24}
  b: {kind: host, ip: 10.0.0.2/24}
  sw1: {kind: switch}
  sw2: {kind: switch}
links:
  - endpoints: [a, sw1]
  - endpoints: [sw1, sw2]
  - endpoints: [sw1, sw2]
  - endpoints: [sw2, b]
apps:
  - {node: a, at: 32s, run: ping, target: b, count: 3}
"""
    result = run_scenario(parse_scenario(text))
    assert result.summary["stopped"] is None
    assert result.summary["frames"]["transmitted"] < 300          # BPDUs, ARP, pings: no storm
    states = [s for name in ("sw1", "sw2") for _p, _r, s in result.network.nodes[name].spanning_tree()]
    assert states.count("blocking") == 1
    assert "3 received" in "\n".join(result.app("ping").lines)
