"""How both benchmarks time a run: Scapy loaded first, then the simulation alone."""

from __future__ import annotations

import time

from netsim.wire import scapy_layers


def timed_run(net, profile: bool = False) -> float:
    """Run ``net`` to the end and return the wall time in seconds.

    Scapy is imported when the first template is built; that one-time start-up cost
    (about 0.3 s, measured by ``netsim --help`` and import timings) is not throughput,
    so it is paid before the clock starts. With ``profile`` a cProfile table is printed.
    """
    scapy_layers.load()
    start = time.perf_counter()
    if profile:
        import cProfile
        import pstats
        profiler = cProfile.Profile()
        profiler.runcall(net.run)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
    else:
        net.run()
    return time.perf_counter() - start
