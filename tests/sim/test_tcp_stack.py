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
