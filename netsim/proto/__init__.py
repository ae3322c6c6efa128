"""Sans-I/O protocol engines: messages and ``now`` in, outputs queued, timers asked for.

No module here imports SimPy, the filesystem or anything of ``netsim.sim``. An
engine exposes ``outputs()`` (drain what it wants done), ``get_timer()`` (the next
deadline, or ``None``) and ``handle_timer(now)``; :class:`netsim.sim.driver.EngineDriver`
is the one place where the simulated clock meets them (README design principles 1–2).
"""
