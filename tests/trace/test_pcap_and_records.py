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
