"""5. ns-3 (PyPI wheel 'ns3' 3.44, cppyy bindings) 3-node point-to-point line, one UDP flow.
Run with the python of its own venv (see README.md beside this script: ns3 must live in its own venv: its wheel
overwrites ns/__init__.py, which breaks ns.py's `ns` package).

n0 --p2p(1Gbps,10us)-- n1 --p2p(1Gbps,10us)-- n2
UdpClient on n0 sends N packets of 100 B payload every 2 us to UdpServer on n2; n1 routes
(global routing).  Addresses are simulated (documentation ranges); nothing leaves the process.
Prints one JSON line: import_s, setup_s (topology build incl. cppyy first-use JIT), run_s
(Simulator.Run wall), rx packets, events executed (Simulator.GetEventCount).
usage: ns3_line.py N
"""
import json
import sys
import time

N = int(float(sys.argv[1])) if len(sys.argv) > 1 else 100000
t0 = time.perf_counter()
from ns import ns  # noqa: E402
t_import = time.perf_counter() - t0

t1 = time.perf_counter()
nodes = ns.NodeContainer()
nodes.Create(3)
p2p = ns.PointToPointHelper()
p2p.SetDeviceAttribute("DataRate", ns.StringValue("1Gbps"))
p2p.SetChannelAttribute("Delay", ns.StringValue("10us"))
d01 = p2p.Install(nodes.Get(0), nodes.Get(1))
d12 = p2p.Install(nodes.Get(1), nodes.Get(2))
stack = ns.InternetStackHelper()
stack.Install(nodes)
addr = ns.Ipv4AddressHelper()
addr.SetBase(ns.Ipv4Address("192.0.2.0"), ns.Ipv4Mask("255.255.255.0"))
i01 = addr.Assign(d01)
addr.SetBase(ns.Ipv4Address("198.51.100.0"), ns.Ipv4Mask("255.255.255.0"))
i12 = addr.Assign(d12)
ns.Ipv4GlobalRoutingHelper.PopulateRoutingTables()

interval_us = 2
stop_s = 0.01 + N * interval_us * 1e-6 + 0.01
server = ns.UdpServerHelper(9)
sapps = server.Install(nodes.Get(2))
sapps.Start(ns.Seconds(0.0))
sapps.Stop(ns.Seconds(stop_s))
client = ns.UdpClientHelper(i12.GetAddress(1).ConvertTo(), 9)
client.SetAttribute("MaxPackets", ns.UintegerValue(N))
client.SetAttribute("Interval", ns.TimeValue(ns.MicroSeconds(interval_us)))
client.SetAttribute("PacketSize", ns.UintegerValue(100))
capps = client.Install(nodes.Get(0))
capps.Start(ns.Seconds(0.01))
capps.Stop(ns.Seconds(stop_s))
ns.Simulator.Stop(ns.Seconds(stop_s + 0.001))
udp_server = ns.cppyy.gbl.ns3.DynamicCast[ns.UdpServer](sapps.Get(0))
t_setup = time.perf_counter() - t1

t2 = time.perf_counter()
ns.Simulator.Run()
t_run = time.perf_counter() - t2
rx = int(udp_server.GetReceived())
lost = int(udp_server.GetLost())
events = int(ns.Simulator.GetEventCount())
ns.Simulator.Destroy()
print(json.dumps({"N": N, "import_s": t_import, "setup_s": t_setup, "run_s": t_run, "rx": rx, "lost": lost,
                  "events": events, "pkts_per_s": rx / t_run, "events_per_s": events / t_run}))
