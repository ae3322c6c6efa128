"""Congestion control behind a small interface; NewReno (RFC 5681 + RFC 6582).

The connection tells the algorithm what happened — new data acknowledged, a
duplicate ACK, a timeout — and the algorithm moves ``cwnd`` and ``ssthresh`` and
says when to retransmit. Another algorithm is another class with the same four
methods.

NewReno's theory of operation: slow start grows ``cwnd`` by up to one MSS per ACK
until ``ssthresh``, then congestion avoidance by about one MSS per RTT. The third
duplicate ACK starts fast retransmit: ``ssthresh`` becomes half the flight,
``cwnd = ssthresh + 3·MSS``, and each further duplicate inflates it by one MSS.
A partial ACK (below ``recover``) retransmits the next hole and deflates; the ACK
that covers ``recover`` ends recovery with ``cwnd = ssthresh``. A timeout sets
``ssthresh`` to half the flight and ``cwnd`` to one MSS (the loss window).
"""

from __future__ import annotations


class NewReno:
    name = "newreno"
    DUPACK_THRESHOLD = 3

    def __init__(self, mss: int, *, initial_window: int | None = None) -> None:
        self.mss = mss
        # RFC 3390 / RFC 5681 §3.1 initial window.
        self.cwnd = initial_window or min(4 * mss, max(2 * mss, 4380))
        self.ssthresh = 1 << 30
        self.in_recovery = False
        #: One past the highest sequence sent when recovery (or a timeout) began (SND.MAX
        #: then; RFC 6582's "recover" is the byte before it); None before any.
        self.recover: int | None = None
        self.dupacks = 0

    @property
    def phase(self) -> str:
        if self.in_recovery:
            return "fast-recovery"
        return "slow-start" if self.cwnd < self.ssthresh else "congestion-avoidance"

    def on_ack(self, ack: int, acked: int, flight: int) -> bool:
        """New data acknowledged. Returns True for a NewReno partial ACK (retransmit)."""
        self.dupacks = 0
        mss = self.mss
        if self.in_recovery:
            if ack >= self.recover:
                # RFC 6582 §3.2 step 3, option 2: deflate to ssthresh (the "halving").
                self.in_recovery = False
                self.cwnd = self.ssthresh
                return False
            self.cwnd = max(mss, self.cwnd - acked + mss)
            return True
        if self.cwnd < self.ssthresh:
            self.cwnd += min(acked, mss)
        else:
            self._grow_in_avoidance(acked)
        return False

    def _grow_in_avoidance(self, acked: int) -> None:
        """RFC 5681 §3.1 (3): about one MSS per round trip."""
        self.cwnd += max(1, self.mss * self.mss // self.cwnd)

    def _reduce(self, flight: int) -> int:
        """The ssthresh after a congestion event: half the flight (RFC 5681 (4))."""
        return max(flight // 2, 2 * self.mss)

    def tick(self, now: float, srtt: float | None) -> None:
        """The time and RTT, for algorithms whose growth depends on them (NewReno's does not)."""

    # -- SACK-based recovery (RFC 6675), run by the connection ---------------------------------

    def enter_sack_recovery(self, flight: int, snd_max: int) -> None:
        """A loss detected from the scoreboard: reduce once; the connection sends by pipe."""
        self.ssthresh = self._reduce(flight)
        self.cwnd = self.ssthresh
        self.in_recovery = True
        self.recover = snd_max

    def on_sack_recovery_ack(self, ack: int) -> bool:
        """An ACK during SACK recovery; True (and the window back to ssthresh) once it
        covers the recovery point."""
        if ack >= self.recover:
            self.in_recovery = False
            self.cwnd = self.ssthresh
            return True
        return False

    def on_duplicate_ack(self, flight: int, snd_una: int, snd_nxt: int) -> bool:
        """A duplicate ACK. Returns True when it calls for a fast retransmit."""
        self.dupacks += 1
        if self.in_recovery:
            self.cwnd += self.mss
            return False
        if self.recover is not None and snd_una < self.recover:
            # RFC 6582 §3.2 step 1 and §4.1: the ACK does not cover the highest byte
            # sent when the last recovery or timeout began, so these duplicates may be
            # about that loss: they start no new fast retransmit.
            return False
        if self.dupacks == self.DUPACK_THRESHOLD:
            self.ssthresh = self._reduce(flight)
            self.cwnd = self.ssthresh + 3 * self.mss
            self.in_recovery = True
            self.recover = snd_nxt
            return True
        return False

    def on_syn_lost(self) -> None:
        """RFC 5681 §3.1: after a lost SYN or SYN-ACK the initial window is one segment."""
        self.cwnd = self.mss

    def on_timeout(self, flight: int, snd_max: int) -> None:
        self.ssthresh = self._reduce(flight)
        self.recover = snd_max
        self.cwnd = self.mss
        self.in_recovery = False
        self.dupacks = 0
