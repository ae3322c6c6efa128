"""HTTP/1.x (RFC 9110/9111/9112), sans-I/O: h11 for the wire format, our own resources,
validators and caching headers, a server connection and a client."""

from netsim.proto.http.server import Answered, HttpServerConnection
from netsim.proto.http.site import Answer, Resource, Site, http_date, resource_from_spec

__all__ = ["Answer", "Answered", "HttpServerConnection", "Resource", "Site", "http_date",
           "resource_from_spec"]
