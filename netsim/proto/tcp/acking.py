"""What a :class:`~netsim.proto.tcp.TcpConnection` does with the acknowledgments it
receives: the send window (RFC 9293 §3.10.7.4 "fifth"), RTT samples (RFC 6298, or
RFC 7323 timestamps), duplicate ACKs and fast retransmit (RFC 5681), NewReno's partial
ACKs (RFC 6582), or — with SACK — the scoreboard and RFC 6675 loss recovery; our FIN's
acknowledgment moving the state machine on.

A mixin: it reads and writes the connection's state, which ``connection.py`` defines.
"""

from __future__ import annotations

from netsim.proto.tcp.segment import FIN, SYN, Segment, unwrap
from netsim.proto.tcp.state import SYNCHRONIZED, State

_MOD = 1 << 32

class Acknowledging:
    def _process_ack(self, seg: Segment, seq: int, ack: int, now: float) -> bool:
        """Returns False when the segment is to be dropped after this."""
        if ack > self.snd_max:
            self._send_ack(now)
            return False
        window = seg.window << self.snd_wscale
        if self.sack_ok and seg.sack:
            self.scoreboard.update([(unwrap(a, self.snd_una), unwrap(b, self.snd_una))
                                    for a, b in seg.sack], max(ack, self.snd_una), self.snd_max)
        if self.ts_ok and seg.ts is not None and seg.ts[1] and ack > self.snd_una:
            self.rtt.sample(max(0.001, ((self._tsval(now) - seg.ts[1]) % _MOD) / 1000))
            self._timed = None                        # RFC 7323 §4: the timestamp timed it
        if ack > self.snd_una:
            self._ack_advanced(ack, now)
        elif (ack == self.snd_una and not seg.payload and not seg.flags & (SYN | FIN)
              and window == self.snd_wnd and window and self.snd_max > self.snd_una):
            # RFC 5681 §2's duplicate ACK; answers to zero-window probes are not.
            self._duplicate_ack(now)
        if self._snd_wl1 < seq or (self._snd_wl1 == seq and self._snd_wl2 <= ack):
            opened = self.snd_wnd == 0 and window > 0
            self.snd_wnd = window
            self.max_snd_wnd = max(self.max_snd_wnd, window)
            self._snd_wl1, self._snd_wl2 = seq, ack
            if opened:
                self._persist_at = None
                self._persist_backoff = 0
                if self.snd_nxt > self.snd_una and self._rto_at is None:
                    # A window probe is outstanding: send from SND.UNA again.
                    self.snd_nxt = self.snd_una
        if self._fin_queued and ack > self._fin_seq:
            if self.state is State.FIN_WAIT_1:
                self._transition("rcv_ack_of_fin")
                self._enter_fin_wait_2(now)
            elif self.state is State.CLOSING:
                self._transition("rcv_ack_of_fin")
                self._enter_time_wait(now)
            elif self.state is State.LAST_ACK:
                self._transition("rcv_ack_of_fin")
                self._finish("normal")
                return False
        return True

    def _ack_advanced(self, ack: int, now: float) -> None:
        acked = ack - self.snd_una
        flight_before = self.snd_max - self.snd_una
        data_acked = self.tx.acknowledge(ack)
        if data_acked:
            self.bytes_acked += data_acked
            self.last_data_acked_at = now
        self.snd_una = ack
        if self.snd_nxt < ack:
            self.snd_nxt = ack
        if self._timed is not None and ack > self._timed[0]:
            self.rtt.sample(now - self._timed[1])
            self._timed = None
        self._retries = 0
        self._dupacks = 0
        self.cc.tick(now, self.rtt.srtt)
        if self._sack_recovery:
            self.scoreboard.update((), ack, self.snd_max)
            if self.cc.on_sack_recovery_ack(ack):
                self._sack_recovery = False
                self.scoreboard.high_rxt = 0
            partial = False
        else:
            partial = self.cc.on_ack(ack, acked, flight_before - acked) \
                if self.state in SYNCHRONIZED else False
        if partial:
            self._retransmit(now, "partial-ack")
        if self.snd_una < self.snd_max:
            self._arm_rto(now)
        else:
            self._rto_at = None
        self._metrics()

    def _duplicate_ack(self, now: float) -> None:
        if self.sack_ok:
            self._dupacks += 1
            self._sack_loss_check(now)
        elif self.cc.on_duplicate_ack(self.snd_max - self.snd_una, self.snd_una, self.snd_max):
            self._retransmit(now, "fast-retransmit")
        self._metrics()

    def _sack_loss_check(self, now: float) -> None:
        """RFC 6675 §5: three duplicate ACKs, or DupThresh segments SACKed above SND.UNA,
        start loss recovery — unless one is running, or the ACK does not pass the point
        where the last one (or a timeout) began (RFC 6675 §5 step 2, as RFC 6582)."""
        if self._sack_recovery or self.snd_una >= self.snd_max:
            return
        if self.cc.recover is not None and self.snd_una < self.cc.recover:
            return
        if self._dupacks < 3 and not self.scoreboard.is_lost(self.snd_una, self.send_mss):
            return
        self._sack_recovery = True
        self.cc.enter_sack_recovery(self.snd_max - self.snd_una, self.snd_max)
        self.scoreboard.high_rxt = self.snd_una
        self._sack_send(now, first=True)
