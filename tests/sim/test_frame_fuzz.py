"""Hostile frames at every kind of node: no exception escapes, and every frame leaves a
record in the trace (a real stack drops a bad frame; it never loses track of one).

The frames are mutations of real ones — every distinct frame the bundled scenarios
put on their wires — and random bytes. ``NETSIM_FUZZ_FRAMES`` sets how many the
large run injects (CI: at least 20,000).
"""

import os
import random

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from netsim import Network, load_scenario, run_scenario
from netsim.wire import Frame
from tests.conftest import SCENARIOS

FRAMES = int(os.environ.get("NETSIM_FUZZ_FRAMES", "20000"))


def seed_frames() -> list[bytes]:
    found = {}
    for path in sorted(SCENARIOS.glob("*.yaml")):
        trace = run_scenario(load_scenario(path), until=3.0).trace
        for frame in range(trace.frame_count):
            data = trace.frame_bytes(frame)
            found.setdefault((data[12:14], data[23:24], len(data) // 200), data)
    return list(found.values())


SEEDS = seed_frames()


def lab():
    """A host, a router and a switch, wired, addressed, with a listener or two."""
    net = Network(seed=1)
    host = net.add_host("h")
    router = net.add_router("r")
    switch = net.add_switch("s")
    other = net.add_host("o")
    net.connect(host, switch)
    net.connect(switch, router)
    net.connect(router, other)
    host.set_address(host.interfaces["eth0"], "10.0.0.1/24")
    router.set_address(router.interfaces["eth0"], "10.0.0.254/24")
    router.set_address(router.interfaces["eth1"], "10.0.1.254/24")
    other.set_address(other.interfaces["eth0"], "10.0.1.1/24")
    host.add_route("default", "10.0.0.254")
    other.add_route("default", "10.0.1.254")
    host.udp_open(9000)
    host.tcp_listen(5001)
    net.run(until=0.001)
    return net, [(host, host.interfaces["eth0"]), (router, router.interfaces["eth0"]),
                 (router, router.interfaces["eth1"]), (switch, switch.interfaces["eth0"]),
                 (other, other.interfaces["eth0"])]


def fix_checksums(data: bytearray) -> bytearray:
    """Make a mutated IPv4 frame's checksums right again, so it gets past them to the
    code behind (TCP, UDP, ICMP handling) — where a fuzzer finds the real bugs."""
    from netsim.wire.checksum import internet_checksum
    if len(data) < 34 or data[12:14] != b"\x08\x00":
        return data
    hlen = (data[14] & 0xF) * 4
    if hlen < 20 or len(data) < 14 + hlen:
        return data
    data[24:26] = b"\0\0"
    data[24:26] = internet_checksum(bytes(data[14:14 + hlen])).to_bytes(2, "big")
    total = min(int.from_bytes(data[16:18], "big"), len(data) - 14)
    l4 = 14 + hlen
    proto, at = data[23], {6: 16, 17: 6, 1: 2}.get(data[23])
    if at is None or total - hlen < at + 2:
        return data
    data[l4 + at:l4 + at + 2] = b"\0\0"
    segment = bytes(data[l4:14 + total])
    pseudo = bytes(data[26:34]) + bytes([0, proto]) + len(segment).to_bytes(2, "big")
    checksum = internet_checksum(segment if proto == 1 else pseudo + segment)
    data[l4 + at:l4 + at + 2] = checksum.to_bytes(2, "big")
    return data


def mutate(rng: random.Random, data: bytes, targets) -> bytes:
    choice = rng.randrange(7)
    data = bytearray(data)
    if choice == 0 and data:                                 # flip bits
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif choice == 1:                                        # cut short
        data = data[:rng.randrange(len(data) + 1)]
    elif choice == 2:                                        # grow
        data += rng.randbytes(rng.randint(1, 3000))
    elif choice == 3:                                        # random bytes
        data = bytearray(rng.randbytes(rng.choice([0, 1, 5, 13, 14, 20, 42, 60, 1514, 9000])))
    elif choice == 4 and len(data) > 20:                     # overwrite a field
        at = rng.randrange(12, len(data) - 2)
        data[at:at + 2] = rng.randbytes(2)
    elif choice == 5 and len(data) >= 14:                    # to this node or everyone
        node, iface = rng.choice(targets)
        data[0:6] = iface.mac if rng.random() < 0.7 and iface.mac is not None else b"\xff" * 6
    if rng.random() < 0.5:
        data = fix_checksums(data)
    return bytes(data)


def inject(count: int, seed: int) -> int:
    rng = random.Random(seed)
    net, targets = lab()
    for k in range(count):
        node, iface = rng.choice(targets)
        data = mutate(rng, rng.choice(SEEDS), targets)
        if len(data) >= 6 and iface.mac is not None and rng.random() < 0.6:
            data = iface.mac + data[6:]                       # past the NIC's filter
        if len(data) >= 34 and data[12:14] == b"\x08\x00" and iface.ip is not None \
                and rng.random() < 0.6:
            # Addressed to this node (or its subnet's broadcast), checksums right: into
            # its stack — UDP sockets, TCP listeners, ICMP handling.
            to = rng.choice([iface.ip, iface.ip, iface.broadcast or iface.ip, 0xFFFFFFFF])
            data = bytes(fix_checksums(bytearray(data[:30] + to.to_bytes(4, "big") + data[34:])))
        frame = Frame(data)
        node.receive(frame, iface)                            # must not raise
        assert frame.id >= 0, (node, data.hex())              # ... and must leave a record
        if k % 50 == 0:
            net.env.run(until=net.env.now + 0.01)             # let timers and replies run
    net.env.run(until=net.env.now + 5)
    return net


def test_seed_frames_cover_every_protocol():
    kinds = {data[12:14] for data in SEEDS}
    assert {b"\x08\x00", b"\x08\x06", b"\x80\x35"} <= kinds
    assert {data[23] for data in SEEDS if data[12:14] == b"\x08\x00"} >= {1, 6, 17}


def test_many_mutated_and_random_frames_at_every_node_kind():
    net = inject(FRAMES, seed=7)
    reasons = {r.reason for r in net.trace.records() if r.kind == "drop"}
    # The frames reached every layer: wire checks, IP, UDP, TCP, ICMP, ARP, the switch.
    assert {"malformed", "mac-filtered", "port-unreachable", "port-closed",
            "unknown-ethertype"} <= reasons, reasons


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_any_seed_of_mutations(seed):
    inject(60, seed)


@pytest.mark.parametrize("op", [0, 3, 4, 7, 255])
def test_an_arp_of_unknown_opcode_is_dropped_and_teaches_nothing(op):
    from netsim.wire import headers as h
    net, targets = lab()
    host, iface = targets[0]
    arp = [d for d in SEEDS if d[12:14] == b"\x08\x06"][0]
    forged = bytearray(iface.mac + arp[6:])
    forged[20:22] = op.to_bytes(2, "big")
    forged[28:32] = bytes([10, 0, 0, 99])                    # sender 10.0.0.99
    forged[38:42] = bytes([10, 0, 0, 1])                     # target: the host
    frame = Frame(bytes(forged))
    host.receive(frame, iface)
    assert 0x0A000063 not in iface.arp.cache
    drops = [r for r in net.trace.records() if r.frame == frame.id and r.kind == "drop"]
    assert drops and drops[0].reason == "malformed"
    assert h.parse_arp(bytes(forged))[0] == op
