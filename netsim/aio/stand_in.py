"""Address-bearing stand-ins for the socket objects libraries ask for.

``server.sockets[0].getsockname()`` (aioftp learns its passive port so),
``transport.get_extra_info("socket")`` (aiohttp and anyio set TCP_NODELAY through it):
on a simulated host there is no socket, so these answer with the simulated addresses
and keep the options set on them, and anything that would need a real socket raises
NotImplementedError naming the call.

One question libraries ask of a descriptor: is it readable now? httpcore polls an idle
kept-alive connection's ``fileno()`` before reusing it, and takes -1 (no descriptor) for
"the server closed it". So ``fileno()`` answers with one of two pipes of this process,
made on first use — one that always polls readable, one that never does — chosen by
the simulated connection's state at that moment (bytes or the peer's FIN waiting, or
gone). Polled, it tells the truth; it is never to be read or written.
"""

from __future__ import annotations

import errno
import os
import socket


class SimSocket:
    """A socket as far as a library can look at one: family, type, addresses, options."""

    family = socket.AF_INET

    def __init__(self, type_: int, sockname: tuple[str, int],
                 peername: tuple[str, int] | None = None, readable=None) -> None:
        self.type = type_
        self._readable = readable           # () -> bool: would a read return at once?
        self.proto = socket.IPPROTO_TCP if type_ == socket.SOCK_STREAM else socket.IPPROTO_UDP
        self._sockname = sockname
        self._peername = peername
        self._options: dict = {}
        self._timeout: float | None = 0.0

    def getsockname(self) -> tuple[str, int]:
        return self._sockname

    def getpeername(self) -> tuple[str, int]:
        if self._peername is None:
            raise OSError(errno.ENOTCONN, "Transport endpoint is not connected")
        return self._peername

    def fileno(self) -> int:
        ready, idle = _pollable()
        return ready if self._readable is not None and self._readable() else idle

    def setsockopt(self, level: int, option: int, value, optlen=None) -> None:
        self._options[(level, option)] = value

    def getsockopt(self, level: int, option: int, buflen: int | None = None):
        return self._options.get((level, option), 0)

    def setblocking(self, flag: bool) -> None:
        self._timeout = None if flag else 0.0

    def settimeout(self, value: float | None) -> None:
        self._timeout = value

    def gettimeout(self) -> float | None:
        return self._timeout

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        raise NotImplementedError(
            f"socket.{name}() on a simulated host: netsim.aio's sockets are stand-ins that "
            "carry addresses; read and write through the transport or the streams")

    def __repr__(self) -> str:
        kind = "stream" if self.type == socket.SOCK_STREAM else "datagram"
        peer = f" peer={self._peername}" if self._peername else ""
        return f"<netsim.aio {kind} socket {self._sockname}{peer}>"


_PIPES: tuple[int, int] | None = None


def _pollable() -> tuple[int, int]:
    """(a descriptor that polls readable, one that does not): see the module's docstring."""
    global _PIPES
    if _PIPES is None:
        ready, ready_w = os.pipe()
        idle, _idle_w = os.pipe()
        os.write(ready_w, b"!")
        _PIPES = (ready, idle)
    return _PIPES
