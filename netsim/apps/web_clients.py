"""Clients of the web services, over HTTP/1.1: a REST client, a SOAP client, the HTTPDNS
lookup tool and a poller (the same updates a WebSocket pushes, fetched with a request every
few seconds). Each makes its calls one after another on one persistent connection: the
sequence is a :class:`~netsim.proto.http.caller.Caller` engine, whose plan is the app's
:meth:`HttpCaller.step` — given the last answer, it prints it and says what comes next.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from netsim.apps.base import App
from netsim.apps.http_pool import PoolDriver
from netsim.apps.websocket import latency, stats
from netsim.proto.http.caller import Caller, Pause, PlanDone
from netsim.proto.http.client import Exchange, Request
from netsim.proto.http.httpdns_answer import parse_httpdns_answer
from netsim.proto.http.soap import call_envelope, read_response, read_wsdl
from netsim.proto.http.url import parse_url

#: What a header value may be here (RFC 9110 §5.5, as h11 writes it): printable ASCII.
_HEADER_TEXT = re.compile(r"[ -~]*\Z")


class HttpCaller(App):
    """A client that makes HTTP calls in turn on one kept-alive connection to ``url``'s host.

    Subclasses give :meth:`step`: ``step(previous, now)`` is asked at the start (previous
    None) and after each answer; it returns the next :class:`Request`, a :class:`Pause`,
    or None when the calls are done."""

    TARGETS = ("host",)
    USER_AGENT = "netsim-client/1.0"

    def __init__(self, node, *, url: str, at: float = 0.0) -> None:
        super().__init__(node, at=at)
        self.url = url
        self.host, self.port, self.base_path = parse_url(url)
        self.finished = False
        self.engine: Caller | None = None

    def start(self) -> None:
        _, address = self.resolve(self.host)
        self.engine = Caller(self.host, address, self.port, self.step,
                             user_agent=self.USER_AGENT)
        self.runner = PoolDriver(self, self.engine, self._output, self._failed)
        self.runner.call(self.engine.start, self.env.now)

    def step(self, previous: Exchange | None, now: float) -> Request | Pause | None:
        raise NotImplementedError

    def _output(self, out) -> None:
        if isinstance(out, PlanDone):
            self.finished = True

    def _failed(self, message: str) -> None:
        self.error = message
        self.say(f"{self.name}: {message}")
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

    def step(self, previous: Exchange | None, now: float) -> Request | None:
        if previous is not None and not self._answered(self.calls[len(self.results)], previous):
            return None
        if len(self.results) == len(self.calls):
            return None
        c = self.calls[len(self.results)]
        body = json.dumps(c["json"]).encode() if "json" in c else b""
        headers = [("Content-Type", "application/json")] if body else []
        return Request(c["method"], self._path(c), headers, body)

    def _path(self, c: dict) -> str:
        return self.base_path.rstrip("/") + c["path"]

    def _answered(self, c: dict, exchange: Exchange) -> bool:
        """Print one answer; False when it failed (the calls stop there)."""
        path = self._path(c)
        row = {"method": c["method"], "path": path, "status": exchange.status}
        if exchange.error:
            row["error"] = exchange.error
            self.say(f"{c['method']} {path} → FAILED: {exchange.error}")
            self.error = exchange.error
            self.results.append(row)
            return False
        if exchange.header("Location"):
            row["location"] = exchange.header("Location")
        try:
            row["body"] = json.loads(exchange.body) if exchange.body else None
        except (ValueError, RecursionError):      # not JSON (or nested past Python's limit)
            row["body"] = exchange.body.decode("utf-8", "replace")
        self.results.append(row)
        where = f"  Location: {row['location']}" if "location" in row else ""
        self.say(f"{c['method']} {path} → {exchange.status} {exchange.reason}{where}")
        if exchange.body:
            self.say("  " + exchange.body.decode("utf-8", "replace").strip())
        return True

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

    def step(self, previous: Exchange | None, now: float) -> Request | None:
        if self.description is None:
            if previous is None:
                return Request("GET", self.base_path + "?wsdl")
            if not self._read_wsdl(previous):
                return None
        elif not self._answered(self.calls[len(self.results)], previous):
            return None
        if len(self.results) == len(self.calls):
            return None
        c = self.calls[len(self.results)]
        op = c["operation"]
        action = self.description["operations"].get(op, {}).get(
            "action", f"{self.description['namespace']}/{op}")
        if not _HEADER_TEXT.match(action or ""):
            action = f"{self.description['namespace']}/{op}"
            if not _HEADER_TEXT.match(action):
                self.error = f"the WSDL's SOAPAction for {op} cannot go in a header"
                self.say(f"{op} → FAILED: {self.error}")
                return None
        body = call_envelope(self.description["namespace"], op, c.get("args", {}))
        return Request("POST", self.base_path, [
            ("Content-Type", "text/xml; charset=utf-8"), ("SOAPAction", f'"{action}"')], body)

    def _read_wsdl(self, wsdl: Exchange) -> bool:
        if wsdl.error or wsdl.status != 200:
            self.error = f"WSDL: {wsdl.error or f'{wsdl.status} {wsdl.reason}'}"
            self.say(f"GET {self.base_path}?wsdl → {self.error}")
            return False
        try:
            self.description = read_wsdl(wsdl.body)
        except ET.ParseError as exc:
            self.error = f"WSDL does not parse: {exc}"
            self.say(self.error)
            return False
        ops = self.description["operations"]
        self.say(f"WSDL: {len(ops)} operations: {', '.join(map(str, ops))}")
        return True

    def _answered(self, c: dict, exchange: Exchange) -> bool:
        """Print one answer; False when it failed (the calls stop there)."""
        op = c["operation"]
        row = {"operation": op, "args": c.get("args", {}), "status": exchange.status}
        if exchange.error:
            row["error"] = self.error = exchange.error
            self.results.append(row)
            self.say(f"{op} → FAILED: {exchange.error}")
            return False
        try:
            row.update(read_response(exchange.body))
        except (ET.ParseError, ValueError) as exc:
            row["error"] = f"the answer is not a SOAP envelope: {exc}"
        self.results.append(row)
        if "fault" in row:
            self.say(f"{op}({_args(c)}) → {exchange.status} soap:Fault "
                     f"{row['fault']['code']}: {row['fault']['string']}")
        else:
            self.say(f"{op}({_args(c)}) → {exchange.status} {row.get('result', row.get('error'))}")
        return True

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
        self._asked = 0

    def step(self, previous: Exchange | None, now: float) -> Request | None:
        if previous is not None and not self._answered(previous):
            return None
        if self._asked == len(self.names):
            return None
        self._asked += 1
        return Request("GET", self._query(self.names[self._asked - 1]))

    def _query(self, name: str) -> str:
        return f"/d?dn={name}" + ("&type=json" if self.json else "")

    def _answered(self, exchange: Exchange) -> bool:
        name = self.names[self._asked - 1]
        if exchange.error or exchange.status != 200:
            self.error = exchange.error or f"{exchange.status} {exchange.reason}"
            self.say(f"{name}: HTTPDNS failed: {self.error}")
            return False
        ips, ttl = parse_httpdns_answer(exchange.body, exchange.header("Content-Type"))
        self.answers[name] = ips
        took = (exchange.done_at - exchange.sent_at) * 1000
        self.say(f"{name}: {', '.join(ips) or '(no address)'}"
                 + (f"  ttl={ttl}" if ttl is not None else "")
                 + f"  (HTTP GET {self._query(name)} to {self.host}, {took:.1f} ms)")
        return True

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

    def start(self) -> None:
        self.end = self.env.now + self.duration
        super().start()

    def step(self, previous: Exchange | None, now: float) -> Request | Pause | None:
        if previous is None:                 # the start, or the interval is over
            return Request("GET", self.base_path) if now < self.end else None
        self.bytes_sent += previous.sent_bytes
        self.bytes_received += previous.received_bytes
        if previous.error or previous.status is None:
            self.error = previous.error or "no response"
            self.say(f"poller: {self.error}")
            return None
        text = previous.body.decode("utf-8", "replace").strip()
        try:
            late = latency(text, now)
        except ValueError:                   # '#1 @1.2.3': not a time the server made it at
            late = None
        new = late is not None and late[0] not in self.seen
        if new:
            self.seen[late[0]] = late[1]
        self.polls.append({"t": round(previous.sent_at, 6), "status": previous.status,
                           "text": text, "new": new})
        self.say(f"GET {self.base_path} → {previous.status} {text}" + (
            f"  (new: {late[1] * 1000:.1f} ms after it was made)" if new else "  (nothing new)"))
        return Pause(previous.sent_at + self.every)

    def result(self) -> dict:
        numbers = sorted(self.seen)
        missed = (numbers[-1] - numbers[0] + 1 - len(numbers)) if numbers else 0
        return {"url": self.url, "polls": len(self.polls),
                "polls_with_nothing_new": sum(not p["new"] for p in self.polls),
                "updates_seen": len(numbers), "updates_missed_between_polls": missed,
                "bytes_sent": self.bytes_sent, "bytes_received": self.bytes_received,
                "update_latency": stats(list(self.seen.values())), "log": self.polls}
