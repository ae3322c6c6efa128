"""HTTP/1.x as the rest of netsim knows it (RFC 9110/9112): port 80, labelled by its
request and status lines; the application-level diagram reads each connection's bytes
back into whole requests and responses (RFC 9112 §6 framing), on whatever port."""

from netsim.wire.registry import HTTP_MESSAGES, Protocol, register

HTTP = register(Protocol("HTTP", "#117a65", tcp_ports=(80,), messages=HTTP_MESSAGES,
                         tshark="HTTP"))
