"""CUBIC congestion control (RFC 9438), Linux's default since 2.6.19.

In congestion avoidance the window follows W(t) = C·(t − K)³ + W_max (in segments, t in
seconds since the last congestion event), a cubic centred on the window where the last
loss happened: quick growth far from it, a plateau near it, probing beyond. Where Reno
would do better (short RTTs, small windows) the Reno-friendly estimate W_est wins
(§4.3). A congestion event keeps β = 0.7 of the window (not Reno's 0.5), and with fast
convergence (§4.7) a flow whose window peaked lower than last time yields room.
Slow start is Reno's; Linux's HyStart is not modelled. Loss recovery (NewReno's, or
SACK's in the connection) is unchanged: only how much the window shrinks and how it
grows differ.
"""

from __future__ import annotations

from netsim.proto.tcp.congestion import NewReno

C = 0.4
BETA = 0.7


class Cubic(NewReno):
    name = "cubic"
    BETA = BETA

    def __init__(self, mss: int, *, initial_window: int | None = None) -> None:
        super().__init__(mss, initial_window=initial_window)
        self.w_max = 0.0                 # segments, at the last congestion event
        self.k = 0.0
        self.epoch_start: float | None = None
        self.w_est = 0.0
        self.now = 0.0
        self.srtt = 0.0
        self._carry = 0.0               # bytes of growth not yet added (less than one)

    def _reduce(self, flight: int) -> int:
        """§4.6 and §4.7: remember W_max, return the new ssthresh (bytes)."""
        cwnd_segments = self.cwnd / self.mss
        if cwnd_segments < self.w_max:
            self.w_max = cwnd_segments * (1 + BETA) / 2           # fast convergence
        else:
            self.w_max = cwnd_segments
        self.epoch_start = None
        return max(int(self.cwnd * BETA), 2 * self.mss)

    def _grow_in_avoidance(self, acked: int) -> None:
        now = self.now
        segments = self.cwnd / self.mss
        if self.epoch_start is None:
            self.epoch_start = now
            if segments < self.w_max:
                self.k = ((self.w_max - segments) / C) ** (1 / 3)
            else:
                self.k, self.w_max = 0.0, segments
            self.w_est = segments
        t = now - self.epoch_start + self.srtt
        target = C * (t - self.k) ** 3 + self.w_max
        target = min(max(target, segments), 1.5 * segments)     # §4.4: at most +50 % per RTT
        alpha = 3 * (1 - BETA) / (1 + BETA)
        self.w_est += alpha * (acked / self.mss) / segments       # §4.3, Reno-friendly
        if self.w_est > target:
            target = self.w_est
        # Fractions of a byte are carried to the next ACK, as Linux counts ACKs toward the
        # next increment (its cnt): dropped, they hold back growth near W_max.
        self._carry += (target - segments) / segments * acked
        whole = int(self._carry)
        self._carry -= whole
        self.cwnd = max(self.cwnd + whole, self.mss)

    def tick(self, now: float, srtt: float | None) -> None:
        """The connection tells the time and RTT before each ACK it reports."""
        self.now = now
        self.srtt = srtt or 0.0
