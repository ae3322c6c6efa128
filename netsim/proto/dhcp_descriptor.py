"""DHCP as the rest of netsim knows it (RFC 2131): UDP ports 67 (server, relay) and 68
(client), each message labelled by its type and the address it is about."""

from netsim.wire.dhcp_text import dhcp_line
from netsim.wire.registry import EACH_FRAME, Protocol, register

DHCP = register(Protocol("DHCP", "#b8860b", udp_ports=(67, 68), datagram_label=dhcp_line,
                         messages=EACH_FRAME, tshark="DHCP"))
