"""DNS (RFC 1034/1035, RFC 2308, RFC 6891): an authoritative server and an iterative,
caching resolver, sans-I/O. dnspython provides messages, names and record data."""

from netsim.proto.dns.authority import Authority, ZoneError, load_zone
from netsim.proto.dns.edns import EDNS_PAYLOAD, UDP_LIMIT, to_wire
from netsim.proto.dns.resolver import Release, Resolved, Resolver, SendQuery

__all__ = ["Authority", "EDNS_PAYLOAD", "Release", "Resolved", "Resolver", "SendQuery", "UDP_LIMIT",
           "ZoneError", "load_zone", "to_wire"]
