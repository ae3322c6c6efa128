"""The two byte stores of a connection, apart from its state machine (ns-3's
``TcpTxBuffer`` and ``TcpRxBuffer`` are the model).

:class:`TxBuffer` holds what the application gave and the peer has not yet
acknowledged, indexed by sequence number (RFC 9293 §3.4: SND.UNA … the end of data).
:class:`RxBuffer` holds in-order bytes not yet read, and segments that arrived ahead
of a gap until the gap fills (RFC 9293 §3.10.7.4, "seventh, process the segment
text"); its free space is the receive window.
"""

from __future__ import annotations


class TxBuffer:
    def __init__(self, first_seq: int, capacity: int | None) -> None:
        self._data = bytearray()
        self.first_seq = first_seq            # sequence number of the oldest byte held
        #: The sequence number after the last byte held (where a FIN would go). Kept, not
        #: computed: the sender asks for it several times a segment.
        self.end_seq = first_seq
        self.capacity = capacity              # None: unlimited

    @property
    def room(self) -> int:
        return 1 << 62 if self.capacity is None else max(0, self.capacity - len(self._data))

    def push(self, data: bytes) -> int:
        """Take as much of ``data`` as fits; returns how many bytes were taken."""
        taken = data[:self.room]
        self._data += taken
        self.end_seq += len(taken)
        return len(taken)

    def bytes_at(self, seq: int, n: int) -> bytes:
        offset = seq - self.first_seq
        return bytes(self._data[offset:offset + n])

    def acknowledge(self, ack: int) -> int:
        """Forget the bytes before ``ack``; returns how many data bytes that was."""
        done = max(0, min(ack, self.end_seq) - self.first_seq)
        if done:
            del self._data[:done]
            self.first_seq += done
        return done


class RxBuffer:
    def __init__(self, capacity: int) -> None:
        self._data = bytearray()
        self._ahead: dict[int, tuple[bytes, bool]] = {}    # seq → (payload, FIN) past a gap
        self.capacity = capacity
        #: Free space: the window this side can advertise. Kept, not computed: the
        #: receiver asks for it several times a segment.
        self.room = capacity
        self.has_gap = False                  # segments are held past a gap (kept, as room)
        self.fin = False                      # the peer's FIN has been taken in order

    @property
    def available(self) -> int:
        return len(self._data)

    @property
    def at_eof(self) -> bool:
        return self.fin and not self._data

    def read(self, max_bytes: int | None) -> bytes:
        n = len(self._data) if max_bytes is None else min(max_bytes, len(self._data))
        data = bytes(self._data[:n])
        del self._data[:n]
        self.room = max(0, self.capacity - len(self._data))
        return data

    def append(self, payload: bytes) -> None:
        self._data += payload
        self.room = max(0, self.capacity - len(self._data))

    def hold(self, seq: int, payload: bytes, fin: bool) -> None:
        """Keep a segment that arrived ahead of ``RCV.NXT`` until the gap fills."""
        self._ahead[seq] = (payload, fin)
        self.has_gap = True

    def held(self) -> list[tuple[int, int]]:
        """(start, end) of each segment held past a gap."""
        return [(seq, seq + len(data)) for seq, (data, _fin) in self._ahead.items()]

    def next_in_order(self, rcv_nxt: int) -> tuple[bytes, bool] | None:
        """A held segment that now starts at or before ``rcv_nxt``, trimmed to start
        there; None while the gap remains."""
        if not self._ahead:
            return None
        first = min(self._ahead)
        if first > rcv_nxt:
            return None
        data, fin = self._ahead.pop(first)
        self.has_gap = bool(self._ahead)
        return data[rcv_nxt - first:], fin
