"""One end of a TCP connection (RFC 9293), sans-I/O.

Theory of operation
-------------------
The user calls ``connect``/``listen``, ``send``, ``read``, ``close``/``shutdown``
and ``abort``; the wire calls ``receive(segment, now)``; the clock calls
``handle_timer(now)`` when ``get_timer()`` comes due. What the connection wants
done comes out of ``outputs()``: :class:`Segment` objects to transmit and events
(:mod:`netsim.proto.tcp.events`).

Sequence numbers are kept unwrapped inside (Python integers counted from the ISS,
never reduced modulo 2**32) so comparisons are plain ``<``; they are wrapped on
the way out and unwrapped against the current state on the way in.

Sending: the send buffer holds every byte from SND.UNA on. ``_output`` sends
what ``min(cwnd, SND.WND)`` allows, in MSS-sized segments, and the FIN once the
buffer is drained. One retransmission timer (RFC 6298) runs while anything is
unacknowledged; when it fires the first unacknowledged segment is resent, the
timer backs off, and sending goes back to SND.UNA with a one-segment window.
A zero window with data waiting starts the persist timer, which sends window probes
with the same backoff: one byte of data (RFC 9293 §3.8.6.1), or as Linux does an
empty segment with the sequence number below SND.UNA.

Receiving: in-order data goes to the receive buffer, whose free space is the
advertised window (so a slow reader closes it); out-of-order segments are held
and answered with an immediate duplicate ACK (RFC 5681 §4.2) until the hole fills.
ACKs are sent at once, or with ``delayed_ack`` set every second full segment or
after that delay.
"""

from __future__ import annotations

from netsim.proto.tcp import events as ev
from netsim.proto.tcp.buffers import RxBuffer, TxBuffer
from netsim.proto.tcp.congestion import NewReno
from netsim.proto.tcp.rtt import RttEstimator
from netsim.proto.tcp.sack import Scoreboard
from netsim.proto.tcp.segment import ACK, FIN, RST, SYN, Segment, unwrap
from netsim.proto.tcp.acking import Acknowledging
from netsim.proto.tcp.sending import Sending
from netsim.proto.tcp.state import RECEIVING, SENDING, SYNCHRONIZED, TRANSITIONS, State

_MOD = 1 << 32
_HALF = 1 << 31


class TcpError(Exception):
    """The user asked for something the connection's state does not allow."""


