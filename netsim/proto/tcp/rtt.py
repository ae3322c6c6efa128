"""Retransmission timeout per RFC 6298: SRTT, RTTVAR, backoff; Karn's rule is the caller's."""

from __future__ import annotations


class RttEstimator:
    ALPHA, BETA, K = 1 / 8, 1 / 4, 4

    def __init__(self, *, rto_initial: float = 1.0, rto_min: float = 0.2, rto_max: float = 60.0,
                 granularity: float = 0.001) -> None:
        self.srtt: float | None = None
        self.rttvar: float | None = None
        #: The least sample (Linux's tcp_min_rtt): the path's round trip without queueing
        #: or an ARP lookup in front of the first segment.
        self.min_rtt: float | None = None
        self.rto_min, self.rto_max, self.granularity = rto_min, rto_max, granularity
        self.rto = rto_initial
        self.backoffs = 0

    def sample(self, rtt: float) -> None:
        """A new measurement (§2.2/2.3), from a segment that was never retransmitted."""
        if self.min_rtt is None or rtt < self.min_rtt:
            self.min_rtt = rtt
        if self.srtt is None:
            self.srtt, self.rttvar = rtt, rtt / 2
        else:
            self.rttvar = (1 - self.BETA) * self.rttvar + self.BETA * abs(self.srtt - rtt)
            self.srtt = (1 - self.ALPHA) * self.srtt + self.ALPHA * rtt
        self.backoffs = 0
        self.rto = min(self.rto_max, max(self.rto_min, self.srtt + max(self.granularity,
                                                                       self.K * self.rttvar)))

    def back_off(self) -> None:
        """§5.5: double the RTO after a timeout."""
        self.backoffs += 1
        self.rto = min(self.rto_max, self.rto * 2)
