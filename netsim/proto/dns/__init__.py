"""DNS (RFC 1034/1035, RFC 2308): an authoritative server and an iterative, caching
resolver, sans-I/O. dnspython provides messages, names and record data."""

from netsim.proto.dns.authority import UDP_LIMIT, Authority, ZoneError, load_zone, to_wire
from netsim.proto.dns.resolver import Resolved, Resolver, SendQuery

__all__ = ["Authority", "Resolved", "Resolver", "SendQuery", "UDP_LIMIT", "ZoneError", "load_zone",
           "to_wire"]
