import struct

from netsim.trace import Trace
from netsim.trace.pcap import pcap_bytes
from netsim.wire import Frame
from netsim.wire.templates import UdpTemplate
from tests.conftest import tshark_fields, tshark_problems

GOOD = UdpTemplate(b"\x02" * 6, b"\x04" * 6, 0x0A000001, 0x0A000002, 1000, 2000).build(b"hello", 1)


def test_pcap_header_and_nanosecond_timestamps(tmp_path):
    data = pcap_bytes([(1.5, GOOD), (2.000000001, GOOD)])
    magic, major, minor, _, _, snap, linktype = struct.unpack_from("<IHHiIII", data)
    assert (magic, major, minor, linktype) == (0xA1B23C4D, 2, 4, 1)
    sec, nsec, incl, orig = struct.unpack_from("<IIII", data, 24)
    assert (sec, nsec, incl, orig) == (1, 500_000_000, len(GOOD), len(GOOD))
    path = tmp_path / "t.pcap"
    path.write_bytes(data)
    assert tshark_fields(path, "frame.time_epoch") == [["1.500000000"], ["2.000000001"]]


def test_the_tshark_check_catches_a_malformed_frame(tmp_path):
    # The check the scenario tests rely on must be able to fail.
    broken = GOOD[:16] + (200).to_bytes(2, "big") + GOOD[18:]     # IPv4 length beyond the frame
    path = tmp_path / "bad.pcap"
    path.write_bytes(pcap_bytes([(0.0, GOOD), (0.1, broken)]))
    problems = tshark_problems(path)
    assert len(problems) == 1 and problems[0].startswith("2")


def test_records_are_compact_and_read_back_in_time_order():
    trace = Trace()
    port = trace.add_port("a", "eth0", "a-b")
    frame = Frame(GOOD)
    trace.record(2.0, 0, port, frame)
    trace.record(1.0, 2, port, Frame(GOOD), trace.reason("loss"))
    trace.record(3.0, 1, port, frame)
    records = list(trace.records())
    assert [r.time for r in records] == [1.0, 2.0, 3.0]
    assert [r.kind for r in records] == ["drop", "tx", "rx"]
    assert records[0].reason == "loss" and records[1].frame == records[2].frame == 0
    assert trace.frame_count == 2                          # bytes kept once per frame
    assert trace.memory_bytes() < 3 * 16 + 2 * 100 + 200


def test_disabled_trace_keeps_nothing():
    trace = Trace(enabled=False)
    trace.record(0.0, 0, trace.add_port("a"), Frame(GOOD))
    assert len(trace) == 0 and trace.frame_count == 0


def test_writing_a_long_trace_takes_no_memory_in_proportion(tmp_path):
    """trace.jsonl and the captures are written as streams (a million datagrams once took
    5 GB to write); here 100,000 records must need far less than their rows would."""
    import tracemalloc
    from netsim import UdpSend, UdpSink
    from netsim.topo import line
    from netsim.trace.jsonl import write_jsonl
    from netsim.trace.pcap import write_link_pcaps
    net, (src, _r, dst) = line(["src", "r1", "dst"], rate="10Gbps", delay="10us", seed=1,
                               queue_packets=1000)
    UdpSink(dst, port=9000)
    UdpSend(src, target="dst", port=9000, size=64, count=25_000, interval=2e-6, at=0.001)
    net.run(until=1)
    assert len(net.trace) >= 100_000
    tracemalloc.start()
    write_jsonl(net.trace, tmp_path / "trace.jsonl")
    write_link_pcaps(net.trace, tmp_path / "pcap")
    _now, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 12_000_000, peak                # rows held at once would be ≈ 100 MB
