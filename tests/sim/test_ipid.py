"""Linux's IP IDs (netsim.sim.ipid): the hashed per-destination counters."""

import random

from netsim.sim.ipid import HZ, LinuxIpIds


def test_a_counter_counts_within_a_tick_and_jumps_ahead_by_less_than_the_ticks_since():
    ids = LinuxIpIds(random.Random(1))
    a, b = 0x0A000001, 0x0A000002
    first = [ids.hashed(a, b, 17, 1.0) for _ in range(3)]
    assert first[1:] == [(first[0] + 1) & 0xFFFF, (first[0] + 2) & 0xFFFF]
    jumps = []
    last, when = first[-1], 1.0
    for k in range(1, 200):
        when += 0.5                       # 125 ticks later each time
        now = ids.hashed(a, b, 17, when)
        jumps.append((now - last - 1) & 0xFFFF)
        last = now
    assert all(0 <= j < HZ // 2 for j in jumps) and len(set(jumps)) > 50


def test_each_destination_and_protocol_has_its_own_counter_and_a_seed_draws_the_same():
    def draw(seed):
        ids = LinuxIpIds(random.Random(seed))
        return [ids.hashed(1, dst, proto, 2.0) for dst in (2, 3) for proto in (17, 1)]
    assert draw(7) == draw(7) and len(set(draw(7))) == 4 and draw(7) != draw(8)


def test_a_connected_socket_starts_its_own_counter_at_random():
    ids = LinuxIpIds(random.Random(3))
    assert len({ids.connected_start() for _ in range(20)}) > 15
