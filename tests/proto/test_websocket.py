"""WebSocket engines (RFC 6455) in a pair over a fake stream, each against wsproto's own
handshake-and-frames connection (a real client and server library), and each against a
hostile peer: what Chrome (our client) and Node's ws (our server) refuse, in their words
and with their close codes."""

import random

import h11
import pytest
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Request, TextMessage
from wsproto.frame_protocol import FrameProtocol

from netsim.errors import PeerError
from netsim.proto.http import Answered, HttpServerConnection
from netsim.proto.http.site import Answer
from netsim.proto.stream import Close, Failed, Send
from netsim.proto.websocket import (RFC_SAMPLE_KEY, Binary, Closed, FrameRefused, FrameScanner,
                                    Opened, PongReceived, Refused, SentClose, SentPing, SentText,
                                    Text, WebSocketClient, WebSocketServer, accept_for)

URL = "ws://quotes/ticker"
CHROME = f"WebSocket connection to '{URL}' failed: "
UPGRADE = (b"GET /ticker HTTP/1.1\r\nHost: quotes\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: " + RFC_SAMPLE_KEY.encode() + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
SWITCHING = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
MASK = b"\x01\x02\x03\x04"


def frame(opcode: int, payload: bytes = b"", *, fin=True, rsv=0, mask: bytes | None = None,
          length: int | None = None, field: int | None = None) -> bytes:
    """A frame as a peer might write it: any length it claims, any length encoding."""
    n = len(payload) if length is None else length
    field = field if field is not None else (n if n < 126 else 126 if n < 65536 else 127)
    head = bytes([(0x80 if fin else 0) | rsv << 4 | opcode, (0x80 if mask else 0) | field])
    if field in (126, 127):
        head += n.to_bytes(2 if field == 126 else 8, "big")
    if mask:
        head += mask
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + payload


def sent(engine) -> tuple[bytes, list]:
    """An engine's outputs: the bytes it sends, and the rest."""
    out = engine.outputs()
    return b"".join(o.data for o in out if isinstance(o, Send)), [o for o in out if not isinstance(o, Send)]


def close_frame(data: bytes, *, from_client: bool) -> tuple[int, str]:
    """The code and reason of the close frame ``data`` (parsed by wsproto)."""
    proto = FrameProtocol(not from_client, [])
    proto.receive_bytes(data)
    [parsed] = list(proto.received_frames())
    return int(parsed.payload[0]), parsed.payload[1]


class Pair:
    """Client and server over a fake wire, with the clock advanced by hand."""

    def __init__(self, client, server):
        self.client, self.server, self.now = client, server, 0.0
        self.wire: list[tuple[object, bytes]] = []
        self.events = {client: [], server: []}
        self.closed: list = []
        client.start(0.0)
        server.start(0.0)
        self.pump()

    def pump(self):
        moved = True
        while moved:
            moved = False
            for x, y in ((self.client, self.server), (self.server, self.client)):
                for out in x.outputs():
                    moved = True
                    if isinstance(out, Send):
                        self.wire.append((x, out.data))
                        y.receive(out.data, self.now)
                    elif isinstance(out, Close):
                        self.closed.append(x)
                    else:
                        self.events[x].append(out)

    def advance(self, until):
        while True:
            due = [(e.get_timer(), k) for k, e in enumerate((self.client, self.server))
                   if e.get_timer() is not None and e.get_timer() <= until]
            if not due:
                break
            self.now, k = min(due)
            (self.client, self.server)[k].handle_timer(self.now)
            self.pump()
        self.now = until

    def take(self, who):
        out, self.events[who] = self.events[who], []
        return out


def client(**kwargs):
    return WebSocketClient("quotes", "/ticker", key=RFC_SAMPLE_KEY, rng=random.Random(1), **kwargs)


def opened_client():
    c = client()
    c.start(0.0)
    c.outputs()
    c.receive(SWITCHING, 0.1)
    assert sent(c)[1] == [Opened("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")]
    return c


def opened_server():
    s = WebSocketServer(paths=("/ticker",))
    s.start(0.0)
    s.receive(UPGRADE, 0.1)
    data, events = sent(s)
    assert data.startswith(b"HTTP/1.1 101 ") and events == [Opened("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")]
    return s


# -- the exchange ----------------------------------------------------------------------------

def test_rfc_sample_key_gives_the_rfc_accept():
    assert accept_for(RFC_SAMPLE_KEY) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_pair_handshake_messages_ping_and_close_handshake():
    pair = Pair(client(), WebSocketServer(paths=("/ticker",), echo="echo: "))
    c, s = pair.client, pair.server
    assert pair.take(c) == [Opened("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")]
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in pair.wire[1][1]
    s.send_text("AAPL 190.2")
    c.send_text("hello")
    c.ping(b"p")
    pair.pump()
    assert pair.take(c) == [Text("AAPL 190.2"), Text("echo: hello"), PongReceived(b"p")]
    assert pair.take(s) == [Opened("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), Text("hello")]
    frames = pair.wire[2:]                       # after the two handshake heads
    assert all(data[1] & 0x80 for who, data in frames if who is c)      # §5.3: masked
    assert not any(data[1] & 0x80 for who, data in frames if who is s)
    c.close(pair.now, 1000)
    pair.pump()
    assert pair.take(c) == [Closed(1000)] and pair.take(s) == [Closed(1000)]
    assert pair.closed == [s]                    # §7.1.1: the server closes TCP first
    pair.advance(pair.now + c.LINGER)            # …and Chrome closes after 2 s if it does not
    assert pair.closed == [s, c] and c.get_timer() is None


def test_the_clients_plan_runs_on_its_own_timer_in_time_order():
    c = client(plan=[(2.0, "send", "hello"), (0.0, "ping", ""), (3.0, "ping", "")], duration=4.0)
    pair = Pair(c, WebSocketServer(paths=("/ticker",)))
    assert c.opened_at == 0.0 and c.get_timer() == 0.0
    pair.advance(10.0)
    assert [e for e in pair.take(c) if not isinstance(e, Opened)] == [
        SentPing(b"netsim"), PongReceived(b"netsim"), SentText("hello"), SentPing(b"netsim"),
        PongReceived(b"netsim"), SentClose(1000), Closed(1000)]
    assert pair.closed[0] is pair.server and c.bytes_sent == sum(len(d) for w, d in pair.wire if w is c)


def test_a_close_never_answered_ends_after_chromes_60_seconds_with_1006():
    c = opened_client()
    c.close(1.0)
    data, _ = sent(c)
    assert close_frame(data, from_client=True) == (1000, "")
    assert c.get_timer() == 61.0
    c.handle_timer(61.0)
    assert sent(c)[1] == [Closed(1006, "the connection closed without a close frame"), Close()]


def test_same_seed_same_masks_and_key_checked():
    def frames(seed):
        pair = Pair(WebSocketClient("h", "/", key=RFC_SAMPLE_KEY, rng=random.Random(seed)),
                    WebSocketServer())
        pair.client.send_text("same")
        pair.pump()
        return [d for who, d in pair.wire if who is pair.client]
    assert frames(3) == frames(3) and frames(3) != frames(4)


def test_our_server_with_wsprotos_client():
    theirs = WSConnection(ConnectionType.CLIENT)
    ours = WebSocketServer(paths=("/chat",), echo="")
    ours.receive(theirs.send(Request(host="h", target="/chat")), 0.0)
    theirs.receive_data(sent(ours)[0])
    assert isinstance(next(theirs.events()), AcceptConnection)
    ours.receive(theirs.send(TextMessage(data="hi")), 0.0)
    ours.send_text("back")
    theirs.receive_data(sent(ours)[0])
    assert [e.data for e in theirs.events() if isinstance(e, TextMessage)] == ["hi", "back"]
    ours.receive(theirs.send(CloseConnection(code=1000)), 0.0)
    data, events = sent(ours)
    theirs.receive_data(data)
    assert any(isinstance(e, CloseConnection) for e in theirs.events()) and Close() in events


def test_our_client_with_wsprotos_server():
    theirs = WSConnection(ConnectionType.SERVER)
    ours = WebSocketClient("h", "/x", key=RFC_SAMPLE_KEY, rng=random.Random(2))
    ours.start(0.0)
    theirs.receive_data(sent(ours)[0])
    request = next(theirs.events())
    assert isinstance(request, Request) and request.target == "/x"
    ours.receive(theirs.send(AcceptConnection()) + theirs.send(TextMessage(data="tick")), 0.0)
    assert sent(ours)[1] == [Opened("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), Text("tick")]
    ours.send_text("hello")
    theirs.receive_data(sent(ours)[0])
    assert [e.data for e in theirs.events() if isinstance(e, TextMessage)] == ["hello"]


# -- one engine per server connection: WebSocket or plain HTTP ------------------------------

class Latest:
    def respond(self, method, target, headers, now, body=b""):
        return Answer(200, [("Content-Type", "text/plain")], b"AAPL 190.20 #1 @0.700\n")


def http_engine():
    return HttpServerConnection({"*": Latest()}, server_name="netsim (quotes)", keep_alive=5.0)


def test_a_request_without_upgrade_is_answered_as_the_plain_http_server_answers_it():
    request = b"GET /latest HTTP/1.1\r\nHost: quotes\r\n\r\n"
    alone = http_engine()
    alone.start(0.0)
    alone.receive(request[:10], 1.0)
    alone.receive(request[10:], 1.0)
    ours = WebSocketServer(paths=("/ticker",), http=http_engine())
    ours.start(0.0)
    ours.receive(request[:10], 1.0)              # the first request decides, whole
    assert ours.outputs() == [] and ours.mode == "deciding"
    ours.receive(request[10:], 1.0)
    assert ours.mode == "http" and ours.outputs() == alone.outputs()
    assert ours.get_timer() == alone.get_timer() == 6.0          # its keep-alive, too
    ours.receive(request, 2.0)                   # the next request on the same connection
    data, events = sent(ours)
    assert data.startswith(b"HTTP/1.1 200 OK") and events == [Answered("GET", "/latest", "1.1", 200)]
    ours.handle_timer(7.0)
    assert ours.outputs() == [Close()]           # the HTTP engine's idle timeout


def test_junk_instead_of_a_request_gets_the_http_servers_400():
    ours = WebSocketServer(paths=("/ticker",), http=http_engine())
    ours.start(0.0)
    ours.receive(b"\x16\x03\x01 not http\r\n\r\n", 1.0)
    data, events = sent(ours)
    assert data.startswith(b"HTTP/1.1 400 Bad Request") and Close() in events


@pytest.mark.parametrize("request_bytes,status,why", [
    (UPGRADE.replace(b"/ticker", b"/nope"), 404, "no WebSocket endpoint at /nope"),
    (UPGRADE.replace(b"Version: 13", b"Version: 8"), 400, "not a WebSocket version 13 upgrade"),
    (UPGRADE.replace(RFC_SAMPLE_KEY.encode(), b"short"), 400, "not a WebSocket version 13 upgrade"),
    (UPGRADE.replace(b"GET", b"PUT"), 400, "not a WebSocket version 13 upgrade"),
])
def test_an_upgrade_the_server_will_not_take_is_refused_and_closed(request_bytes, status, why):
    ours = WebSocketServer(paths=("/ticker",), http=http_engine())
    ours.receive(request_bytes, 1.0)
    data, events = sent(ours)
    assert data.startswith(f"HTTP/1.1 {status} ".encode())
    assert events[0].status == status and why in events[0].why and events[-1] == Close()
    assert isinstance(events[0], Refused)


# -- a hostile server: the client fails as Chrome does ---------------------------------------

@pytest.mark.parametrize("response,message", [
    (SWITCHING.replace(b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", b"wrong="),
     "Error during WebSocket handshake: Incorrect 'Sec-WebSocket-Accept' header value"),
    (SWITCHING.replace(b"Upgrade: websocket\r\n", b""),
     "Error during WebSocket handshake: 'Upgrade' header is missing"),
    (SWITCHING.replace(b"Upgrade: websocket", b"Upgrade: h2c"),
     "Error during WebSocket handshake: 'Upgrade' header value is not 'WebSocket': h2c"),
    (SWITCHING.replace(b"Connection: Upgrade\r\n", b""),
     "Error during WebSocket handshake: 'Connection' header is missing"),
    (SWITCHING.replace(b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n", b""),
     "Error during WebSocket handshake: 'Sec-WebSocket-Accept' header is missing"),
    (b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
     "Error during WebSocket handshake: Unexpected response code: 404"),
    (b"\x00\xffjunk that is no HTTP at all",
     "Error during WebSocket handshake: Invalid status line"),
    (b"HTTP/1.1 101 Switching Protocols\r\nbroken header line\r\n\r\n",
     "Error during WebSocket handshake: net::ERR_INVALID_HTTP_RESPONSE"),
])
def test_a_bad_handshake_answer_fails_the_client_with_chromes_words(response, message):
    c = client()
    c.start(0.0)
    c.outputs()
    with pytest.raises(PeerError) as info:
        c.receive(response, 0.1)
    assert info.value.message == CHROME + message
    assert sent(c) == (b"", [])                  # no frames, no close frame: just the close
    assert not c.open and c.get_timer() is None


def test_a_server_that_closes_before_answering_or_never_answers():
    c = client()
    c.start(0.0)
    with pytest.raises(PeerError) as info:
        c.connection_lost(1.0)
    assert info.value.message == CHROME + "Connection closed before receiving a handshake response"
    silent = client()
    silent.start(0.0)
    assert silent.get_timer() == 240.0
    silent.handle_timer(240.0)
    assert silent.outputs()[-1] == Failed(CHROME + "WebSocket opening handshake timed out")


@pytest.mark.parametrize("bad,message,reason", [
    (frame(1, length=2**63), "Invalid frame header", "WebSocket Protocol Error"),
    (frame(1, b"x", field=126), "Invalid frame header", "WebSocket Protocol Error"),
    (frame(1, b"hi", rsv=4), "One or more reserved bits are on: reserved1 = 1, reserved2 = 0, "
                             "reserved3 = 0", "Invalid reserved bit"),
    (frame(3, b"hi"), "Unrecognized frame opcode: 3", "Unknown opcode"),
    (frame(9, b"p", fin=False), "Invalid frame header", "WebSocket Protocol Error"),
    (frame(1, b"hi", mask=MASK), "A server must not mask any frames that it sends to the client.",
     "Masked frame from server"),
    (frame(0, b"more"), "Received unexpected continuation frame.", "Unexpected continuation"),
    (frame(1, b"a", fin=False) + frame(1, b"b"),
     "Received start of new message but previous message is unfinished.",
     "Previous data frame unfinished"),
    (frame(8, b"\x03"), "Received a broken close frame containing an invalid size body.", ""),
    (frame(8, b"\x03\xee"), "Received a broken close frame containing a reserved status code.", ""),
    (frame(8, b"\x03\xe8\xff\xfe"), "Received a broken close frame containing invalid UTF-8.",
     "Invalid UTF-8 in Close frame"),
    (frame(1, b"\xc3\x28"), "Could not decode a text frame as UTF-8.", "Invalid UTF-8 in text frame"),
])
def test_a_frame_chrome_refuses_fails_the_client_after_close_1002(bad, message, reason):
    c = opened_client()
    with pytest.raises(PeerError) as info:
        c.receive(frame(1, b"before") + bad, 1.0)
    assert info.value.message == CHROME + message
    data, events = sent(c)
    assert events == [Text("before"), FrameRefused(CHROME + message, 1002)]   # after what came before
    assert close_frame(data, from_client=True) == (1002, reason)
    assert not c.open and c.get_timer() is None


def test_a_frame_longer_than_chrome_takes_drops_the_connection_without_a_close_frame():
    c = opened_client()
    with pytest.raises(PeerError) as info:
        c.receive(frame(2, length=2**31), 1.0)
    assert info.value.message == CHROME + "net::ERR_MSG_TOO_BIG"
    assert sent(c) == (b"", [FrameRefused(CHROME + "net::ERR_MSG_TOO_BIG", None)])


def test_a_frame_after_the_servers_close_fails_without_another_close():
    c = opened_client()
    with pytest.raises(PeerError) as info:
        c.receive(frame(8, b"\x03\xe8") + frame(1, b"late"), 1.0)
    assert info.value.message == CHROME + "Data frame received after close"
    data, events = sent(c)
    assert close_frame(data, from_client=True) == (1000, "")
    assert events == [Closed(1000), FrameRefused(CHROME + "Data frame received after close", None)]


# -- a hostile client: the server fails that connection as Node's ws does --------------------

@pytest.mark.parametrize("bad,message,code", [
    (frame(1, b"hi"), "Invalid WebSocket frame: MASK must be set", 1002),
    (frame(1, length=2**63, mask=MASK), "Unsupported WebSocket frame: payload length > 2^53 - 1", 1009),
    (frame(2, length=200 * 2**20, mask=MASK), "Max payload size exceeded", 1009),
    (frame(1, b"hi", rsv=4, mask=MASK), "Invalid WebSocket frame: RSV1 must be clear", 1002),
    (frame(1, b"hi", rsv=1, mask=MASK), "Invalid WebSocket frame: RSV2 and RSV3 must be clear", 1002),
    (frame(3, b"hi", mask=MASK), "Invalid WebSocket frame: invalid opcode 3", 1002),
    (frame(0, b"hi", mask=MASK), "Invalid WebSocket frame: invalid opcode 0", 1002),
    (frame(9, b"p", fin=False, mask=MASK), "Invalid WebSocket frame: FIN must be set", 1002),
    (frame(9, length=126, mask=MASK), "Invalid WebSocket frame: invalid payload length 126", 1002),
    (frame(8, b"\x03", mask=MASK), "Invalid WebSocket frame: invalid payload length 1", 1002),
    (frame(8, b"\x03\xe7", mask=MASK), "Invalid WebSocket frame: invalid status code 999", 1002),
    (frame(8, b"\x03\xe8\xff", mask=MASK), "Invalid WebSocket frame: invalid UTF-8 sequence", 1007),
    (frame(1, b"\xc3\x28", mask=MASK), "Invalid WebSocket frame: invalid UTF-8 sequence", 1007),
    (b"\xff" * 40, "Invalid WebSocket frame: RSV2 and RSV3 must be clear", 1002),     # junk
])
def test_a_frame_ws_refuses_fails_that_connection_with_its_close_code(bad, message, code):
    s = opened_server()
    with pytest.raises(PeerError) as info:
        s.receive(frame(1, b"before", mask=MASK) + bad, 1.0)
    assert info.value.message == message
    data, events = sent(s)
    assert events == [Text("before"), FrameRefused(message, code)]
    assert close_frame(data, from_client=False) == (code, "")
    assert not s.open


def test_a_length_in_more_bytes_than_it_needs_is_wsprotos_refusal_in_ws_words():
    s = opened_server()
    with pytest.raises(PeerError) as info:
        s.receive(frame(1, b"x", field=126, mask=MASK), 1.0)
    assert info.value.message == ("Invalid WebSocket frame: Payload length used 2 bytes when 1 "
                                  "would have sufficed")


def test_frames_after_a_handshake_in_one_segment_and_a_peer_that_goes_away():
    s = WebSocketServer(paths=("/ticker",))
    s.receive(UPGRADE + frame(1, b"early", mask=MASK), 0.1)
    assert sent(s)[1] == [Opened("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), Text("early")]
    s.connection_lost(1.0)
    assert sent(s)[1] == [Closed(1006, "the connection closed without a close frame")]


def test_the_scanner_finds_frame_starts_across_pieces():
    stream = frame(1, b"a" * 300, mask=MASK) + frame(8, b"\x03\xe8bye", mask=MASK)
    scanner = FrameScanner()
    first = scanner.feed(stream[:5])
    rest = scanner.feed(stream[5:])
    assert [s for s, _h, _p in first] == []
    assert [(s, h.opcode, h.length, p) for s, h, p in rest] == [
        (-5, 1, 300, None), (303, 8, 5, None), (303, 8, 5, b"\x03\xe8bye")]


def test_h11_sees_an_upgrade_request_as_wellformed():
    # The request the server decides on is what h11 parses: a sanity check of the fixture.
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(UPGRADE)
    assert isinstance(conn.next_event(), h11.Request)


# -- messages, not fragments (RFC 6455 §5.4, §6.2), against the `websockets` library ----------

def _pieces(data: bytes, size: int):
    """``data`` as a TCP stream may deliver it: pieces of ``size`` bytes (a segment)."""
    return [data[i:i + size] for i in range(0, len(data), size)]


def test_a_message_over_many_segments_is_one_message_to_and_from_websockets_client():
    from websockets.client import ClientProtocol
    from websockets.frames import Opcode as WsOpcode
    from websockets.uri import parse_uri

    theirs = ClientProtocol(parse_uri("ws://quotes/chat"))
    theirs.send_request(theirs.connect())
    ours = WebSocketServer(paths=("/chat",), echo="echo: ")
    ours.receive(b"".join(theirs.data_to_send()), 0.0)
    theirs.receive_data(sent(ours)[0])
    [response] = theirs.events_received()
    assert theirs.handshake_exc is None and response.status_code == 101
    text = "é" * 1500                                   # 3000 bytes: two segments and more
    theirs.send_text(text.encode())
    for piece in _pieces(b"".join(theirs.data_to_send()), 1448):   # a UTF-8 character cut too
        ours.receive(piece, 0.0)
    data, events = sent(ours)
    assert events == [Text(text)]                      # one message, not one per segment
    theirs.receive_data(data)
    [echo] = [f for f in theirs.events_received() if f.opcode is WsOpcode.TEXT]
    assert echo.fin and echo.data.decode() == "echo: " + text


def test_a_fragmented_message_from_websockets_is_one_message():
    from websockets.client import ClientProtocol
    from websockets.uri import parse_uri

    theirs = ClientProtocol(parse_uri("ws://quotes/chat"))
    theirs.send_request(theirs.connect())
    ours = WebSocketServer(paths=("/chat",))
    ours.receive(b"".join(theirs.data_to_send()), 0.0)
    theirs.receive_data(sent(ours)[0])
    assert theirs.events_received()[0].status_code == 101
    theirs.send_text(b"one, ", fin=False)              # §5.4: text, continuation, continuation
    theirs.send_ping(b"between")                       # §5.4: a control frame may come between
    theirs.send_continuation(b"two, ", fin=False)
    theirs.send_continuation(b"three", fin=True)
    for piece in _pieces(b"".join(theirs.data_to_send()), 3):
        ours.receive(piece, 0.0)
    data, events = sent(ours)
    assert events == [Text("one, two, three")]
    theirs.receive_data(data)
    assert [f.data for f in theirs.events_received()] == [b"between"]      # the pong


def test_our_client_takes_a_large_message_from_websockets_server_whole():
    from websockets.server import ServerProtocol

    theirs = ServerProtocol()
    ours = WebSocketClient("quotes", "/chat", key=RFC_SAMPLE_KEY, rng=random.Random(3))
    ours.start(0.0)
    theirs.receive_data(sent(ours)[0])
    [request] = theirs.events_received()
    theirs.send_response(theirs.accept(request))
    ours.receive(b"".join(theirs.data_to_send()), 0.0)
    assert sent(ours)[1] == [Opened("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")]
    theirs.send_binary(bytes(range(256)) * 12, fin=False)
    theirs.send_continuation(b"!", fin=True)
    theirs.send_text("x".encode() * 3000)
    for piece in _pieces(b"".join(theirs.data_to_send()), 536):
        ours.receive(piece, 1.0)
    assert sent(ours)[1] == [Binary(bytes(range(256)) * 12 + b"!"), Text("x" * 3000)]
    ours.send_text("y" * 3000)
    theirs.receive_data(sent(ours)[0])
    [message] = theirs.events_received()
    assert message.fin and message.data == b"y" * 3000
