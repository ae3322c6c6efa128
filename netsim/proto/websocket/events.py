"""What a WebSocket engine reports to its application (besides the stream contract's
Send/Close/Failed): the opening, messages, pongs, the close, and the client's plan going out.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Opened:
    """The handshake is done: frames from here on."""
    accept: str


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class Binary:
    data: bytes


@dataclass(frozen=True, slots=True)
class PongReceived:
    payload: bytes


@dataclass(frozen=True, slots=True)
class Closed:
    """The peer's close frame (its code and reason), or 1006: the connection ended
    without one (§7.1.5)."""
    code: int | None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Refused:
    """The server would not upgrade (its status and why); the connection closes."""
    status: int
    why: str


@dataclass(frozen=True, slots=True)
class SentText:
    """A message of the client's plan went out."""
    text: str


@dataclass(frozen=True, slots=True)
class SentPing:
    payload: bytes


@dataclass(frozen=True, slots=True)
class SentClose:
    """The client began the closing handshake."""
    code: int


@dataclass(frozen=True, slots=True)
class FrameRefused:
    """The peer sent what the stack refuses: the connection fails (a PeerError follows)
    after a close frame with ``code`` (None: the stack drops it without one)."""
    message: str
    code: int | None