class TcpConnection(Acknowledging, Sending):
    def __init__(self, *, iss: int, mss: int = 1460, recv_buffer: int = 262144,
                 send_buffer: int | None = 262144, rto_min: float = 0.2, rto_initial: float = 1.0,
                 msl: float = 0.5, delayed_ack: float = 0.0, window_scaling: bool = True,
                 congestion=NewReno, sack: bool = False, timestamps: bool = False,
                 initial_window: int | None = None, quickack: int = 0,
                 time_wait: float | None = None, initial_space: int | None = None,
                 wscale: int | None = None, fin_with_data: bool = False,
                 ts_offset: int = 0, old_seq_window_probe: bool = False,
                 persist_max: float = 60.0, fin_timeout: float | None = None) -> None:
        self.state = State.CLOSED
        self.mss = mss                      # what we can receive (told to the peer)
        self.send_mss = mss                 # what we may send (the peer's MSS, ours at most)
        self.recv_buffer = recv_buffer
        self.send_buffer = send_buffer
        self.msl = msl
        self.delayed_ack = delayed_ack
        self.rtt = RttEstimator(rto_initial=rto_initial, rto_min=rto_min)
        self._congestion_class = congestion
        #: Initial window in segments (RFC 6928's 10), or None for RFC 5681's.
        self.initial_window = initial_window
        self.cc = congestion(mss)
        # Window scaling (RFC 7323): our shift makes the buffer fit 16 bits, or a fixed
        # one (Linux offers 7 whatever the buffer).
        self._want_wscale = window_scaling
        fitted = max(0, (recv_buffer - 1).bit_length() - 16)
        self.rcv_wscale = (fitted if wscale is None else wscale) if window_scaling else 0
        self.snd_wscale = 0
        # Linux's receive window starts from ``initial_space`` (half of tcp_rmem's 131072)
        # rounded down to whole segments, and grows from there (None: the free buffer).
        self.initial_space = initial_space
        self._rcv_ssthresh = recv_buffer
        # SACK (RFC 2018/6675) and timestamps (RFC 7323): offered, then what both agreed.
        self._want_sack, self._want_ts = sack, timestamps
        self.sack_ok = self.ts_ok = False
        self.ts_offset = ts_offset
        self.ts_recent = 0
        self._last_ack_sent = 0
        self.scoreboard = Scoreboard()
        self._sack_recovery = False
        self._dupacks = 0
        self._latest_ooo: int | None = None     # the most recent segment held past a gap
        self.quickack = quickack                 # segments ACKed at once, at the start
        self.time_wait = time_wait
        # How long an orphaned connection (closed, not shut down) waits in FIN-WAIT-2 for
        # the peer's FIN: Linux's tcp_fin_timeout; None waits for ever, as RFC 9293 does.
        self.fin_timeout = fin_timeout
        self.orphaned = False
        self.fin_with_data = fin_with_data
        # Zero-window probes: one byte of new data (RFC 9293 §3.8.6.1), or Linux's empty
        # segment one below SND.UNA that the receiver must answer with an ACK.
        self.old_seq_window_probe = old_seq_window_probe
        self.persist_max = persist_max
        # Send sequence space.
        self.iss = iss
        self.snd_una = self.snd_nxt = iss
        self.snd_max = iss                  # highest sequence number sent so far (+1)
        self.snd_wnd = 0
        self.max_snd_wnd = 0                # the largest window the peer has offered
        self._snd_wl1 = self._snd_wl2 = 0
        self.tx = TxBuffer(iss + 1, send_buffer)    # data not yet acknowledged
        self._fin_queued = False
        self._fin_seq: int | None = None    # sequence number our FIN occupies, once closed
        # Receive sequence space.
        self.irs = 0
        self.rcv_nxt = 0
        self.rx = RxBuffer(recv_buffer)             # data not yet read, and what came early
        self._advertised_right = 0          # RCV.NXT + window last advertised
        # Timers: absolute deadlines or None.
        self._rto_at: float | None = None
        self._persist_at: float | None = None
        self._persist_backoff = 0
        self._delack_at: float | None = None
        self._timewait_at: float | None = None     # TIME-WAIT's end, or FIN-WAIT-2's
        self._retries = 0
        self._timed: tuple[int, float] | None = None     # (seq acked when sample ends, sent at)
        self._ack_pending = False
        self._ack_due = False
        self._now = 0.0
        self._unacked_segments = 0
        self._out: list = []
        self.closed_reason: str | None = None
        # Counters for results.
        #: Retransmission decisions by cause, and segments sent again (go-back-N included).
        self.retransmissions = {"timeout": 0, "fast-retransmit": 0, "partial-ack": 0}
        self.retransmitted_segments = 0
        self._syn_lost = False
        self.bytes_sent = self.bytes_acked = self.bytes_received = 0
        self.last_data_acked_at: float | None = None

    # -- the user's side ------------------------------------------------------------------

    def connect(self, now: float) -> None:
        """Active open: send SYN."""
        self._now = now
        self._transition("active_open")
        self.snd_nxt = self.iss + 1
        self.snd_max = self.snd_nxt
        self._emit_syn(now, ack=False)
        self._timed = (self.iss, now)
        self._arm_rto(now)

    def listen(self) -> None:
        """Passive open: wait for a SYN."""
        self._transition("passive_open")

    def send(self, data: bytes, now: float) -> int:
        """Queue ``data``; returns how many bytes the send buffer took."""
        self._now = now
        if self._fin_queued or self.state not in SENDING | {State.SYN_SENT, State.SYN_RECEIVED}:
            raise TcpError(f"cannot send in state {self.state}")
        taken = self.tx.push(data)
        self._output(now)
        return taken

    @property
    def send_room(self) -> int:
        """How many more bytes ``send`` would take now."""
        return self.tx.room

    @property
    def available(self) -> int:
        return self.rx.available

    @property
    def at_eof(self) -> bool:
        """The peer has finished and everything it sent has been read."""
        return self.rx.at_eof

    def read(self, max_bytes: int | None, now: float) -> bytes:
        """Take received bytes out of the receive buffer, opening the window."""
        self._now = now
        data = self.rx.read(max_bytes)
        if data and self.state in RECEIVING:
            # A window update of its own only when the window was small and has at least
            # doubled (as Linux's tcp_cleanup_rbuf decides), and grew by a segment or half
            # the buffer (RFC 9293 §3.8.6.2.2, receiver SWS avoidance). Otherwise the next
            # ACK carries the wider window.
            advertised = max(0, self._advertised_right - self.rcv_nxt)
            window = self._rcv_window()
            if window >= 2 * advertised and window - advertised >= min(self.mss, self.recv_buffer // 2):
                self._send_ack(now)
        return data

    def close(self, now: float) -> None:
        """close(): send FIN once the queued data is out, and leave the connection to the
        stack (orphaned: in FIN-WAIT-2 it waits ``fin_timeout`` for the peer's FIN, as
        Linux's tcp_close arms tcp_fin_timeout)."""
        self.orphaned = True
        self.shutdown(now)
        if self.state is State.FIN_WAIT_2:
            self._enter_fin_wait_2(now)

    def shutdown(self, now: float) -> None:
        """shutdown(SHUT_WR): send FIN once the queued data is out; reading goes on, and
        FIN-WAIT-2 lasts until the peer's FIN."""
        self._now = now
        if self.state in (State.LISTEN, State.SYN_SENT):
            self._transition("close")
            self._finish("normal")
            return
        if self._fin_queued or self.state not in (State.ESTABLISHED, State.CLOSE_WAIT,
                                                  State.SYN_RECEIVED):
            return
        self._fin_queued = True
        self._fin_seq = self.tx.end_seq               # right after the last data byte
        self._transition("close")
        self._output(now)

    def abort(self, now: float) -> None:
        """Send RST and forget the connection (RFC 9293 §3.10.5)."""
        if self.state in SYNCHRONIZED or self.state is State.SYN_RECEIVED:
            self._emit(Segment(self.snd_nxt, 0, RST, 0))
        self._finish("aborted")

    # -- the sans-I/O contract --------------------------------------------------------------

    def outputs(self) -> list:
        """Segments and events, in order. An ACK the data path asked for is built only
        once everything before it was taken — after the user had the chance to read
        what arrived — so it advertises the window as it is then, as a stack does whose
        reader was woken before the ACK left."""
        if not self._out and self._ack_due:
            self._ack_due = False
            if self._ack_pending:
                self._send_ack(self._now)
        out, self._out = self._out, []
        return out

    def get_timer(self) -> float | None:
        # Asked after every event the connection handles: no list, no min() over it.
        deadline = None
        for t in (self._rto_at, self._persist_at, self._delack_at, self._timewait_at):
            if t is not None and (deadline is None or t < deadline):
                deadline = t
        return deadline

    def handle_timer(self, now: float) -> None:
        self._now = now
        if self._timewait_at is not None and now >= self._timewait_at:
            self._timewait_at = None
            if self.state is State.FIN_WAIT_2:
                # Linux's FIN-WAIT-2 timewait socket expires: gone without a segment.
                self._transition("fin_timeout")
                self._finish("fin-timeout")
                return
            self._transition("timeout_2msl")
            self._finish("normal")
            return
        if self._delack_at is not None and now >= self._delack_at:
            self._delack_at = None
            if self._ack_pending:
                self._send_ack(now)
        if self._rto_at is not None and now >= self._rto_at:
            self._on_rto(now)
        if self._persist_at is not None and now >= self._persist_at:
            self._on_persist(now)

    # -- the wire's side ----------------------------------------------------------------------

    def receive(self, seg: Segment, now: float) -> None:
        self._now = now
        state = self.state
        if state is State.CLOSED:
            return
        if state is State.LISTEN:
            self._receive_in_listen(seg, now)
            return
        if state is State.SYN_SENT:
            self._receive_in_syn_sent(seg, now)
            return
        seq = unwrap(seg.seq, self.rcv_nxt)
        flags = seg.flags
        if self.ts_ok and seg.ts is not None and seq <= self._last_ack_sent \
                and (seg.ts[0] - self.ts_recent) % _MOD < _HALF:
            self.ts_recent = seg.ts[0]               # RFC 7323 §4.3
        if state is State.SYN_RECEIVED and flags & SYN and not flags & RST and seq == self.irs:
            ack = unwrap(seg.ack, self.snd_una)
            if flags & ACK and self.snd_una < ack <= self.snd_max:
                # Simultaneous open (RFC 9293 Figure 8): the peer's SYN-ACK acks our SYN.
                self._ack_advanced(ack, now)
                self._transition("rcv_ack_of_syn")
                self._out.append(ev.Connected())
                self._send_ack(now)
                self._output(now)
            elif not flags & ACK:
                self._emit_syn(now, ack=True)    # the peer did not get our SYN-ACK: again
            return
        if not self._acceptable(seq, seg):
            if not flags & RST:
                self._send_ack(now)              # tell the peer where we are
            return
        if flags & RST:
            if state is State.TIME_WAIT:
                # RFC 1337 (TIME-WAIT assassination): a RST cannot cut TIME-WAIT short.
                # The data was delivered and the close was normal; the peer in LAST-ACK
                # answering a late segment with RST says nothing new.
                return
            self._finish("reset")
            return
        if flags & SYN:
            self._send_ack(now)                  # RFC 5961 §4: challenge ACK
            return
        if not flags & ACK:
            return
        ack = unwrap(seg.ack, self.snd_una)
        if state is State.SYN_RECEIVED:
            if not self.snd_una < ack <= self.snd_max:
                self._emit(Segment(seg.ack, 0, RST, 0))
                return
            self._transition("rcv_ack_of_syn")
            self._out.append(ev.Connected())
        if not self._process_ack(seg, seq, ack, now):
            return
        if seg.payload or flags & FIN:
            self._process_data(seg, seq, now)
        self._output(now)
        if self._ack_pending and self._delack_at is None:
            self._ack_due = True

    # -- receiving, by state ---------------------------------------------------------------------

    def _receive_in_listen(self, seg: Segment, now: float) -> None:
        if seg.flags & RST:
            return
        if seg.flags & ACK:
            self._emit(Segment(seg.ack, 0, RST, 0))
            return
        if not seg.flags & SYN:
            return
        self._take_syn_options(seg)
        self.irs = seg.seq
        self.rcv_nxt = seg.seq + 1
        self.snd_wnd = self.max_snd_wnd = seg.window       # never scaled in a SYN
        self._snd_wl1, self._snd_wl2 = seg.seq, self.iss
        self._transition("rcv_syn")
        self.snd_nxt = self.snd_max = self.iss + 1
        self._emit_syn(now, ack=True)
        self._timed = (self.iss, now)
        self._arm_rto(now)

    def _receive_in_syn_sent(self, seg: Segment, now: float) -> None:
        flags = seg.flags
        if flags & ACK:
            ack = unwrap(seg.ack, self.snd_una)
            if ack <= self.iss or ack > self.snd_max:
                if not flags & RST:
                    self._emit(Segment(seg.ack, 0, RST, 0))
                return
        if flags & RST:
            if flags & ACK:
                self._finish("refused")
            return
        if not flags & SYN:
            return
        self._take_syn_options(seg)
        self.irs = seg.seq
        self.rcv_nxt = seg.seq + 1
        self.snd_wnd = self.max_snd_wnd = seg.window
        self._snd_wl1 = seg.seq
        if flags & ACK:
            self._snd_wl2 = ack
            self._ack_advanced(ack, now)
            self._transition("rcv_syn_ack")
            self._out.append(ev.Connected())
            self._send_ack(now)
            self._output(now)
        else:
            # Simultaneous open: answer SYN with SYN-ACK, same ISS.
            self._transition("rcv_syn")
            self._emit_syn(now, ack=True)

    def _take_syn_options(self, seg: Segment) -> None:
        self.sack_ok = self._want_sack and seg.sack_perm
        self.ts_ok = self._want_ts and seg.ts is not None
        if self.ts_ok:
            self.ts_recent = seg.ts[0]
        if seg.mss:
            self.send_mss = min(self.mss, seg.mss)
        else:
            # No option, or MSS 0 (which would leave cwnd at 0 and the connection wedged
            # with no timer): the RFC 9293 §3.7.1 default.
            self.send_mss = min(self.mss, 536)
        if self.ts_ok:
            self.send_mss -= 12                   # every segment carries NOP NOP TS
        if seg.wscale is not None and self._want_wscale:
            self.snd_wscale = seg.wscale
        else:
            self.rcv_wscale = 0                    # scaling is used only if both offer it
            self.snd_wscale = 0
        iw = self.initial_window * self.send_mss if self.initial_window else None
        self.cc = self._congestion_class(self.send_mss, initial_window=iw)
        if self._syn_lost:
            self.cc.on_syn_lost()

    def _acceptable(self, seq: int, seg: Segment) -> bool:
        """RFC 9293 §3.10.7.4's segment acceptability test, against the window as last
        advertised (a scaled window field rounds the free space down: a one-byte probe
        into a window advertised as 0 is not taken, as Linux's tcp_receive_window says)."""
        length = seg.length
        nxt = self.rcv_nxt
        window = min(self._rcv_window(), max(0, self._advertised_right - nxt))
        if length == 0:
            return seq == nxt if window == 0 else nxt <= seq < nxt + window
        if window == 0:
            return False
        return nxt <= seq < nxt + window or nxt <= seq + length - 1 < nxt + window

    def _process_data(self, seg: Segment, seq: int, now: float) -> None:
        if self.state not in RECEIVING:
            return
        payload, fin = seg.payload, bool(seg.flags & FIN)
        if seq < self.rcv_nxt:                      # trim what we already have
            cut = self.rcv_nxt - seq
            payload, seq = payload[cut:], self.rcv_nxt
        if seq > self.rcv_nxt:
            self.rx.hold(seq, payload, fin)
            self._latest_ooo = seq
            self._ack_now()                          # a duplicate ACK, no delay
            return
        self._append(payload, fin, now)
        while (ready := self.rx.next_in_order(self.rcv_nxt)) is not None:
            self._append(*ready, now)
        if self.rx.has_gap:
            self._ack_now()

    def _append(self, payload: bytes, fin: bool, now: float) -> None:
        # What we advertised is taken even where the window has since been computed
        # smaller (RFC 9293 §3.8.6.2.2: a window is not shrunk), as the buffer allows.
        room = min(self.rx.room, max(self._rcv_window(), self._advertised_right - self.rcv_nxt))
        if len(payload) > room:
            payload, fin = payload[:room], False
        if payload:
            self.rx.append(payload)
            self.rcv_nxt += len(payload)
            if self.initial_space is not None and len(payload) >= self.send_mss:
                self._rcv_ssthresh = min(self.rx.capacity, self._rcv_ssthresh + 2 * self.mss)
            self.bytes_received += len(payload)
            self._out.append(ev.DataReceived(available=self.rx.available))
            self._schedule_ack(now, len(payload))
        if fin and not self.rx.fin:
            self.rx.fin = True
            self.rcv_nxt += 1
            if self.delayed_ack and self.state is State.ESTABLISHED:
                self._schedule_fin_ack(now)
            else:
                self._ack_now()
            self._out.append(ev.PeerClosed())
            if self.state is State.ESTABLISHED:
                self._transition("rcv_fin")
            elif self.state is State.FIN_WAIT_1:
                self._transition("rcv_fin")          # our FIN is not acked yet: CLOSING
            elif self.state is State.FIN_WAIT_2:
                self._transition("rcv_fin")
                self._enter_time_wait(now)

    def _schedule_fin_ack(self, now: float) -> None:
        """The peer's FIN in ESTABLISHED, as Linux's tcp_fin answers it: the ACK is
        scheduled (inet_csk_schedule_ack) and the connection enters ping-pong mode
        (inet_csk_enter_pingpong_mode), which ends quick-ACK mode — the application is
        expected to answer soon. So __tcp_ack_snd_check sends it at once only when more
        than a full segment has come since the last ACK; otherwise it waits for the
        delayed-ACK timer, and a close() (or data) before then carries it: the close
        takes three segments, FIN / FIN+ACK / ACK, as in most real captures. On a stack
        without delayed ACKs (the textbook's) the ACK goes at once: four segments."""
        self._ack_pending = True
        if self.rcv_nxt - self._last_ack_sent > self.send_mss:
            self._ack_due = True                     # more than one full segment unACKed
            self._delack_at = None
            return
        self._ack_due = False
        if self._delack_at is None:
            self._delack_at = now + self.delayed_ack

    # -- bookkeeping -------------------------------------------------------------------------------

    def _transition(self, event: str) -> None:
        new = TRANSITIONS.get((self.state, event))
        if new is None:
            raise TcpError(f"no transition from {self.state} on {event}")
        self._out.append(ev.StateChanged(old=str(self.state), new=str(new)))
        self.state = new

    def _enter_fin_wait_2(self, now: float) -> None:
        """Our FIN is acknowledged. An orphaned connection gets ``fin_timeout`` for the
        peer's FIN (tcp_rcv_state_process → tcp_time_wait(sk, TCP_FIN_WAIT2, tmo)); one
        only shut down waits for ever (RFC 9293)."""
        if self.orphaned and self.fin_timeout is not None and self._timewait_at is None:
            self._timewait_at = now + self.fin_timeout

    def _enter_time_wait(self, now: float) -> None:
        self._rto_at = self._persist_at = None
        self._timewait_at = now + (2 * self.msl if self.time_wait is None else self.time_wait)

    def _finish(self, reason: str) -> None:
        if self.state is not State.CLOSED:
            self._out.append(ev.StateChanged(old=str(self.state), new=str(State.CLOSED)))
        self.state = State.CLOSED
        self.closed_reason = reason
        self._rto_at = self._persist_at = self._delack_at = self._timewait_at = None
        self._out.append(ev.Closed(reason=reason))

    def _metrics(self) -> None:
        self._out.append(ev.Metrics(cwnd=self.cc.cwnd, ssthresh=self.cc.ssthresh, srtt=self.rtt.srtt,
                                    rto=self.rtt.rto, flight=self.snd_max - self.snd_una,
                                    snd_wnd=self.snd_wnd,
                                    phase="sack-recovery" if self._sack_recovery else self.cc.phase))
