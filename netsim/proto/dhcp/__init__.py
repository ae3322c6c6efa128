"""DHCP (RFC 2131/2132), sans-I/O: the message format, a server, a client with RFC 5227
address probing. A relay agent (RFC 1542) is simple enough to live in its app."""

from netsim.proto.dhcp.client import Configure, DhcpClient, Probe, Send, Unconfigure
from netsim.proto.dhcp.message import (BOOTREPLY, BOOTREQUEST, BROADCAST_FLAG, CLIENT_PORT, SERVER_PORT, DhcpError,
                                       DhcpMessage)
from netsim.proto.dhcp.server import DhcpServer, Pool, Reply

__all__ = ["BOOTREPLY", "BOOTREQUEST", "BROADCAST_FLAG", "CLIENT_PORT", "Configure", "DhcpClient", "DhcpError",
           "DhcpMessage", "DhcpServer", "Pool", "Probe", "Reply", "SERVER_PORT", "Send",
           "Unconfigure"]
