"""TCP on simulated nodes: sockets, demultiplexing, RST for closed ports."""

from netsim import line


def test_the_docstring_echo_server_and_client():
    net, (client, _r, server) = line(["client", "r", "server"], delay="2ms")
    log = []

    def echo_server(node):
        listener = node.tcp_listen(7)
        sock = yield listener.accept()
        while True:
            data = yield sock.recv()
            if not data:
                break
            yield sock.send(data)
        sock.close()

    def echo_client(node, server_ip):
        sock = node.tcp_connect(server_ip, 7)
        yield sock.connected
        yield sock.send(b"hello, world")
        log.append((yield sock.recv()))
        sock.close()
        log.append((yield sock.closed))

    net.env.process(echo_server(server))
    net.env.process(echo_client(client, "10.0.2.2"))
    net.run(70)                      # Linux keeps TIME-WAIT 60 s (TCP_TIMEWAIT_LEN)
    assert log == [b"hello, world", "normal"]
    assert client.tcp.connections == {} and server.tcp.connections == {}
    states = [n.detail["new"] for n in net.trace.notes if n.what == "tcp-state" and n.node == "client"]
    assert states == ["SYN-SENT", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT", "CLOSED"]


def test_several_connections_are_demultiplexed_by_four_tuple():
    net, (client, _r, server) = line(["client", "r", "server"])
    listener = server.tcp_listen(80)
    got = {}

    def serve():
        while True:
            sock = yield listener.accept()
            net.env.process(drain(sock))

    def drain(sock):
        data = b""
        while True:
            chunk = yield sock.recv()
            if not chunk:
                break
            data += chunk
        got[sock.remote[1]] = data
        sock.close()

    def talk(tag):
        sock = client.tcp_connect("10.0.2.2", 80)
        yield sock.connected
        yield sock.send(tag * 5000)
        sock.close()

    net.env.process(serve())
    for tag in (b"a", b"b", b"c"):
        net.env.process(talk(tag))
    net.run(10)
    assert sorted(got.values()) == [b"a" * 5000, b"b" * 5000, b"c" * 5000]
    assert len(set(got)) == 3                    # three ephemeral ports


def test_segment_to_a_closed_port_is_answered_with_rst():
    net, (client, _r, server) = line(["client", "r", "server"])
    sock = client.tcp_connect("10.0.2.2", 9999)
    outcome = []

    def wait():
        try:
            yield sock.connected
        except ConnectionError as exc:
            outcome.append(str(exc))
    net.env.process(wait())
    net.run(5)
    assert outcome == ["connection refused"]
    drops = [r.reason for r in net.trace.records() if r.kind == "drop"]
    assert drops == ["port-closed"]


def test_isn_and_ports_follow_the_seed():
    def first_syn(seed):
        net, (client, _r, server) = line(["client", "r", "server"], seed=seed)
        server.tcp_listen(80)
        client.tcp_connect("10.0.2.2", 80)
        net.run(1)
        return next(n.detail["conn"] for n in net.trace.notes if n.what == "tcp-state"), \
            client.tcp.connections and list(client.tcp.connections.values())[0].conn.iss
    assert first_syn(1) == first_syn(1)
    assert first_syn(1) != first_syn(2)


def test_sending_nothing_completes_at_once():
    net, (client, _r, server) = line(["client", "r", "server"])
    server.tcp_listen(7)
    done = []

    def talk():
        sock = client.tcp_connect("10.0.2.2", 7)
        yield sock.connected
        yield sock.send(b"")
        done.append(net.env.now)

    net.env.process(talk())
    net.run(1)
    assert len(done) == 1


def _close_segments(net):
    """The TCP flags each end sent from the first FIN on, in order: ("client", "FA"), …"""
    from scapy.layers.inet import TCP
    from scapy.layers.l2 import Ether
    out = []
    for rec in net.trace.records():
        if rec.kind == "tx" and rec.node in ("client", "server") and rec.protocol == "TCP":
            flags = str(Ether(net.trace.frame_bytes(rec.frame))[TCP].flags)
            if out or "F" in flags:
                out.append((rec.node, flags))
    return out


def _echo_once(stack):
    net, (client, _r, server) = line(["client", "r", "server"], delay="2ms")
    for node in (client, server):
        node.tcp.use_stack(stack)

    def server_side(node):
        sock = yield node.tcp_listen(7).accept()
        while (yield sock.recv()):
            pass
        sock.close()                             # at once after read() returned 0

    def client_side(node):
        sock = node.tcp_connect("10.0.2.2", 7)
        yield sock.connected
        sock.close()

    net.env.process(server_side(server))
    net.env.process(client_side(client))
    net.run(5)
    return net


def test_linux_closes_in_three_segments_when_the_server_closes_at_eof():
    """tcp_fin's ping-pong mode: the ACK of the client's FIN waits, and the server's
    prompt close() carries it (FIN / FIN+ACK / ACK, as in most real Linux captures)."""
    assert _close_segments(_echo_once("linux")) == [
        ("client", "FA"), ("server", "FA"), ("client", "A")]


def test_the_textbook_stack_closes_in_four_segments():
    assert _close_segments(_echo_once("textbook")) == [
        ("client", "FA"), ("server", "A"), ("server", "FA"), ("client", "A")]


def test_an_orphan_in_fin_wait_2_is_gone_after_60_seconds_a_shut_down_socket_waits():
    net, (client, _r, server) = line(["client", "r", "server"], delay="2ms")
    held = []

    def server_side(node, port):
        held.append((yield node.tcp_listen(port).accept()))                 # never closes

    ends = {}

    def client_side(node, port, end):
        sock = node.tcp_connect("10.0.2.2", port)
        yield sock.connected
        getattr(sock, end)()
        ends[end] = (yield sock.closed), node.env.now

    net.env.process(server_side(server, 7))
    net.env.process(server_side(server, 8))
    net.env.process(client_side(client, 7, "close"))
    net.env.process(client_side(client, 8, "shutdown"))
    net.run(120)
    reason, when = ends["close"]
    assert reason == "fin-timeout" and 60 < when < 60.1
    assert "shutdown" not in ends                       # RFC 9293: waits for the FIN
    states = [n.detail["new"] for n in net.trace.notes if n.what == "tcp-state"
              and n.node == "client"]
    assert states.count("FIN-WAIT-2") == 2 and states.count("CLOSED") == 1
