"""The host loop: simulated time, SimPy callbacks, and the known traps of virtual-time
asyncio, each a test."""

from __future__ import annotations

import asyncio
import math
import time

import pytest

import netsim.aio
from netsim.aio import StillWaiting, loop_for
from netsim.aio.version import check

from tests.aio.conftest import unhandled


def test_the_running_loop_is_the_hosts_own(hosts):
    net, alice, bob = hosts
    seen = {}

    async def where(name):
        loop = asyncio.get_running_loop()
        seen[name] = (loop.node.name, loop is loop_for(net.nodes[name]),
                      asyncio.get_event_loop() is loop)

    alice.start_async(where("alice"))
    bob.start_async(where("bob"))
    net.run()
    assert seen == {"alice": ("alice", True, True), "bob": ("bob", True, True)}


def test_time_is_the_simulated_clock_in_exact_seconds(hosts):
    net, alice, _bob = hosts

    async def sleeper():
        loop = asyncio.get_running_loop()
        stamps = []
        for delay in (0.25, 0.1, 0.1, 0.1, 1e-6, 7.3):
            when = loop.time() + delay
            await asyncio.sleep(delay)
            stamps.append((loop.time(), when, net.now))
        return stamps

    for now, when, env_now in alice.run_async(sleeper()):
        assert now == env_now                       # one clock, the same float
        assert now >= when and now - when <= math.ulp(when)
    assert net.now == pytest.approx(7.850001, abs=1e-12)


def test_a_loop_with_only_io_pending_neither_hangs_nor_spins(hosts):
    """The trap: a virtual clock that advances when the loop is idle would jump, and one
    that polls would spin. Here the loop asks SimPy for nothing while it waits for bytes:
    the run ends when the network has nothing left to do."""
    net, alice, bob = hosts
    iterations = []
    loop = loop_for(alice)
    real = loop._run_once

    def counted():
        iterations.append(net.now)
        real()

    loop._run_once = counted

    kept = []

    async def silent(reader, writer):
        kept.append(writer)                         # accepts, never answers, never closes

    async def serve():
        await asyncio.start_server(silent, port=7)

    async def wait_forever():
        reader, _writer = await asyncio.open_connection("bob", 7)
        return await reader.read(100)

    bob.start_async(serve())
    with pytest.raises(StillWaiting, match="nothing more was going to happen"):
        alice.run_async(wait_forever())
    assert len(iterations) < 20                     # a handful, not a spin
    assert max(iterations) < 1.0                    # none after the connection was up


def test_many_zero_time_iterations_change_nothing(hosts):
    """A busy task yielding thousands of times at one instant must not move the clock
    nor any byte or timing of the network's exchange."""
    def exchange(busy: bool):
        from netsim import line
        net, (alice, _r1, bob) = line(["alice", "r1", "bob"], delay="10ms")

        async def echo(reader, writer):
            writer.write(await reader.read(100))
            await writer.drain()
            writer.close()

        async def serve():
            await asyncio.start_server(echo, port=7)

        async def spin():
            for _ in range(5000):
                await asyncio.sleep(0)
            return asyncio.get_running_loop().time()

        async def client():
            if busy:
                assert await asyncio.create_task(spin()) == 0.0
            reader, writer = await asyncio.open_connection("bob", 7)
            writer.write(b"ping")
            data = await reader.read(100)
            writer.close()
            return data, asyncio.get_running_loop().time()

        bob.start_async(serve())
        result = alice.run_async(client())
        net.run()
        frames = [net.trace.frame_bytes(f) for _t, _k, _p, f, _r in net.trace.raw()]
        return result, [r[0] for r in net.trace.raw()], frames

    assert exchange(False) == exchange(True)


def test_executors_and_threads_run_at_once_in_zero_simulated_time(hosts):
    """The trap: a thread cannot keep up with a clock that jumps, so to_thread and
    run_in_executor run the function at once; it takes no simulated time."""
    net, alice, _bob = hosts

    def slow(x):
        time.sleep(0.02)                            # real time: not simulated time
        return x * 2

    def broken():
        raise ValueError("from the executor")

    async def main():
        loop = asyncio.get_running_loop()
        await asyncio.sleep(1)
        a = await asyncio.to_thread(slow, 21)
        b = await loop.run_in_executor(None, slow, 4)
        with pytest.raises(ValueError, match="from the executor"):
            await loop.run_in_executor(None, broken)
        return a, b, loop.time()

    assert alice.run_async(main()) == (42, 8, 1.0)


def test_patching_time_monotonic_does_not_hang_asyncio_sleep(hosts, monkeypatch):
    """The trap: virtual clocks that patch time.monotonic globally hang asyncio.sleep.
    The host loop's time() is the simulation's, so a frozen monotonic clock changes
    nothing, and netsim.aio patches nothing asyncio uses while it runs."""
    net, alice, _bob = hosts
    monkeypatch.setattr(time, "monotonic", lambda: 1000.0)
    frozen = time.monotonic

    async def main():
        assert time.monotonic is frozen and time.perf_counter is not frozen
        await asyncio.sleep(5)
        return asyncio.get_running_loop().time()

    assert alice.run_async(main()) == 5.0


def test_cancelled_timers_do_not_keep_the_run_going(hosts):
    """SimPy cannot cancel events: a cancelled asyncio timer must not move the clock to its
    time (an idle timer of 300 s kept the prototype's runs going that long)."""
    net, alice, _bob = hosts
    fired = []

    async def main():
        loop = asyncio.get_running_loop()
        idle = loop.call_later(300, fired.append, "idle")
        try:
            await asyncio.wait_for(asyncio.sleep(3600), timeout=2)
        except asyncio.TimeoutError:
            pass
        await asyncio.sleep(1)
        idle.cancel()

    alice.start_async(main())
    net.run()
    assert fired == [] and net.now == 3.0


