"""WebSocket engines (RFC 6455) in a pair over a fake stream, and each against wsproto's
own handshake-and-frames connection (a real client and server library)."""

import random

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Request, TextMessage

from netsim.proto.stream import Close, Send
from netsim.proto.websocket import (RFC_SAMPLE_KEY, Closed, Opened, PongReceived, Text,
                                    WebSocketClient, WebSocketServer, accept_for)


def pump(a, b, wire):
    closes = []
    for _ in range(50):
        moved = False
        for x, y in ((a, b), (b, a)):
            for out in x.outputs():
                moved = True
                if isinstance(out, Send):
                    wire.append((x, out.data))
                    y.receive(out.data)
                else:
                    closes.append(x)
        if not moved:
            return closes
    raise AssertionError("no end")


def test_rfc_sample_key_gives_the_rfc_accept():
    assert accept_for(RFC_SAMPLE_KEY) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_pair_handshake_messages_ping_and_close_handshake():
    wire = []
    client = WebSocketClient("quotes", "/ticker", key=RFC_SAMPLE_KEY, rng=random.Random(1))
    server = WebSocketServer(paths=("/ticker",))
    client.start()
    pump(client, server, wire)
    assert client.take_events() == [Opened("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")]
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in wire[1][1]
    server.send_text("AAPL 190.2")
    client.send_text("hello")
    client.ping(b"p")
    pump(client, server, wire)
    assert client.take_events() == [Text("AAPL 190.2"), PongReceived(b"p")]
    assert [e for e in server.take_events() if isinstance(e, Text)] == [Text("hello")]
    frames = wire[2:]                          # after the two handshake heads
    assert all(data[1] & 0x80 for who, data in frames if who is client)      # §5.3: masked
    assert not any(data[1] & 0x80 for who, data in frames if who is server)
    client.close(1000)
    closes = pump(client, server, wire)
    assert client.take_events() == [Closed(1000)] and server.take_events() == [Closed(1000)]
    assert closes == [server]                  # §7.1.1: the server closes the TCP connection


def test_same_seed_same_masks_and_key_checked():
    def frames(seed):
        wire = []
        c = WebSocketClient("h", "/", key=RFC_SAMPLE_KEY, rng=random.Random(seed))
        s = WebSocketServer()
        c.start()
        pump(c, s, wire)
        c.send_text("same")
        pump(c, s, wire)
        return [d for who, d in wire if who is c]
    assert frames(3) == frames(3) and frames(3) != frames(4)


def test_a_wrong_accept_and_a_bad_upgrade_fail_loudly():
    client = WebSocketClient("h", "/", key=RFC_SAMPLE_KEY, rng=random.Random(1))
    client.start()
    client.outputs()
    client.receive(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   b"Sec-WebSocket-Accept: wrong=\r\n\r\n")
    assert "does not match" in client.take_events()[0].why
    server = WebSocketServer(paths=("/ticker",))
    server.receive(b"GET /ticker HTTP/1.1\r\nHost: h\r\n\r\n")
    out = server.outputs()
    assert out[0].data.startswith(b"HTTP/1.1 400 ") and isinstance(out[-1], Close)


def test_our_server_with_wsprotos_client():
    theirs = WSConnection(ConnectionType.CLIENT)
    ours = WebSocketServer(paths=("/chat",))
    ours.receive(theirs.send(Request(host="h", target="/chat")))
    theirs.receive_data(b"".join(o.data for o in ours.outputs() if isinstance(o, Send)))
    assert isinstance(next(theirs.events()), AcceptConnection)
    ours.receive(theirs.send(TextMessage(data="hi")))
    ours.send_text("back")
    theirs.receive_data(b"".join(o.data for o in ours.outputs() if isinstance(o, Send)))
    assert [e.data for e in theirs.events() if isinstance(e, TextMessage)] == ["back"]
    ours.receive(theirs.send(CloseConnection(code=1000)))
    theirs.receive_data(b"".join(o.data for o in ours.outputs() if isinstance(o, Send)))
    assert any(isinstance(e, CloseConnection) for e in theirs.events())


def test_our_client_with_wsprotos_server():
    theirs = WSConnection(ConnectionType.SERVER)
    ours = WebSocketClient("h", "/x", key=RFC_SAMPLE_KEY, rng=random.Random(2))
    ours.start()
    theirs.receive_data(b"".join(o.data for o in ours.outputs()))
    request = next(theirs.events())
    assert isinstance(request, Request) and request.target == "/x"
    ours.receive(theirs.send(AcceptConnection()) + theirs.send(TextMessage(data="tick")))
    assert ours.take_events() == [Opened("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), Text("tick")]
    ours.send_text("hello")
    theirs.receive_data(b"".join(o.data for o in ours.outputs()))
    assert [e.data for e in theirs.events() if isinstance(e, TextMessage)] == ["hello"]
