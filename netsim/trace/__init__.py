"""The trace: every model emits records here; every output reads them.

Readers — pcap export, JSON Lines, the summary, diagrams and tables — never hook
into the models (README design principle 7, after ns-3's ``TracedCallback``).
"""

from netsim.trace.recorder import DROP, ENQUEUE, RX, TX, KIND_NAMES, Cause, Port, Record, Trace

__all__ = ["Cause", "DROP", "ENQUEUE", "KIND_NAMES", "Port", "RX", "Record", "TX", "Trace"]
