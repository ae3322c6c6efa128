"""Links: L/R serialization, propagation, drop-tail queue, loss, order under jitter."""

import pytest

from netsim.sim import Network
from netsim.trace import DROP, ENQUEUE, RX, TX
from netsim.wire import Frame


class Sink:
    """A node that only records when frames arrive."""
    kind = "sink"

    def __init__(self, network, name):
        from netsim.sim.node import Node
        self.node = Node(network, name)
        self.node.receive = self.receive
        self.arrivals = []

    def receive(self, frame, iface):
        self.arrivals.append((self.node.env.now, frame))


def pair(**link):
    net = Network(seed=1)
    a, b = Sink(net, "a"), Sink(net, "b")
    ia, ib = a.node.add_interface(), b.node.add_interface()
    net.connect(ia, ib, **link)
    return net, ia, b


def test_arrival_is_serialization_plus_propagation():
    net, ia, b = pair(rate=1e6, delay=0.010)
    ia.send_frame(Frame(bytes(1000)))
    net.run()
    (t, _), = b.arrivals
    assert t == pytest.approx(1000 * 8 / 1e6 + 0.010)


def test_back_to_back_frames_queue_behind_each_other():
    net, ia, b = pair(rate=1e6, delay=0.0)
    for _ in range(3):
        ia.send_frame(Frame(bytes(125)))                  # 1 ms each
    net.run()
    assert [round(t, 6) for t, _ in b.arrivals] == [0.001, 0.002, 0.003]
    kinds = [r.kind for r in net.trace.records()]
    assert kinds.count("enqueue") == 2 and kinds.count("tx") == 3


def test_drop_tail_queue_in_packets():
    net, ia, b = pair(rate=1e6, delay=0.0, queue_packets=2)
    for _ in range(5):
        ia.send_frame(Frame(bytes(125)))
    net.run()
    # One on the wire, two waiting, two dropped.
    assert len(b.arrivals) == 3
    assert [r.reason for r in net.trace.records() if r.kind == "drop"] == ["queue-full"] * 2


def test_drop_tail_queue_in_bytes():
    net, ia, b = pair(rate=1e6, delay=0.0, queue_bytes=300)
    for _ in range(5):
        ia.send_frame(Frame(bytes(125)))
    net.run()
    assert len(b.arrivals) == 3                            # 1 sending + 250 bytes waiting


def test_queue_drains_over_time():
    net, ia, b = pair(rate=1e6, delay=0.0, queue_packets=1)
    ia.send_frame(Frame(bytes(125)))
    ia.send_frame(Frame(bytes(125)))
    net.at(0.0015, lambda: ia.send_frame(Frame(bytes(125))))   # the queue has room again
    net.run()
    assert len(b.arrivals) == 3


def test_loss_is_seeded_and_roughly_the_rate():
    def run(seed):
        net = Network(seed=seed)
        a, b = Sink(net, "a"), Sink(net, "b")
        ia = a.node.add_interface()
        net.connect(ia, b.node.add_interface(), rate=1e9, delay=0, loss=0.2, queue_packets=10**6)
        for _ in range(2000):
            ia.send_frame(Frame(bytes(60)))
        net.run()
        return [t for t, _ in b.arrivals]
    first, again, other = run(5), run(5), run(6)
    assert first == again and first != other
    assert 1500 < len(first) < 1700


def test_jitter_never_reorders():
    net, ia, b = pair(rate=1e9, delay=0.001, jitter=0.005)
    frames = [Frame(bytes([i]) + bytes(59)) for i in range(200)]
    for k, f in enumerate(frames):
        net.at(k * 1e-5, lambda f=f: ia.send_frame(f))
    net.run()
    assert [f for _, f in b.arrivals] == frames
    times = [t for t, _ in b.arrivals]
    assert times == sorted(times) and max(times) > 0.004


def test_records_name_link_and_direction():
    net, ia, b = pair()
    ia.send_frame(Frame(bytes(60)))
    net.run()
    tx, = [r for r in net.trace.records() if r.kind == "tx"]
    assert (tx.node, tx.iface, tx.link) == ("a", "eth0", "a-b")
    assert {TX, RX, DROP, ENQUEUE} == {0, 1, 2, 3}


def test_jitter_never_delivers_faster_than_the_wire():
    from netsim import Network
    from netsim.trace import RX
    net = Network(seed=4)
    a, b = net.add_host("a"), net.add_host("b")
    link = net.connect(a, b, rate=10e6, delay=1e-3, jitter=5e-3, queue_packets=1000)
    a.set_address(a.interfaces["eth0"], "10.0.0.1/24")
    b.set_address(b.interfaces["eth0"], "10.0.0.2/24")
    sock = a.udp_open()
    net.at(0.05, lambda: sock.sendto(b"arp first", ("10.0.0.2", 9)))
    for k in range(200):
        net.at(0.1 + k * 1e-6, lambda: sock.sendto(bytes(1000), ("10.0.0.2", 9)))
    net.run(until=2)
    arrivals = [t for t, kind, port, frame, _r in net.trace.raw()
                if kind == RX and net.trace.ports[port].node == "b"
                and len(net.trace.frame_bytes(frame)) > 1000]
    serialization = 1042 * 8 / link.rate
    assert len(arrivals) == 200
    gaps = [b_ - a_ for a_, b_ in zip(arrivals, arrivals[1:])]
    assert min(gaps) >= serialization * (1 - 1e-9)
