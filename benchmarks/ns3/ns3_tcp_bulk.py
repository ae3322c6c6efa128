"""ns-3 (PyPI wheel 'ns3' 3.44, cppyy bindings) TCP bulk transfer, the counterpart of netsim's
benchmarks/tcp_bulk.py (20 MB = 20,000,000 B over a 1 Gbps, 1 ms path, no loss).
Run with the python of its own venv (see README.md beside this script: ns3 must live in its own venv: its wheel
overwrites ns/__init__.py, which breaks ns.py's `ns` package).

n0 --p2p(1Gbps,500us)-- n1 --p2p(1Gbps,500us)-- n2     (default, the line of ns3_line.py; path delay 1 ms)
n0 --p2p(1Gbps,1ms)-- n2                               (--nodes 2: netsim's tcp_bulk.py topology exactly)
BulkSendApplication on n0 (MaxBytes = SIZE, SendSize 64 KiB like netsim's tcp-source) to a PacketSink
on n2; n1 routes (global routing). TcpNewReno with classic recovery, MSS 1460 (TcpSocket::SegmentSize),
and the other knobs set to netsim's TcpConnection defaults: an ACK for every segment (DelAckCount 1),
256 KiB send and receive buffers, initial window 3 segments (4380 B, RFC 3390), no SACK, no
timestamps, window scaling on. Addresses are simulated (documentation ranges); nothing leaves the process.
Prints one JSON line: import_s, setup_s (topology build incl. cppyy first-use JIT), run_s
(Simulator.Run wall), rx_bytes (PacketSink total), segments (rx_bytes / 1460: data segments
delivered), segments_per_s (segments / run_s), link_frames (frames put on links, every hop, data +
ACK + SYN/FIN, from the device queues' counters), events executed (Simulator.GetEventCount).
--probe polls the sink every 100 us of simulated time (Python events, so only for checking the
simulated transfer time and goodput; not for timing).
usage: ns3_tcp_bulk.py [SIZE_BYTES] [--nodes 2|3] [--probe]
"""
import json
import sys
import time

args = sys.argv[1:]
NODES = 3
if "--nodes" in args:
    i = args.index("--nodes")
    NODES = int(args[i + 1])
    del args[i:i + 2]
PROBE = "--probe" in args
args = [a for a in args if a != "--probe"]
SIZE = int(float(args[0])) if args else 20_000_000
MSS = 1460
assert NODES in (2, 3), "--nodes takes 2 or 3"

t0 = time.perf_counter()
from ns import ns  # noqa: E402
t_import = time.perf_counter() - t0

t1 = time.perf_counter()
ns.Config.SetDefault("ns3::TcpL4Protocol::SocketType", ns.StringValue("ns3::TcpNewReno"))
ns.Config.SetDefault("ns3::TcpL4Protocol::RecoveryType", ns.StringValue("ns3::TcpClassicRecovery"))
ns.Config.SetDefault("ns3::TcpSocket::SegmentSize", ns.UintegerValue(MSS))
ns.Config.SetDefault("ns3::TcpSocket::DelAckCount", ns.UintegerValue(1))
ns.Config.SetDefault("ns3::TcpSocket::SndBufSize", ns.UintegerValue(262144))
ns.Config.SetDefault("ns3::TcpSocket::RcvBufSize", ns.UintegerValue(262144))
ns.Config.SetDefault("ns3::TcpSocket::InitialCwnd", ns.UintegerValue(3))
ns.Config.SetDefault("ns3::TcpSocketBase::Sack", ns.BooleanValue(False))
ns.Config.SetDefault("ns3::TcpSocketBase::Timestamp", ns.BooleanValue(False))
ns.Config.SetDefault("ns3::TcpSocketBase::WindowScaling", ns.BooleanValue(True))

nodes = ns.NodeContainer()
nodes.Create(NODES)
p2p = ns.PointToPointHelper()
p2p.SetDeviceAttribute("DataRate", ns.StringValue("1Gbps"))
p2p.SetChannelAttribute("Delay", ns.StringValue("500us" if NODES == 3 else "1ms"))
links = [p2p.Install(nodes.Get(k), nodes.Get(k + 1)) for k in range(NODES - 1)]
stack = ns.InternetStackHelper()
stack.Install(nodes)
addr = ns.Ipv4AddressHelper()
ifaces = []
for base, dev in zip(("192.0.2.0", "198.51.100.0"), links):
    addr.SetBase(ns.Ipv4Address(base), ns.Ipv4Mask("255.255.255.0"))
    ifaces.append(addr.Assign(dev))
ns.Ipv4GlobalRoutingHelper.PopulateRoutingTables()

port = 5001
dst = ns.InetSocketAddress(ifaces[-1].GetAddress(1), port).ConvertTo()
sink_helper = ns.PacketSinkHelper("ns3::TcpSocketFactory",
                                  ns.InetSocketAddress(ns.Ipv4Address.GetAny(), port).ConvertTo())
sapps = sink_helper.Install(nodes.Get(NODES - 1))
sapps.Start(ns.Seconds(0.0))
bulk = ns.BulkSendHelper("ns3::TcpSocketFactory", dst)
bulk.SetAttribute("MaxBytes", ns.UintegerValue(SIZE))
bulk.SetAttribute("SendSize", ns.UintegerValue(65536))
capps = bulk.Install(nodes.Get(0))
capps.Start(ns.Seconds(0.001))
ns.Simulator.Stop(ns.Seconds(60.0))        # ends long before: the event list empties
sink = ns.cppyy.gbl.ns3.DynamicCast[ns.PacketSink](sapps.Get(0))
queues = [ns.cppyy.gbl.ns3.DynamicCast[ns.PointToPointNetDevice](dev.Get(k)).GetQueue()
          for dev in links for k in (0, 1)]

done_at = []
if PROBE:
    ns.cppyy.cppdef("""
    namespace probe {
      ns3::Ptr<ns3::PacketSink> sink; uint64_t size = 0; double doneAt = -1;
      void Poll() {
        if (sink->GetTotalRx() >= size) { doneAt = ns3::Simulator::Now().GetSeconds(); return; }
        ns3::Simulator::Schedule(ns3::MicroSeconds(100), &Poll);
      }
    }""")
    ns.cppyy.gbl.probe.sink = sink
    ns.cppyy.gbl.probe.size = SIZE
    ns.Simulator.Schedule(ns.Seconds(0.001), ns.cppyy.gbl.probe.Poll)
t_setup = time.perf_counter() - t1

t2 = time.perf_counter()
ns.Simulator.Run()
t_run = time.perf_counter() - t2
rx = int(sink.GetTotalRx())
frames = sum(int(q.GetTotalReceivedPackets()) for q in queues)
events = int(ns.Simulator.GetEventCount())
row = {"size": SIZE, "nodes": NODES, "import_s": t_import, "setup_s": t_setup, "run_s": t_run,
       "rx_bytes": rx, "segments": rx / MSS, "segments_per_s": rx / MSS / t_run, "link_frames": frames,
       "events": events, "events_per_s": events / t_run, "events_per_segment": events / (rx / MSS)}
if PROBE:
    t_done = float(ns.cppyy.gbl.probe.doneAt)
    row["transfer_s_simulated"] = t_done - 0.001          # from the application's start (approx.)
    row["goodput_Mbps"] = rx * 8 / (t_done - 0.001) / 1e6 if t_done > 0 else None
ns.Simulator.Destroy()
assert rx == SIZE, f"only {rx} of {SIZE} bytes arrived"
print(json.dumps(row))
