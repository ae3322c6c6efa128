"""Clients of the web services, over HTTP/1.1: a REST client, a SOAP client, the HTTPDNS
lookup tool and a poller (the same updates a WebSocket pushes, fetched with a request every
few seconds). Each makes its calls one after another on one persistent connection.
"""

from __future__ import annotations

import itertools
import json

from netsim.apps.base import App
from netsim.apps.http import host_header, parse_url
from netsim.apps.http_pool import Origin
from netsim.apps.websocket import latency, stats
from netsim.proto.http.client import Request
from netsim.proto.http.httpdns import read_answer
from netsim.proto.http.soap import call_envelope, read_response, read_wsdl


class HttpCaller(App):
    """A client that makes HTTP calls in turn on one kept-alive connection to ``url``'s host."""

    TARGETS = ("host",)
    USER_AGENT = "netsim-client/1.0"

    def __init__(self, node, *, url: str, at: float = 0.0) -> None:
        super().__init__(node, at=at)
        self.url = url
        self.host, self.port, self.base_path = parse_url(url)
        self.finished = False
        self._origin: Origin | None = None

    def start(self) -> None:
        _, address = self.resolve(self.host)
        self._origin = Origin(self.node, host_header(self.host, self.port), address, self.port, limit=1, user_agent=self.USER_AGENT,
                              accept="application/json, text/xml, */*",
                              numbering=itertools.count(1).__next__)
        self.env.process(self._main())

    def call(self, method: str, path: str, headers=(), body: bytes = b""):
        """A SimPy sub-process: one request, its Exchange as the value."""
        job = self._origin.fetch(Request(method, path, list(headers), body), self.env.now)
        exchange = yield job.done
        return exchange

    def _main(self):
        yield from self.run_calls()
        self._origin.close_idle()
        self.finished = True

    @property
    def done(self) -> bool:
        return self.finished


# -- REST ---------------------------------------------------------------------------------


class RestClient(HttpCaller):
    """A list of REST calls, each printed as ``METHOD path → status`` with the JSON body."""

    name = "rest-client"
    SCHEMA = {
        "url": {"$ref": "#/$defs/http_url", "description": "the API's base: http://api/v1"},
        "calls": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False, "required": ["method", "path"],
            "properties": {"method": {"enum": ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]},
                           "path": {"$ref": "#/$defs/url_path"},
                           "json": {"description": "the request body, as JSON"}}},
                  "description": "calls made in turn: {method, path, json}"},
    }
    REQUIRED = ["url", "calls"]
    EXAMPLE = {"node": "alice", "at": "1s", "run": "rest-client", "url": "http://api/v1",
               "calls": [{"method": "GET", "path": "/users/6"}]}

    def __init__(self, node, *, url: str, calls: list[dict], at: float = 0.0) -> None:
        super().__init__(node, url=url, at=at)
        self.calls = calls
        self.results: list[dict] = []

    def run_calls(self):
        for c in self.calls:
            path = self.base_path.rstrip("/") + c["path"]
            body = json.dumps(c["json"]).encode() if "json" in c else b""
            headers = [("Content-Type", "application/json")] if body else []
            exchange = yield from self.call(c["method"], path, headers, body)
            row = {"method": c["method"], "path": path, "status": exchange.status}
            if exchange.error:
                row["error"] = exchange.error
                self.say(f"{c['method']} {path} → FAILED: {exchange.error}")
                self.error = exchange.error
                self.results.append(row)
                return
            if exchange.header("Location"):
                row["location"] = exchange.header("Location")
            try:
                row["body"] = json.loads(exchange.body) if exchange.body else None
            except ValueError:
                row["body"] = exchange.body.decode("utf-8", "replace")
            self.results.append(row)
            where = f"  Location: {row['location']}" if "location" in row else ""
            self.say(f"{c['method']} {path} → {exchange.status} {exchange.reason}{where}")
            if exchange.body:
                self.say("  " + exchange.body.decode("utf-8", "replace").strip())

    def result(self) -> dict:
        return {"url": self.url, "calls": self.results}


