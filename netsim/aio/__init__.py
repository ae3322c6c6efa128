"""Your own asyncio code on simulated hosts, in simulated time, over netsim's TCP and UDP.

Each host has an asyncio event loop of its own (:class:`HostLoop`) whose clock is the
simulation's; ``asyncio.open_connection``, ``start_server``, ``create_datagram_endpoint``,
``getaddrinfo``, TLS and the libraries built on them run unchanged on it, their bytes
real frames on the simulated links (and in the pcaps)::

    import asyncio
    from netsim import line
    import netsim.aio

    net, (alice, r1, bob) = line(["alice", "r1", "bob"], delay="50ms")

    async def echo(reader, writer):
        writer.write(await reader.read(100))
        await writer.drain()
        writer.close()

    async def serve():
        server = await asyncio.start_server(echo, port=7)
        await server.serve_forever()

    async def hello():
        reader, writer = await asyncio.open_connection("bob", 7)
        writer.write(b"hello")
        return await reader.read(100), asyncio.get_running_loop().time()

    bob.start_async(serve())
    print(alice.run_async(hello()))         # (b'hello', 0.4…): two round trips of 200 ms

Importing this package gives every host and router ``run_async`` and ``start_async``
(:func:`run_async`, :func:`start_async`). Opt-in determinism for code that reads the
wall clock or draws random numbers: ``loop_for(host).simulated_clock = True`` (time.time()
and datetime.now() read the simulated clock, from 2024-01-01 UTC) and
``loop_for(host).seeded_random = True`` (the random module draws from the host's own
generator, seeded from the network's seed). Byte identity of a run holds per Python
minor version: asyncio's task order changed in 3.12.

Not supported, each raising NotImplementedError that names the call: ``sock_*``,
``add_reader``/``add_writer``, Unix sockets, pipes, subprocesses, signals, and
``create_connection(sock=…)``. During a loop iteration a real socket cannot be had at all
(:class:`RealNetworkError`).
"""

from netsim.aio.guard import RealNetworkError
from netsim.aio.loop import HostLoop
from netsim.aio.run import StillWaiting, loop_for, run_async, start_async
from netsim.aio.version import SUPPORTED
from netsim.sim.ipnode import IpNode


def _run_async(self, coro, *, until=None):
    """Run ``coro`` on this host until it is done (see :func:`netsim.aio.run_async`)."""
    return run_async(self, coro, until=until)


def _start_async(self, coro, *, at=None, name=None):
    """Start ``coro`` on this host; returns its asyncio Task (see :func:`netsim.aio.start_async`)."""
    return start_async(self, coro, at=at, name=name)


# netsim.aio sits above netsim.sim, which cannot import it: the methods are given here.
IpNode.run_async = _run_async
IpNode.start_async = _start_async

__all__ = ["HostLoop", "RealNetworkError", "SUPPORTED", "StillWaiting", "loop_for", "run_async",
           "start_async"]
