"""The bulk transfer's engines alone: a source writing in pieces, each after the one
before returned, and a sink whose reading pace (and pause) is its own timer."""

import hashlib
import random

from netsim.proto.bulk import PIECE, BulkSink, BulkSource, Received, Started
from netsim.proto.stream import Close, Send


def source(**options):
    rng = random.Random(7)
    return BulkSource(chunk=1000, randbytes=rng.randbytes, **options)


def test_a_source_writes_each_piece_after_the_last_returned_then_closes():
    engine = source(size=2500, until=None)
    engine.start(1.0)
    first = engine.outputs()
    assert isinstance(first[0], Started) and [len(o.data) for o in first[1:]] == [1000]
    written = [first[1].data]
    for _ in range(2):
        engine.written(1.1)
        (out,) = engine.outputs()
        written.append(out.data)
    assert [len(d) for d in written] == [1000, 1000, 500]
    engine.written(1.2)
    assert engine.outputs() == [Close()]
    assert engine.sent == 2500 and engine.digest == hashlib.sha256(b"".join(written)).hexdigest()
    assert b"".join(written) == random.Random(7).randbytes(2500)       # one stream, in pieces


def test_a_source_without_a_size_writes_until_its_time_is_up_or_the_connection_goes():
    engine = source(size=None, until=3.0)
    engine.start(1.0)
    engine.written(2.999)
    assert [type(o) for o in engine.outputs()] == [Started, Send, Send]
    engine.written(3.0)
    assert engine.outputs() == [Close()]
    gone = source(size=None, until=None)
    gone.start(0.0)
    gone.outputs()
    gone.connection_lost(0.5)
    gone.written(0.6)
    assert gone.outputs() == [] and gone.done


def test_a_sink_reads_everything_at_once_without_a_rate():
    sink = BulkSink()
    sink.start(0.0)
    assert sink.read_size() is None and sink.get_timer() is None
    sink.receive(b"x" * 5000, 0.1)
    assert sink.outputs() == [Received(b"x" * 5000)] and sink.read_size() is None


def test_a_slow_reader_takes_a_segment_at_a_time_at_its_rate():
    sink = BulkSink(rate=1e6)                              # 1 Mbit/s
    sink.start(0.5)
    assert sink.read_size() == PIECE
    sink.receive(b"x" * PIECE, 0.6)
    assert sink.read_size() == 0                           # resting: the timer says when
    assert sink.get_timer() == 0.6 + PIECE * 8 / 1e6
    sink.handle_timer(0.6)
    assert sink.read_size() == 0
    sink.handle_timer(sink.get_timer())
    assert sink.read_size() == PIECE and sink.get_timer() is None


def test_a_read_that_ends_in_the_pause_waits_for_its_end_and_reads_at_once_after_it():
    sink = BulkSink(rate=1e6, pause=(1.0, 4.0))
    sink.start(0.5)
    sink.receive(b"x" * PIECE, 0.995)                      # rests until 1.00668: in the pause
    sink.handle_timer(sink.get_timer())
    assert sink.read_size() == 0 and sink.get_timer() == 4.0
    sink.handle_timer(4.0)
    assert sink.read_size() == PIECE
    early = BulkSink(pause=(1.0, 4.0))                     # no rate: the check is after each read
    early.start(1.5)
    assert early.read_size() == 0 and early.get_timer() == 4.0
