"""websocket-client and websocket-server on simulated nodes against scripted raw-TCP
peers (a real peer's own program, written with the socket API): a hostile peer fails
only its own connection, with the close frame and words the real stacks use, and every
other app runs on."""

from netsim import line
from netsim.apps.ping import Ping
from netsim.apps.websocket import WebSocketClientApp, WebSocketServerApp
from netsim.proto.websocket import RFC_SAMPLE_KEY, accept_for

UPGRADE = (b"GET /ticker HTTP/1.1\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: " + RFC_SAMPLE_KEY.encode() + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
MASK = b"\x01\x02\x03\x04"


def switching(accept: str) -> bytes:
    return (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept.encode() + b"\r\n\r\n")


def masked(first: int, payload: bytes) -> bytes:
    return (bytes([first, 0x80 | len(payload)]) + MASK
            + bytes(b ^ MASK[i % 4] for i, b in enumerate(payload)))


def unmasked_close(data: bytes) -> tuple[int, bytes]:
    """A client's close frame (masked, short) → (code, reason)."""
    assert data[0] == 0x88 and data[1] & 0x80
    key, payload = data[2:6], data[6:6 + (data[1] & 0x7F)]
    payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return int.from_bytes(payload[:2], "big"), payload[2:]


def read_to_eof(sock):
    heard = b""
    while True:
        data = yield sock.recv()
        if not data:
            return heard
        heard += data


def scripted_server(net, node, answer: bytes, heard: list):
    """Listens on 80, answers the first request with ``answer``, records all it hears."""
    def run():
        sock = yield node.tcp_listen(80).accept()
        heard.append((yield sock.recv()))
        yield sock.send(answer)
        heard.append((yield from read_to_eof(sock)))
        sock.close()
    net.env.process(run())


def scripted_client(net, node, at: float, script: bytes, heard: list):
    """Connects to b:80 at ``at``, sends ``script``, records all it hears to the end."""
    def run():
        yield net.env.timeout(at)
        sock = node.tcp_connect(net.nodes["b"].ip, 80)
        yield sock.connected
        yield sock.send(script)
        heard.append((yield from read_to_eof(sock)))
        sock.close()
    net.env.process(run())


def app_errors(net):
    return [n.detail for n in net.trace.notes if n.what == "app-error"]


def test_a_server_with_a_wrong_accept_fails_the_client_as_chrome_does_and_the_node_runs_on():
    net, (a, b) = line(["a", "b"], delay="1ms")
    heard: list = []
    scripted_server(net, b, switching("d3JvbmcgYWNjZXB0IGtleQ=="), heard)
    client = WebSocketClientApp(a, url="ws://b/ticker", key=RFC_SAMPLE_KEY, duration=2.0, at=1.0)
    ping = Ping(a, target="b", count=1, at=2.0)
    net.run(10)
    assert client.status == "failed"
    assert client.error == ("WebSocket connection to 'ws://b/ticker' failed: Error during "
                            "WebSocket handshake: Incorrect 'Sec-WebSocket-Accept' header value")
    assert client.lines[-1] == client.error
    assert heard[0].startswith(b"GET /ticker HTTP/1.1") and heard[1] == b""     # then just FIN
    assert app_errors(net) == [{"app": "websocket-client", "error": client.error, "cause": "peer"}]
    assert ping.status == "finished"


def test_a_frame_with_a_2_63_length_gets_chromes_close_1002_before_the_fin():
    net, (a, b) = line(["a", "b"], delay="1ms")
    heard: list = []
    huge = b"\x81\x7f" + (2**63).to_bytes(8, "big")
    scripted_server(net, b, switching(accept_for(RFC_SAMPLE_KEY)) + b"\x81\x02hi" + huge, heard)
    client = WebSocketClientApp(a, url="ws://b/ticker", key=RFC_SAMPLE_KEY, duration=2.0, at=1.0)
    net.run(10)
    assert client.error == "WebSocket connection to 'ws://b/ticker' failed: Invalid frame header"
    assert [r["text"] for r in client.received] == ["hi"]          # the frame before it was taken
    assert unmasked_close(heard[1]) == (1002, b"WebSocket Protocol Error")


def test_an_unmasked_client_frame_fails_that_connection_with_1002_and_the_server_serves_on():
    net, (a, b) = line(["a", "b"], delay="1ms")
    server = WebSocketServerApp(b, every=0.5, updates=8)
    heard: list = []
    scripted_client(net, a, 1.1, UPGRADE + b"\x81\x02hi", heard)
    later = WebSocketClientApp(a, url="ws://b/ticker", duration=1.2, at=2.0)
    net.run(10)
    head, _, rest = heard[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 Switching Protocols")
    assert rest == b"\x88\x02\x03\xea"                             # close 1002, then FIN
    assert "10.0.1.1: WebSocket failed: Invalid WebSocket frame: MASK must be set " \
           "(close 1002 sent)" in server.lines
    assert app_errors(net) == [{"app": "websocket-server", "cause": "peer",
                                "error": "Invalid WebSocket frame: MASK must be set"}]
    assert later.status == "finished" and later.closed_code == 1000
    assert len(later.received) >= 2 and server.status == "serving"


def test_invalid_utf_8_from_a_client_gets_1007_and_a_poller_on_the_same_port_is_answered():
    net, (a, b) = line(["a", "b"], delay="1ms")
    server = WebSocketServerApp(b, every=0.5, updates=4)
    heard: list = []
    scripted_client(net, a, 1.1, UPGRADE + masked(0x81, b"ok") + masked(0x81, b"\xc3\x28"), heard)
    poll: list = []
    scripted_client(net, a, 3.0, b"GET /latest HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n",
                    poll)
    net.run(10)
    _head, _, frames = heard[0].partition(b"\r\n\r\n")
    assert frames == b"\x81\x08echo: ok" + b"\x88\x02\x03\xef"      # the echo, then close 1007
    assert server.echoed == 1
    assert poll[0].startswith(b"HTTP/1.1 200 OK") and b"#4 @2.000" in poll[0]
    assert server.log[-1]["target"] == "/latest"


def test_a_3000_byte_message_over_netsims_tcp_is_one_message_and_one_echo():
    # RFC 6455 §6.2: a message is delivered when its last frame has come, however many TCP
    # segments (here three at a 1460-byte MSS) carry it.
    net, (a, b) = line(["a", "b"], delay="1ms")
    server = WebSocketServerApp(b, every=5.0, updates=1)
    text = "q" * 3000
    client = WebSocketClientApp(a, url="ws://b/ticker", duration=2.0, at=1.0,
                                send=[{"at": "0.5s", "text": text}])
    net.run(10)
    assert server.echoed == 1
    assert [r["text"] for r in client.received] == ["echo: " + text]
    assert client.result()["messages_received"] == 1 and client.closed_code == 1000
