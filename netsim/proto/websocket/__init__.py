"""WebSocket (RFC 6455), sans-I/O: the opening handshake over HTTP/1.1 (h11), then
frames (wsproto's :class:`~wsproto.frame_protocol.FrameProtocol`), for both ends.

The handshake (§4): the client's ``GET`` with ``Upgrade: websocket``, ``Connection:
Upgrade``, ``Sec-WebSocket-Version: 13`` and a ``Sec-WebSocket-Key``; the server's ``101
Switching Protocols`` whose ``Sec-WebSocket-Accept`` is base64(SHA-1(key + the RFC's
GUID)) — for the RFC's sample key ``dGhlIHNhbXBsZSBub25jZQ==``,
``s3pPLMBiTxaQ9kYGzzhZRbK+xOo=``. Then either side sends text, binary, ping (answered
with pong, §5.5.2) and close (answered with close, §5.5.1; the server then closes TCP,
§7.1.1).

Theory of operation
-------------------
:class:`WebSocketClient` is a browser's WebSocket: it sends the upgrade, checks the
answer as Chrome does, then runs its *plan* (messages and pings at times after the
opening, a close after ``duration``) on its own timer, with Chrome's closing timers
(60 s for the server's close frame, then 2 s for its FIN).

:class:`WebSocketServer` is one connection to a web server that also speaks WebSocket,
as Node's ``http`` server with the ``ws`` library does: the first request decides. An
upgrade to WebSocket gets ``101`` and frames (or ``400``/``404`` and a close); any other
request goes, with every byte after it, to the plain HTTP engine the server was given,
which answers it and keeps the connection as it would. (Browsers open every WebSocket
on a connection of its own, RFC 6455 §4.1, so the first request is the one that asks.)

What a stack will not take from its peer (RFC 6455 §5.1–5.5, §7.1.7 *Fail the WebSocket
Connection*) is a :class:`~netsim.errors.PeerError` from ``receive``, worded as that
stack words it, after a close frame with its code; then the connection is closed.
:class:`FrameScanner` reads each frame's header (and a close frame's payload) as the
bytes stream past, and a stack's *rules* judge them: :class:`ChromeRules` for the
client (Chrome's console: ``WebSocket connection to 'ws://…' failed: …``; it sends
1002 for every frame it refuses and drops a frame longer than 2³¹−1 bytes without a
close frame), :class:`NodeWsRules` for the server (the ``ws`` library's errors, with
1002 for a protocol error, 1007 for invalid UTF-8 and 1009 for a message too big).
wsproto then takes only frames the rules passed; where it is stricter than the stack
(a close code Chrome takes, a length in more bytes than it needs, which ws takes) its
own refusal is worded in the stack's manner. The ``ws`` server closes TCP right after
its close frame rather than waiting up to 30 s for the client's.

Modules: :mod:`.keys` (the key and accept), :mod:`.events` (what engines report),
:mod:`.rules` (frame headers and what each stack refuses), :mod:`.frames` (one end after
the handshake), :mod:`.client` and :mod:`.server` (the engines).
"""

from netsim.proto.websocket.client import PING_PAYLOAD, WebSocketClient
from netsim.proto.websocket.events import (Binary, Closed, FrameRefused, Opened, PongReceived,
                                           Refused, SentClose, SentPing, SentText, Text)
from netsim.proto.websocket.keys import RFC_SAMPLE_KEY, accept_for, new_key
from netsim.proto.websocket.rules import (ChromeRules, FrameHeader, FrameScanner,
                                          NodeWsRules, Violation)
from netsim.proto.websocket.server import WebSocketServer

__all__ = ["Binary", "ChromeRules", "Closed", "FrameHeader", "FrameRefused", "FrameScanner",
           "NodeWsRules", "Opened", "PING_PAYLOAD", "PongReceived", "RFC_SAMPLE_KEY", "Refused",
           "SentClose", "SentPing", "SentText", "Text", "Violation", "WebSocketClient",
           "WebSocketServer", "accept_for", "new_key"]
