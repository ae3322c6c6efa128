"""What an FTP engine asks of its driver for a data connection (RFC 959 §3.2), on either
side: listen, connect, send, close — and the close of a MODE S stream is the end of
the file (§3.4.1)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ListenData:
    port: int


@dataclass(frozen=True, slots=True)
class ConnectData:
    address: int
    port: int
    local_port: int          # the server's 20 in active mode; the client's N+k in passive


@dataclass(frozen=True, slots=True)
class SendData:
    data: bytes


@dataclass(frozen=True, slots=True)
class CloseData:
    """Close the data connection after what was sent (or reset it: ``abort``); the driver
    then calls the engine's ``data_done``."""
    abort: bool = False
