"""WebSocket as the rest of netsim knows it (RFC 6455): it has no port of its own — a
connection becomes WebSocket when an HTTP Upgrade is answered ``101 Switching
Protocols`` (§4), and from then on carries frames (§5.2) that the application-level
diagram draws one by one (``WS text "AAPL 190.2"``) beside the HTTP handshake."""

from netsim.wire.registry import HTTP_MESSAGES, Protocol, register

WEBSOCKET = register(Protocol("WebSocket", "#b03a2e", messages=HTTP_MESSAGES, tshark="WebSocket",
                              upgrades_from="HTTP"))
