"""How Linux numbers the IPv4 datagrams a host sends: the Identification field (RFC 791),
which only a datagram that may be fragmented needs unique (RFC 6864 §4.1).

Linux 6.1 (include/net/ip.h ``ip_select_ident_segs``, net/ipv4/route.c
``ip_idents_reserve``) takes an ID

* from the socket's own counter when the socket is connected — a TCP connection, a
  UDP socket after ``connect()`` — started at random when it connected;
* 0 when the datagram has DF set and comes from no connected socket: it cannot be
  fragmented, so nothing will ever reassemble by its ID;
* otherwise from one of a table of counters chosen by a hash of the addresses and
  protocol. Each time a counter is used after a pause it jumps ahead by a random amount
  below the clock ticks since its last use, so an observer cannot count a host's
  datagrams by watching the IDs it sends them (the fix for CVE-2019-10638).

The textbook stack numbers every datagram from one counter, as 4.4BSD did.
"""

from __future__ import annotations

import random

#: Clock ticks a second in Debian's kernels (CONFIG_HZ_250): the jiffies the counters see.
HZ = 250


class LinuxIpIds:
    """One host's draws: a connected socket's first ID, and the kernel's ``ip_idents`` —
    a counter per (source, destination, protocol), each with the tick it was last used
    at. They come from a generator of their own, so that how many datagrams a host
    sends does not move every later random choice of the run."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._counters: dict[tuple[int, int, int], list[int]] = {}   # key → [next ID, tick]

    def connected_start(self) -> int:
        """Where a socket's own counter starts when it connects."""
        return self._rng.getrandbits(16)

    def hashed(self, src: int, dst: int, proto: int, now: float) -> int:
        tick = int(now * HZ)
        counter = self._counters.get((src, dst, proto))
        if counter is None:
            # A bucket no one has used: boot filled the table with random values.
            counter = self._counters[(src, dst, proto)] = [self._rng.getrandbits(16), tick]
        elif tick > counter[1]:
            counter[0] += self._rng.randrange(tick - counter[1])
            counter[1] = tick
        ip_id = counter[0] & 0xFFFF
        counter[0] = ip_id + 1
        return ip_id