def test_a_live_timer_still_fires(hosts):
    net, alice, _bob = hosts
    fired = []

    async def main():
        loop = asyncio.get_running_loop()
        loop.call_later(5, lambda: fired.append(loop.time()))
        early = loop.call_later(1, fired.append, "cancelled")
        loop.call_later(0.5, early.cancel)

    alice.start_async(main())
    net.run()
    assert fired == [5.0] and net.now == 5.0


def test_start_async_at_a_time_beside_other_apps(hosts):
    from netsim.apps import Ping

    net, alice, bob = hosts
    ping = Ping(alice, target="bob", count=2, at=0.0)
    task = bob.start_async(asyncio.sleep(0, "late"), at=2.5)
    started = []

    async def note():
        started.append(asyncio.get_running_loop().time())

    alice.start_async(note(), at=1.5)
    net.run()
    assert task.result() == "late" and started == [1.5]
    assert ping.result()["received"] == 2


def test_run_async_works_inside_another_running_loop(hosts):
    """A notebook cell runs inside the kernel's own event loop: run_async neither needs
    nor disturbs it."""
    net, alice, _bob = hosts

    async def on_host():
        await asyncio.sleep(2)
        return asyncio.get_running_loop().node.name

    async def notebook_cell():
        outer = asyncio.get_running_loop()
        name = alice.run_async(on_host())
        assert asyncio.get_running_loop() is outer
        await asyncio.sleep(0)                      # the outer loop still runs
        return name

    assert asyncio.run(notebook_cell()) == "alice"
    assert net.now == 2.0


def test_run_async_refuses_to_nest(hosts):
    net, alice, _bob = hosts

    async def inner():
        return 1

    async def outer():
        alice.run_async(inner())

    with pytest.raises(RuntimeError, match="await the coroutine"):
        alice.run_async(outer())


def test_run_async_gives_the_coroutines_exception(hosts):
    net, alice, _bob = hosts

    async def failing():
        await asyncio.sleep(1)
        raise KeyError("nope")

    with pytest.raises(KeyError, match="nope"):
        alice.run_async(failing())


def test_run_async_until_a_time(hosts):
    net, alice, _bob = hosts
    with pytest.raises(StillWaiting, match="time limit"):
        alice.run_async(asyncio.sleep(100), until=10)
    assert net.now == 10.0
    net.run()                                       # the sleep is still the host's
    assert net.now == 100.0


@pytest.mark.parametrize("call, args", [
    ("sock_recv", (None, 1)), ("sock_connect", (None, ("10.0.0.1", 1))),
    ("add_reader", (3, print)), ("add_writer", (3, print)),
    ("create_unix_connection", (None, "/tmp/x")), ("subprocess_exec", (None, "ls")),
    ("connect_read_pipe", (None, None)), ("add_signal_handler", (2, print))])
def test_unsupported_calls_name_themselves(hosts, call, args):
    net, alice, _bob = hosts
    loop = loop_for(alice)
    with pytest.raises(NotImplementedError, match=f"loop.{call}\\(\\)"):
        getattr(loop, call)(*args)


def test_the_loop_cannot_be_run_by_hand(hosts):
    net, alice, _bob = hosts
    with pytest.raises(RuntimeError, match="runs inside the simulation"):
        loop_for(alice).run_until_complete(asyncio.sleep(0))


def test_host_name_during_a_run(hosts):
    import socket

    net, alice, _bob = hosts
    real = socket.gethostname()

    async def main():
        return socket.gethostname(), socket.getfqdn()

    assert alice.run_async(main()) == ("alice", "alice")
    assert socket.gethostname() == real


def test_opt_in_wall_clock_and_random(hosts):
    import datetime
    import random

    def run(seed_first):
        from netsim import line
        net, (a, b) = line(["a", "b"])
        loop = loop_for(a)
        loop.simulated_clock = loop.seeded_random = True
        random.seed(seed_first)                     # the global generator: not the host's

        async def main():
            await asyncio.sleep(90)
            return (time.time(), datetime.datetime.now(datetime.timezone.utc).isoformat(),
                    random.random())

        return a.run_async(main()), random.random()

    (stamp, iso, drawn), after = run(1)
    assert stamp == 1_704_067_200 + 90
    assert iso == "2024-01-01T00:01:30+00:00"
    (_, _, drawn_again), after_other = run(2)
    assert drawn == drawn_again                     # the host's own seeded generator
    assert after != after_other                     # and the caller's is left alone
    assert time.time() > 1_704_067_200 + 10 ** 6    # the real clock is back


def test_strict_mode_lets_a_callbacks_bug_propagate(hosts):
    net, alice, _bob = hosts

    async def main():
        asyncio.get_running_loop().call_soon(lambda: 1 / 0)
        await asyncio.sleep(1)

    with pytest.raises(ZeroDivisionError):
        alice.run_async(main())


def test_unsupported_python_versions_are_refused_by_name():
    with pytest.raises(RuntimeError, match="not on Python 3.10"):
        check((3, 10))
    with pytest.raises(RuntimeError, match="not on Python 3.14"):
        check((3, 14))
    check((3, 11))
    assert netsim.aio.SUPPORTED == ((3, 11), (3, 12), (3, 13))


def test_no_loop_reported_an_unhandled_error(hosts):
    net, alice, bob = hosts
    alice.run_async(asyncio.sleep(1))
    assert unhandled(alice, bob) == []
