"""The sending half of a :class:`~netsim.proto.tcp.TcpConnection`: segments out of the
send buffer as the windows allow (RFC 9293 §3.8.6, with sender silly-window avoidance),
the ACKs and SYNs it emits, the retransmission timer (RFC 6298), the persist timer
(zero-window probes, §3.8.6.1) and path-MTU changes (RFC 1191).

A mixin: it reads and writes the connection's state, which ``connection.py`` defines.
"""

from __future__ import annotations

from netsim.proto.tcp import events as ev
from netsim.proto.tcp.sack import receiver_blocks
from netsim.proto.tcp.segment import ACK, FIN, PSH, RST, SYN, Segment
from netsim.proto.tcp.state import SENDING, SYNCHRONIZED, State

_MOD = 1 << 32
MAX_RETRIES = 8


class Sending:
    def path_mtu(self, mtu: int, now: float) -> bool:
        """ICMP said a datagram of ours was too big for a link on the path, whose MTU is
        ``mtu`` (RFC 1191 §6.1, RFC 8201's logic for IPv4). Segments shrink to fit, and
        what is in flight — lost at that link — goes again at the new size at once, not
        as a congestion loss (Linux's tcp_simple_retransmit). True if anything changed."""
        self._now = now
        mss = max(mtu, 68) - 40 - (12 if self.ts_ok else 0)
        if mss >= self.send_mss or self.state not in SYNCHRONIZED:
            return False
        self.send_mss = mss
        self.cc.mss = mss
        self._timed = None                              # Karn: these bytes go again
        if self.snd_nxt > self.snd_una and self.tx.end_seq > self.snd_una:
            self.retransmissions["path-mtu"] = self.retransmissions.get("path-mtu", 0) + 1
            self._out.append(ev.Retransmission(seq=self.snd_una, length=min(mss, self.tx.end_seq
                                                                             - self.snd_una),
                                               cause="path-mtu"))
            self.snd_nxt = self.snd_una
            self._output(now)
        return True

    def _rcv_window(self) -> int:
        if self.initial_space is None:
            return self.rx.room
        # Linux starts at the SYN's window and widens it as full segments arrive
        # (tcp_grow_window: rcv_ssthresh += 2·MSS each), up to the free buffer.
        return min(self.rx.room, self._rcv_ssthresh)

    def _window_field(self) -> int:
        window = self._rcv_window()
        if self.initial_space is not None and self.rcv_wscale:
            # Linux's __tcp_select_window rounds *up* to the scale's unit, "so that it
            # won't get scaled away" (64240 is sent as 502 × 128) — where the buffer has it.
            unit = (1 << self.rcv_wscale) - 1
            aligned = (window + unit) & ~unit
            window = aligned if aligned <= self.rx.room else window
        window = min(window >> self.rcv_wscale, 0xFFFF)
        self._advertised_right = self.rcv_nxt + (window << self.rcv_wscale)
        return window

    def _tsval(self, now: float) -> int:
        """Our timestamp clock: milliseconds, from a per-connection offset (as Linux's
        randomised one), RFC 7323 §5.4."""
        return (self.ts_offset + int(now * 1000)) % _MOD

    def _emit(self, seg: Segment) -> None:
        if seg.flags & ACK:
            self._last_ack_sent = self.rcv_nxt
            if self.sack_ok and self.rx.has_gap:
                blocks = receiver_blocks(self.rx.held(), self._latest_ooo, 3 if self.ts_ok else 4)
                seg.sack = tuple((a % _MOD, b % _MOD) for a, b in blocks)
        if self.ts_ok and not seg.flags & RST:
            seg.ts = (self._tsval(self._now), self.ts_recent)
        seg.seq %= _MOD
        seg.ack %= _MOD
        self._out.append(seg)

    def _emit_syn(self, now: float, ack: bool) -> None:
        wscale = self.rcv_wscale if self._want_wscale else None
        # A SYN offers what we want; a SYN-ACK only what the SYN offered too (RFC 7323 §3.2).
        sack_perm = self.sack_ok if ack else self._want_sack
        stamps = self.ts_ok if ack else self._want_ts
        if self.initial_space is not None:
            # tcp_select_initial_window: whole segments of what we will receive — 1460
            # bytes in a SYN (64240), 1448 in a SYN-ACK once timestamps are agreed (65160).
            segment = self.mss - (12 if ack and stamps else 0)
            self._rcv_ssthresh = min(self.rx.capacity,
                                     self.initial_space - self.initial_space % segment)
        window = min(self._rcv_window(), 0xFFFF)
        seg = Segment(self.iss, self.rcv_nxt if ack else 0, SYN | (ACK if ack else 0), window,
                      b"", self.mss, wscale, sack_perm=sack_perm,
                      ts=(self._tsval(now), self.ts_recent if ack else 0) if stamps else None)
        if ack:
            self._last_ack_sent = self.rcv_nxt
        self._advertised_right = self.rcv_nxt + window
        seg.seq %= _MOD
        seg.ack %= _MOD
        self._out.append(seg)

    def _send_ack(self, now: float) -> None:
        self._ack_pending = False
        self._ack_due = False
        self._unacked_segments = 0
        self._delack_at = None
        self._emit(Segment(self.snd_nxt, self.rcv_nxt, ACK, self._window_field()))

    def _ack_now(self) -> None:
        self._ack_pending = True
        self._ack_due = True
        self._delack_at = None

    def _schedule_ack(self, now: float, nbytes: int) -> None:
        self._ack_pending = True
        if not self.delayed_ack:
            return
        if self.quickack > 0:
            # Linux's quick-ACK mode at the start of a connection: every segment ACKed at
            # once, so the sender's slow start is not held back by delayed ACKs.
            self.quickack -= 1
            self._ack_now()
            return
        self._unacked_segments += 1
        if self._unacked_segments >= 2:
            self._ack_now()
        elif self._delack_at is None:
            self._delack_at = now + self.delayed_ack

    def _output(self, now: float) -> None:
        if self.state not in SENDING:
            return
        if self._sack_recovery:
            self._sack_send(now)
            return
        mss = self.send_mss
        while True:
            end_of_data = self.tx.end_seq
            unsent = end_of_data - self.snd_nxt
            if unsent > 0:
                window = min(self.cc.cwnd, self.snd_wnd)
                room = self.snd_una + window - self.snd_nxt
                if room <= 0:
                    if self.snd_wnd == 0 and self.snd_nxt == self.snd_una and self._persist_at is None:
                        self._persist_at = now + self.rtt.rto
                    break
                n = min(mss, unsent, room)
                if n < mss and n < unsent and (self.snd_nxt > self.snd_una
                                               or n < self.max_snd_wnd // 2):
                    # Sender SWS avoidance (RFC 9293 §3.8.6.2.1): more is queued than fits,
                    # so wait for a full segment or half the largest window offered. With
                    # nothing in flight no ACK will come: the persist timer is the override.
                    if self.snd_nxt == self.snd_una and self._persist_at is None:
                        self._persist_at = now + self.rtt.rto
                    break
                self._send_data(self.snd_nxt, n, now)
            elif self._fin_queued and self.snd_nxt == self._fin_seq:
                self._emit(Segment(self.snd_nxt, self.rcv_nxt, FIN | ACK, self._window_field()))
                self._ack_pending = False
                self._delack_at = None               # it carries the ACK that was waiting
                self.snd_nxt += 1
                self.snd_max = max(self.snd_max, self.snd_nxt)
                self._arm_rto(now, keep=True)
                break
            else:
                break

    def _send_data(self, seq: int, n: int, now: float, *, retransmit: bool = False) -> None:
        payload = self.tx.bytes_at(seq, n)
        last = seq + n == self.tx.end_seq
        flags = ACK | (PSH if last else 0)
        with_fin = last and self.fin_with_data and self._fin_queued and seq == self.snd_nxt
        if with_fin:
            flags |= FIN                  # the close came before the last data left: one segment
        self._emit(Segment(seq, self.rcv_nxt, flags, self._window_field(), payload))
        self._ack_pending = False
        self._delack_at = None
        self._unacked_segments = 0
        self.bytes_sent += n
        if seq < self.snd_max:
            self.retransmitted_segments += 1
        if seq == self.snd_nxt:
            self.snd_nxt += n + (1 if with_fin else 0)
        if self.snd_nxt > self.snd_max:
            if self._timed is None and not retransmit:
                self._timed = (self.snd_nxt - 1, now)
            self.snd_max = self.snd_nxt
        elif self._timed is not None and seq <= self._timed[0]:
            self._timed = None                       # Karn: never time a resent byte
        self._arm_rto(now, keep=True)

    def _retransmit(self, now: float, cause: str) -> None:
        """Resend the first unacknowledged segment (or SYN, or FIN)."""
        self.retransmissions[cause] = self.retransmissions.get(cause, 0) + 1
        self._timed = None
        una = self.snd_una
        if self.state in (State.SYN_SENT, State.SYN_RECEIVED) and una == self.iss:
            self._syn_lost = True
            self.retransmitted_segments += 1
            self._out.append(ev.Retransmission(seq=una, length=1, cause=cause))
            self._emit_syn(now, ack=self.state is State.SYN_RECEIVED)
            return
        data_left = self.tx.end_seq - una
        if data_left > 0:
            n = min(self.send_mss, data_left)
            self._out.append(ev.Retransmission(seq=una, length=n, cause=cause))
            self._send_data(una, n, now, retransmit=True)
        elif self._fin_queued and una == self._fin_seq:
            self.retransmitted_segments += 1
            self._out.append(ev.Retransmission(seq=una, length=1, cause=cause))
            self._emit(Segment(self._fin_seq, self.rcv_nxt, FIN | ACK, self._window_field()))

    def _arm_rto(self, now: float, keep: bool = False) -> None:
        if keep and self._rto_at is not None:
            return
        self._rto_at = now + self.rtt.rto

    def _on_rto(self, now: float) -> None:
        self._rto_at = None
        if self.snd_una >= self.snd_max:
            return
        self._sack_recovery = False
        self.scoreboard.clear()
        self._retries += 1
        if self._retries > MAX_RETRIES:
            self._finish("timeout")
            return
        if self.state in SYNCHRONIZED:
            self.cc.on_timeout(self.snd_max - self.snd_una, self.snd_max)
        self.rtt.back_off()
        self._retransmit(now, "timeout")
        if self.state in SYNCHRONIZED and self._fin_seq != self.snd_una:
            # Go back to SND.UNA: what followed the lost segment goes again as cwnd grows
            # (the FIN too, when _output reaches its sequence number).
            self.snd_nxt = self.snd_una + min(self.send_mss, self.tx.end_seq
                                              - self.snd_una)
        self._rto_at = now + self.rtt.rto
        self._metrics()

    def _on_persist(self, now: float) -> None:
        self._persist_at = None
        if self.state not in SENDING:
            return
        if self.snd_wnd > 0:
            # The SWS override timeout: the window stayed too small to fill; send into it.
            room = self.snd_una + self.snd_wnd - self.snd_nxt
            if self.snd_nxt == self.snd_una and room > 0 and self.tx.end_seq > self.snd_nxt:
                self._send_data(self.snd_nxt, min(self.send_mss, room), now)
            return
        if self.old_seq_window_probe:
            # Linux's tcp_xmit_probe_skb: "use a previous sequence" — nothing the receiver
            # can take, so it must answer with an ACK that carries its window.
            self._emit(Segment(self.snd_una - 1, self.rcv_nxt, ACK, self._window_field()))
            self._ack_pending = False
        elif self.tx.end_seq > self.snd_nxt and self.snd_nxt == self.snd_una:
            self._send_data(self.snd_nxt, 1, now)    # a one-byte window probe
            self._rto_at = None                      # the persist timer owns it
        elif self.snd_nxt > self.snd_una:
            self._send_data(self.snd_una, 1, now, retransmit=True)
            self._rto_at = None
        self._persist_backoff += 1
        self._persist_at = now + min(self.persist_max, self.rtt.rto * (2 ** self._persist_backoff))

    def _sack_send(self, now: float, first: bool = False) -> None:
        """RFC 6675 §5 steps 4–5: while the window holds more than the pipe, send the next
        lost range, else new data."""
        mss = self.send_mss
        board = self.scoreboard
        cause = "fast-retransmit" if first else "sack-recovery"
        while True:
            if self.cc.cwnd - board.pipe(self.snd_una, self.snd_max, mss) < mss and not first:
                break
            lost = board.next_lost(self.snd_una, self.snd_max, mss)
            if first and lost is None:
                lost = (self.snd_una, min(self.snd_una + mss, self.tx.end_seq))
            if lost is not None and lost[1] > lost[0]:
                start, end = lost
                self.retransmissions[cause] = self.retransmissions.get(cause, 0) + 1
                self._timed = None
                self._out.append(ev.Retransmission(seq=start, length=end - start, cause=cause))
                self._send_data(start, end - start, now, retransmit=True)
                board.high_rxt = max(board.high_rxt, end)
            elif self.tx.end_seq > self.snd_nxt and self.snd_nxt - self.snd_una < self.snd_wnd:
                n = min(mss, self.tx.end_seq - self.snd_nxt,
                        self.snd_una + self.snd_wnd - self.snd_nxt)
                self._send_data(self.snd_nxt, n, now)
            else:
                break
            first, cause = False, "sack-recovery"
        self._metrics()
