"""The runtime's blocking-program calls for stream engines that have them: ``written(now)``
where each write() returns, ``read_size()`` before each read() — a bulk sender and a
slow reader on the one driver — and connection options passed to TCP."""

from netsim import line
from netsim.apps.base import App
from netsim.proto.bulk import PIECE, BulkSink, BulkSource, Received
from netsim.sim.runtime import StreamDriver, serve


class Quiet(App):
    name = "test-app"
    SERVICE = True

    def start(self):
        pass


def transfer(*, size, rate=None, pause=None, until=30.0, recv_buffer=None):
    net, (a, b) = line(["a", "b"], rate="10Mbps", delay="5ms")
    reads, ended = [], []
    options = {"recv_buffer": recv_buffer} if recv_buffer else None
    serve(Quiet(b), 5001, lambda _sock: BulkSink(rate=rate, pause=pause), options=options,
          on_output=lambda _d, out: reads.append((net.env.now, len(out.data)))
          if isinstance(out, Received) else None,
          on_end=lambda d: ended.append(("sink", net.env.now)))
    engine = BulkSource(size=size, until=None, chunk=4096, randbytes=bytes)
    driver = StreamDriver(Quiet(a), engine, on_end=lambda d: ended.append(("source", net.env.now)))
    driver.connect(b.ip, 5001)
    net.run(until)
    return net, engine, driver, reads, ended


def test_a_bulk_source_writes_every_piece_and_closes_after_the_last_returned():
    net, engine, driver, reads, ended = transfer(size=100_000)
    assert engine.sent == 100_000 and sum(n for _t, n in reads) == 100_000
    assert sorted(who for who, _t in ended) == ["sink", "source"]
    assert driver.sock.closed.value == "normal" and driver.failure is None


def test_a_slow_reader_reads_a_segment_at_a_time_at_its_pace_and_its_window_shrinks():
    net, _engine, _driver, reads, _ended = transfer(size=60_000, rate=1e6, recv_buffer=8192,
                                                    until=5.0)
    assert all(n <= PIECE for _t, n in reads) and sum(n for _t, n in reads) == 60_000
    gaps = [t2 - t1 for (t1, n1), (t2, _n2) in zip(reads, reads[1:])]
    assert all(gap >= n * 8 / 1e6 - 1e-12 for gap, (_t, n) in zip(gaps, reads))
    windows = [n.detail["snd_wnd"] for n in net.trace.notes if n.what == "tcp-metrics"
               and n.node == "a"]
    # The option reached the sink (a default buffer advertises 64 KiB and more), and a
    # reader this slow keeps its window below a segment at times.
    assert max(windows) <= 8192 and min(windows) < PIECE


def test_nothing_is_read_during_a_pause():
    _net, _engine, _driver, reads, _ended = transfer(size=40_000, pause=(0.02, 1.0), until=3.0)
    assert not [t for t, _n in reads if 0.03 < t < 1.0]
    assert sum(n for _t, n in reads) == 40_000 and reads[-1][0] >= 1.0
