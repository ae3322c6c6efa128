"""What a :class:`~netsim.proto.tcp.TcpConnection` tells its user, besides segments."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True, slots=True)
class Connected:
    """The handshake completed."""


@dataclass(frozen=True, kw_only=True, slots=True)
class DataReceived:
    """In-order bytes arrived; ``read()`` them."""
    #: How many bytes are waiting to be read now.
    available: int


@dataclass(frozen=True, kw_only=True, slots=True)
class PeerClosed:
    """The peer sent FIN: no more data will arrive (end of file)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Closed:
    """The connection is gone."""
    #: "normal", "reset" (RST received), "refused" (RST to our SYN), "timeout", "aborted".
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class StateChanged:
    old: str
    new: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Metrics:
    """Congestion and timer state after it changed (for the trace and cwnd plots)."""
    cwnd: int
    ssthresh: int
    srtt: float | None
    rto: float
    flight: int
    snd_wnd: int
    phase: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Retransmission:
    seq: int
    length: int
    #: "timeout", "fast-retransmit", "partial-ack", "syn-timeout"
    cause: str
