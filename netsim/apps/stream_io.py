"""Driving a stream engine over a TCP socket: its outputs as writes, what arrives as input."""

from __future__ import annotations

from netsim.proto.stream import Close, Send


def batch(outputs) -> tuple[bytes, bool]:
    """An engine's outputs as one write (a server answers a command with one write, as
    real ones do with their output buffer) and whether it then closes."""
    return (b"".join(o.data for o in outputs if isinstance(o, Send)),
            any(isinstance(o, Close) for o in outputs))


def converse(sock, engine):
    """A SimPy process: carry an engine's Send/Close outputs to ``sock`` and what arrives
    back into ``engine.receive`` until one side closes."""
    while True:
        data, closing = batch(engine.outputs())
        if data:
            yield sock.send(data)
        if closing:
            sock.close()
            yield sock.closed
            return
        data = yield sock.recv()
        if not data:
            engine.connection_lost()
            data, _closing = batch(engine.outputs())
            if data:
                yield sock.send(data)
            sock.close()
            return
        engine.receive(data)