# -- SOAP ---------------------------------------------------------------------------------


class SoapClient(HttpCaller):
    """Reads the service's WSDL, then makes SOAP calls as it describes them."""

    name = "soap-client"
    SCHEMA = {
        "url": {"$ref": "#/$defs/http_url", "description": "the service: http://weather/WeatherWS.asmx"},
        "calls": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False, "required": ["operation"],
            "properties": {"operation": {"$ref": "#/$defs/xml_name"},
                           "args": {"type": "object",
                                    "propertyNames": {"$ref": "#/$defs/xml_name"},
                                    "additionalProperties": {"type": "string"}}}},
                  "description": "calls: {operation: GetWeather, args: {theCityCode: Beijing}}"},
    }
    REQUIRED = ["url", "calls"]
    EXAMPLE = {"node": "alice", "at": "1s", "run": "soap-client",
               "url": "http://weather/WeatherWS.asmx",
               "calls": [{"operation": "GetWeather", "args": {"theCityCode": "Beijing"}}]}

    def __init__(self, node, *, url: str, calls: list[dict], at: float = 0.0) -> None:
        super().__init__(node, url=url, at=at)
        self.calls = calls
        self.results: list[dict] = []
        self.description: dict | None = None

    def run_calls(self):
        wsdl = yield from self.call("GET", self.base_path + "?wsdl")
        if wsdl.error or wsdl.status != 200:
            self.error = f"WSDL: {wsdl.error or f'{wsdl.status} {wsdl.reason}'}"
            self.say(f"GET {self.base_path}?wsdl → {self.error}")
            return
        try:
            self.description = read_wsdl(wsdl.body)
        except Exception as exc:               # noqa: BLE001 (ElementTree raises several kinds)
            self.error = f"WSDL does not parse: {exc}"
            self.say(self.error)
            return
        ops = self.description["operations"]
        self.say(f"WSDL: {len(ops)} operations: {', '.join(ops)}")
        for c in self.calls:
            op = c["operation"]
            action = ops.get(op, {}).get("action", f"{self.description['namespace']}/{op}")
            body = call_envelope(self.description["namespace"], op, c.get("args", {}))
            exchange = yield from self.call("POST", self.base_path, [
                ("Content-Type", "text/xml; charset=utf-8"), ("SOAPAction", f'"{action}"')], body)
            row = {"operation": op, "args": c.get("args", {}), "status": exchange.status}
            if exchange.error:
                row["error"] = self.error = exchange.error
                self.results.append(row)
                self.say(f"{op} → FAILED: {exchange.error}")
                return
            try:
                row.update(read_response(exchange.body))
            except Exception as exc:           # noqa: BLE001
                row["error"] = f"the answer is not a SOAP envelope: {exc}"
            self.results.append(row)
            if "fault" in row:
                self.say(f"{op}({_args(c)}) → {exchange.status} soap:Fault "
                         f"{row['fault']['code']}: {row['fault']['string']}")
            else:
                self.say(f"{op}({_args(c)}) → {exchange.status} {row.get('result', row.get('error'))}")

    def result(self) -> dict:
        return {"url": self.url, "operations": list((self.description or {}).get("operations", {})),
                "calls": self.results}


def _args(c: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in c.get("args", {}).items())


# -- HTTPDNS ------------------------------------------------------------------------------


