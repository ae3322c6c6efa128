"""netsim — a packet-level network simulator and visualizer.

Real frames (bytes Scapy dissects) cross simulated links between hosts, switches and
routers; everything that happens lands in a trace, from which come pcaps, summaries
and diagrams. Start with :func:`netsim.topo.line` or :func:`netsim.load_scenario`.
"""
