"""The eleven states of RFC 9293 §3.3.2 and the transitions between them.

A segment's ACK is processed before its FIN (RFC 9293 §3.10.7.4), so the RFC
diagram's FIN-WAIT-1 → TIME-WAIT on "FIN and ACK of our FIN" happens here as
FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT within the same segment.

Theory of operation
-------------------
Every state change goes through :data:`TRANSITIONS`, keyed by (state, event); an
event with no entry for the current state is a bug in the engine, not in the
peer, and raises. ``reset`` and ``abort`` lead any state to CLOSED and are not
listed per state. The table, read row by row, is the RFC's state diagram::

    CLOSED --active_open--> SYN_SENT --rcv_syn_ack--> ESTABLISHED
    CLOSED --passive_open--> LISTEN --rcv_syn--> SYN_RECEIVED --rcv_ack_of_syn--> ESTABLISHED
    SYN_SENT --rcv_syn--> SYN_RECEIVED                      (simultaneous open)
    ESTABLISHED --close--> FIN_WAIT_1 --rcv_ack_of_fin--> FIN_WAIT_2 --rcv_fin--> TIME_WAIT
    FIN_WAIT_1 --rcv_fin--> CLOSING --rcv_ack_of_fin--> TIME_WAIT   (simultaneous close)
    ESTABLISHED --rcv_fin--> CLOSE_WAIT --close--> LAST_ACK --rcv_ack_of_fin--> CLOSED
    TIME_WAIT --timeout_2msl--> CLOSED
    FIN_WAIT_2 --fin_timeout--> CLOSED      (Linux's tcp_fin_timeout, an orphan only)
"""

from __future__ import annotations

from enum import Enum


class State(Enum):
    CLOSED = "CLOSED"
    LISTEN = "LISTEN"
    SYN_SENT = "SYN-SENT"
    SYN_RECEIVED = "SYN-RECEIVED"
    ESTABLISHED = "ESTABLISHED"
    FIN_WAIT_1 = "FIN-WAIT-1"
    FIN_WAIT_2 = "FIN-WAIT-2"
    CLOSE_WAIT = "CLOSE-WAIT"
    CLOSING = "CLOSING"
    LAST_ACK = "LAST-ACK"
    TIME_WAIT = "TIME-WAIT"

    def __str__(self) -> str:
        return self.value

    # Members are singletons compared by identity; Enum's own __hash__ is Python code
    # (hash of the name), and "state in RECEIVING" is asked several times a segment.
    __hash__ = object.__hash__


S = State
TRANSITIONS: dict[tuple[State, str], State] = {
    (S.CLOSED, "active_open"): S.SYN_SENT,
    (S.CLOSED, "passive_open"): S.LISTEN,
    (S.LISTEN, "rcv_syn"): S.SYN_RECEIVED,
    (S.LISTEN, "close"): S.CLOSED,
    (S.SYN_SENT, "rcv_syn_ack"): S.ESTABLISHED,
    (S.SYN_SENT, "rcv_syn"): S.SYN_RECEIVED,
    (S.SYN_SENT, "close"): S.CLOSED,
    (S.SYN_RECEIVED, "rcv_ack_of_syn"): S.ESTABLISHED,
    (S.SYN_RECEIVED, "close"): S.FIN_WAIT_1,
    (S.ESTABLISHED, "close"): S.FIN_WAIT_1,
    (S.ESTABLISHED, "rcv_fin"): S.CLOSE_WAIT,
    (S.FIN_WAIT_1, "rcv_ack_of_fin"): S.FIN_WAIT_2,
    (S.FIN_WAIT_1, "rcv_fin"): S.CLOSING,
    (S.FIN_WAIT_2, "rcv_fin"): S.TIME_WAIT,
    (S.CLOSING, "rcv_ack_of_fin"): S.TIME_WAIT,
    (S.CLOSE_WAIT, "close"): S.LAST_ACK,
    (S.LAST_ACK, "rcv_ack_of_fin"): S.CLOSED,
    (S.TIME_WAIT, "timeout_2msl"): S.CLOSED,
    (S.FIN_WAIT_2, "fin_timeout"): S.CLOSED,
}

#: States in which the connection is synchronized (RFC 9293 §3.5.2).
SYNCHRONIZED = frozenset({S.ESTABLISHED, S.FIN_WAIT_1, S.FIN_WAIT_2, S.CLOSE_WAIT, S.CLOSING,
                          S.LAST_ACK, S.TIME_WAIT})
#: States in which data may still arrive from the peer.
RECEIVING = frozenset({S.ESTABLISHED, S.FIN_WAIT_1, S.FIN_WAIT_2})
#: States in which our data may still be sent.
SENDING = frozenset({S.ESTABLISHED, S.CLOSE_WAIT, S.FIN_WAIT_1, S.CLOSING, S.LAST_ACK})
