"""Web services over HTTP/1.1, the servers: a REST API, a SOAP service (the course
example's weather lookup) and HTTPDNS. Each is :class:`~netsim.apps.http.HttpService`
with another handler; their clients are in :mod:`netsim.apps.web_clients`.
"""

from __future__ import annotations

from netsim.apps.http import _SERVICE_SCHEMA, PORT, HttpService
from netsim.proto.http.httpdns import HttpDnsService
from netsim.proto.http.rest import RestApi
from netsim.proto.http.soap import WeatherService


# -- REST ---------------------------------------------------------------------------------


class RestApiApp(HttpService):
    """A JSON REST API (``/v1/users``, ``/v1/users/6/cars/88``) whose state changes as calls come in."""

    name = "rest-api"
    SCHEMA = {
        "data": {"type": "object", "minProperties": 1,
                 "additionalProperties": {"type": "array",
                                          "items": {"$ref": "#/$defs/rest_item"}},
                 "description": "collection → items (objects with an id; lists in them are "
                                "sub-collections)"},
        "version": {"type": "string", "pattern": "^v[0-9]+$", "default": "v1",
                    "description": "the version prefix of every path"},
        **_SERVICE_SCHEMA,
    }
    REQUIRED = ["data"]
    EXAMPLE = {"node": "api", "run": "rest-api", "data": {"users": [
        {"id": 6, "name": "alice", "cars": [{"id": 88, "model": "Model 3"}]}]}}

    def __init__(self, node, *, data: dict, version: str = "v1", port: int | None = None,
                 keep_alive: float = 5.0, tls: dict | bool | None = None,
                 at: float = 0.0) -> None:
        super().__init__(node, port=port, keep_alive=keep_alive, tls=tls, at=at)
        self.api = RestApi(data, version=version)
        self.handlers = {"*": self.api}

    def result(self) -> dict:
        return {**super().result(), "state": self.api.data}


# -- SOAP ---------------------------------------------------------------------------------


class SoapServiceApp(HttpService):
    """The course example's weather web service: SOAP 1.1 at ``path``, its WSDL at ``path?wsdl``."""

    name = "soap-service"
    SCHEMA = {
        "cities": {"type": "object", "minProperties": 1,
                   "additionalProperties": {"type": "object",
                                            "propertyNames": {"$ref": "#/$defs/xml_name"},
                                            "additionalProperties": {"type": ["string", "number"]}},
                   "description": "city → forecast fields (weather, temperature, wind, …)"},
        "path": {"$ref": "#/$defs/url_path", "default": "/WeatherWS.asmx",
                 "description": "where the service is"},
        **_SERVICE_SCHEMA,
    }
    REQUIRED = ["cities"]
    EXAMPLE = {"node": "weather", "run": "soap-service",
               "cities": {"Beijing": {"weather": "sunny", "temperature": "3/-6 °C"}}}

    def __init__(self, node, *, cities: dict, path: str = "/WeatherWS.asmx", port: int | None = None,
                 keep_alive: float = 5.0, tls: dict | bool | None = None,
                 at: float = 0.0) -> None:
        super().__init__(node, port=port, keep_alive=keep_alive, tls=tls, at=at)
        host = node.name if port == PORT else f"{node.name}:{port}"
        self.service = WeatherService(cities, path=path, host=host)
        self.handlers = {"*": self.service}


# -- HTTPDNS ------------------------------------------------------------------------------


class HttpDnsServer(HttpService):
    """HTTPDNS: ``GET /d?dn=NAME`` answers the name's addresses over HTTP."""

    name = "httpdns-server"
    SCHEMA = {
        "records": {"type": "object", "minProperties": 1,
                    "additionalProperties": {"type": "array", "items": {"$ref": "#/$defs/ipv4"}},
                    "description": "name → addresses"},
        "ttl": {"type": "integer", "minimum": 0, "default": 60, "description": "TTL it answers"},
        **_SERVICE_SCHEMA,
    }
    REQUIRED = ["records"]
    EXAMPLE = {"node": "httpdns", "run": "httpdns-server",
               "records": {"www.example.com": ["10.0.2.80"]}}

    def __init__(self, node, *, records: dict, ttl: int = 60, port: int | None = None,
                 keep_alive: float = 5.0, tls: dict | bool | None = None,
                 at: float = 0.0) -> None:
        super().__init__(node, port=port, keep_alive=keep_alive, tls=tls, at=at)
        self.service = HttpDnsService(records, ttl=ttl)
        self.handlers = {"*": self.service}