class HttpDnsLookup(HttpCaller):
    """Asks an HTTPDNS server (by address, as the SDKs do: no DNS before it) for names."""

    name = "httpdns-lookup"
    TARGETS = ("host",)
    SCHEMA = {
        "server": {"type": "string", "description": "the HTTPDNS server (node or address)"},
        "names": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/dns_name"},
                  "description": "names to resolve"},
        "json": {"type": "boolean", "default": False, "description": "ask for JSON (type=json)"},
    }
    REQUIRED = ["server", "names"]
    EXAMPLE = {"node": "alice", "at": "1s", "run": "httpdns-lookup", "server": "10.0.3.10",
               "names": ["www.example.com"]}

    def __init__(self, node, *, server: str, names: list[str], json: bool = False,
                 at: float = 0.0) -> None:
        super().__init__(node, url=f"http://{server}/d", at=at)
        self.names, self.json = names, json
        self.answers: dict[str, list[str]] = {}

    def run_calls(self):
        for name in self.names:
            query = f"/d?dn={name}" + ("&type=json" if self.json else "")
            exchange = yield from self.call("GET", query)
            if exchange.error or exchange.status != 200:
                self.error = exchange.error or f"{exchange.status} {exchange.reason}"
                self.say(f"{name}: HTTPDNS failed: {self.error}")
                return
            ips, ttl = read_answer(exchange.body, exchange.header("Content-Type"))
            self.answers[name] = ips
            took = (exchange.done_at - exchange.sent_at) * 1000
            self.say(f"{name}: {', '.join(ips) or '(no address)'}"
                     + (f"  ttl={ttl}" if ttl is not None else "")
                     + f"  (HTTP GET {query} to {self.host}, {took:.1f} ms)")

    def result(self) -> dict:
        return {"server": self.host, "answers": self.answers}


# -- polling ------------------------------------------------------------------------------


class Poller(HttpCaller):
    """Fetches ``url`` every ``every`` seconds on one persistent connection — polling, what
    sites did before WebSocket — and counts what it costs and how late updates arrive."""

    name = "poller"
    USER_AGENT = "netsim-poller/1.0"
    SCHEMA = {
        "url": {"$ref": "#/$defs/http_url", "description": "http://host/latest"},
        "every": {"$ref": "#/$defs/interval", "default": "1s", "description": "time between polls"},
        "duration": {"$ref": "#/$defs/interval", "default": "10s", "description": "how long it polls"},
    }
    REQUIRED = ["url"]
    EXAMPLE = {"node": "bob", "at": "1s", "run": "poller", "url": "http://quotes/latest"}

    def __init__(self, node, *, url: str, every: float = 1.0, duration: float = 10.0,
                 at: float = 0.0) -> None:
        super().__init__(node, url=url, at=at)
        self.every, self.duration = every, duration
        self.polls: list[dict] = []
        self.seen: dict[int, float] = {}                 # update number → latency
        self.bytes_sent = self.bytes_received = 0

    def run_calls(self):
        end = self.env.now + self.duration
        while self.env.now < end:
            exchange = yield from self.call("GET", self.base_path)
            self.bytes_sent += exchange.sent_bytes
            self.bytes_received += exchange.received_bytes
            if exchange.error or exchange.status is None:
                self.error = exchange.error or "no response"
                self.say(f"poller: {self.error}")
                return
            text = exchange.body.decode("utf-8", "replace").strip()
            late = latency(text, self.env.now)
            new = late is not None and late[0] not in self.seen
            if new:
                self.seen[late[0]] = late[1]
            self.polls.append({"t": round(exchange.sent_at, 6), "status": exchange.status,
                               "text": text, "new": new})
            self.say(f"GET {self.base_path} → {exchange.status} {text}" + (
                f"  (new: {late[1] * 1000:.1f} ms after it was made)" if new else "  (nothing new)"))
            yield self.env.timeout(max(0.0, exchange.sent_at + self.every - self.env.now))

    def result(self) -> dict:
        numbers = sorted(self.seen)
        missed = (numbers[-1] - numbers[0] + 1 - len(numbers)) if numbers else 0
        return {"url": self.url, "polls": len(self.polls),
                "polls_with_nothing_new": sum(not p["new"] for p in self.polls),
                "updates_seen": len(numbers), "updates_missed_between_polls": missed,
                "bytes_sent": self.bytes_sent, "bytes_received": self.bytes_received,
                "update_latency": stats(list(self.seen.values())), "log": self.polls}
