"""Push against polling: ``websocket-server`` (a ticker of quotes pushed to every client
over WebSocket, RFC 6455, and the latest quote at ``GET /latest`` for pollers),
``websocket-client`` and ``poller`` (the same updates fetched with an HTTP request every
second). Each update says when it was made (``AAPL 190.20 #3 @3.000``), so both clients
measure how late they learned of it; their results hold the messages and bytes each way.

Thin glue over :mod:`netsim.proto.websocket`: the client's plan and timers are its
engine's, the server's connections are engines the runtime drives, and the ticker is a
clock an :class:`~netsim.sim.driver.EngineDriver` wakes.
"""

from __future__ import annotations

import random
import re

from netsim.apps.base import App
from netsim.apps.http import _SERVICE_SCHEMA, HttpService
from netsim.apps.tls import TLS_SCHEMA, tls_options, tls_world
from netsim.proto.http.url import PORT, host_header, parse_url
from netsim.proto.http.site import Answer, error_page, http_date
from netsim.proto.websocket import (Binary, Closed, FrameRefused, Opened, PongReceived,
                                    Refused, SentClose, SentPing, SentText, Text,
                                    WebSocketClient, WebSocketServer, new_key)
from netsim.sim.driver import EngineDriver
from netsim.sim.runtime import StreamDriver
from netsim.units import parse_time

#: A quote's number and the time it was made, as the ticker writes them; ASCII digits
#: only (\d takes '²', which int() reads) and one decimal point (float("1.2.3") raises).
UPDATE = re.compile(r"#([0-9]{1,12}) @([0-9]{1,12}(?:\.[0-9]{1,12})?)(?![0-9.])")


def app_rng(app: App) -> random.Random:
    """A generator of the app's own, from the run's seed: the same every run."""
    return random.Random(f"{app.network.seed}:{app.node.name}:{app.name}:{app.at}")


class Ticker:
    """Quotes that move by a seeded random walk, one update every ``every`` seconds,
    ``count`` of them — a sans-I/O clock (``get_timer``/``handle_timer``; each update is
    an output) that :class:`~netsim.sim.driver.EngineDriver` runs for the server."""

    def __init__(self, symbols: list[str], rng: random.Random, *, every: float = 1.0,
                 count: int = 20) -> None:
        self.rng = rng
        self.every, self.count = every, count
        self.prices = {s: round(rng.uniform(50, 400), 2) for s in symbols}
        self.updates: list[tuple[int, float, str]] = []       # (number, made at, text)
        self._next: float | None = None
        self._out: list[str] = []

    def start(self, now: float) -> None:
        self._next = now + self.every if self.count else None

    def get_timer(self) -> float | None:
        return self._next

    def handle_timer(self, now: float) -> None:
        if self._next is None or now < self._next:
            return
        self._out.append(self.update(now))
        self._next = now + self.every if len(self.updates) < self.count else None

    def outputs(self) -> list[str]:
        out, self._out = self._out, []
        return out

    def update(self, now: float) -> str:
        symbol = self.rng.choice(sorted(self.prices))
        self.prices[symbol] = round(max(1.0, self.prices[symbol] * (1 + self.rng.gauss(0, 0.004))), 2)
        n = len(self.updates) + 1
        text = f"{symbol} {self.prices[symbol]:.2f} #{n} @{now:.3f}"
        self.updates.append((n, now, text))
        return text

    @property
    def latest(self) -> str | None:
        return self.updates[-1][2] if self.updates else None


class _LatestQuote:
    """``GET /latest``: the newest update as text, never to be cached."""

    def __init__(self, ticker: Ticker) -> None:
        self.ticker = ticker

    def respond(self, method, target, headers, now, body=b"") -> Answer:
        date = ("Date", http_date(now))
        if target.split("?")[0] != "/latest":
            return error_page(404, f"{target}: updates are at /latest (or by WebSocket)", date)
        text = (self.ticker.latest or "no update yet") + "\n"
        return Answer(200, [date, ("Content-Type", "text/plain"), ("Cache-Control", "no-store")],
                      text.encode())


class WebSocketServerApp(HttpService):
    """Pushes an update to every WebSocket client on a schedule, echoes what it is sent,
    answers ping with pong and close with close; serves ``GET /latest`` over plain HTTP
    on the same port (one engine per connection decides by its first request)."""

    name = "websocket-server"
    SCHEMA = {
        "path": {"$ref": "#/$defs/url_path", "default": "/ticker",
                 "description": "the WebSocket endpoint"},
        "symbols": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                    "default": ["AAPL", "MSFT", "NVDA"], "description": "what the ticker quotes"},
        "every": {"$ref": "#/$defs/interval", "default": "1s",
                  "description": "time between updates"},
        "updates": {"type": "integer", "minimum": 1, "default": 20,
                    "description": "how many updates it makes"},
        **_SERVICE_SCHEMA,
    }
    EXAMPLE = {"node": "quotes", "run": "websocket-server", "every": "500ms"}
    #: WebSocket is an HTTP/1.1 upgrade here (RFC 6455); over HTTP/2 it would be
    #: RFC 8441's extended CONNECT, which this server does not speak.
    ALPN = ("http/1.1",)

    def __init__(self, node, *, path: str = "/ticker", symbols: list[str] | None = None,
                 every: float = 1.0, updates: int = 20, port: int | None = None,
                 keep_alive: float = 5.0, tls: dict | bool | None = None,
                 at: float = 0.0) -> None:
        super().__init__(node, port=port, keep_alive=keep_alive, tls=tls, at=at)
        self.path = path
        self.ticker = Ticker(symbols or ["AAPL", "MSFT", "NVDA"], app_rng(self), every=every,
                             count=updates)
        self.handlers = {"*": _LatestQuote(self.ticker)}
        self.sessions: list[StreamDriver] = []          # every connection upgraded
        self.pushed = self.echoed = 0

    def start(self) -> None:
        super().start()
        self.ticker.start(self.env.now)
        EngineDriver(self.env, self.ticker, self._push).kick()

    def make_engine(self, sock) -> WebSocketServer:
        return WebSocketServer(paths=(self.path,), http=self.http1_engine(sock), echo="echo: ")

    def _push(self, text: str) -> None:
        """An update: to every open WebSocket at once."""
        for driver in self.sessions:
            engine = driver.engine
            if engine.open and not driver.over:
                engine.send_text(text)
                self.pushed += 1
                driver.kick()

    def engine_output(self, driver: StreamDriver, out) -> None:
        client = driver.sock.remote[0]
        kind = type(out)
        if kind is Opened:
            self.sessions.append(driver)
            self.say(f'{client} "GET {driver.engine.target} HTTP/1.1" 101 (WebSocket open)')
        elif kind is Text:
            self.echoed += 1
        elif kind is Closed:
            self.say(f"{client}: WebSocket closed ({out.code})")
        elif kind is Refused:
            self.say(f"{client}: WebSocket refused: {out.why}")
        elif kind is FrameRefused:
            sent = f"close {out.code} sent" if out.code else "no close frame"
            self.say(f"{client}: WebSocket failed: {out.message} ({sent})")
        else:
            super().engine_output(driver, out)

    def summary_line(self) -> str:
        return (f"websocket-server: {len(self.ticker.updates)} updates, {self.pushed} pushed to "
                f"{len(self.sessions)} WebSocket clients, {len(self.log)} HTTP requests")

    def result(self) -> dict:
        return {"updates": [{"n": n, "t": t, "text": text} for n, t, text in self.ticker.updates],
                "pushed": self.pushed, "echoed": self.echoed, "websocket_clients": len(self.sessions),
                "http_requests": len(self.log)}


def latency(text: str, now: float) -> tuple[int, float] | None:
    m = UPDATE.search(text)
    return (int(m.group(1)), now - float(m.group(2))) if m else None


def stats(latencies: list[float]) -> dict:
    if not latencies:
        return {"count": 0}
    ms = sorted(x * 1000 for x in latencies)
    return {"count": len(ms), "mean_ms": round(sum(ms) / len(ms), 3),
            "median_ms": round(ms[len(ms) // 2], 3), "max_ms": round(ms[-1], 3)}


class WebSocketClientApp(App):
    """Opens a WebSocket, prints what is pushed, sends its messages, pings, then closes."""

    name = "websocket-client"
    TARGETS = ("host",)
    SCHEMA = {
        "url": {"$ref": "#/$defs/ws_url",
                "description": "ws://host[:port]/path, or wss:// for WebSocket over TLS (port 443)"},
        "tls": {**TLS_SCHEMA, "description": "for a wss:// URL: {version, alpn, verify}"},
        "duration": {"$ref": "#/$defs/interval", "default": "10s",
                     "description": "how long it stays connected before closing (1000)"},
        "send": {"type": "array", "items": {"type": "object", "additionalProperties": False,
                                            "required": ["at", "text"],
                                            "properties": {"at": {"$ref": "#/$defs/time"},
                                                           "text": {"type": "string"}}},
                 "description": "messages to send: {at: 2s after opening, text: …}"},
        "ping_at": {"type": "array", "items": {"$ref": "#/$defs/time"},
                    "description": "when to ping (after opening)"},
        "key": {"$ref": "#/$defs/header_value", "description": "the Sec-WebSocket-Key (default: 16 seeded random bytes)"},
    }
    REQUIRED = ["url"]
    EXAMPLE = {"node": "alice", "at": "1s", "run": "websocket-client", "url": "ws://quotes/ticker"}

    def __init__(self, node, *, url: str, duration: float = 10.0, send: list | None = None,
                 ping_at: list | None = None, key: str | None = None,
                 tls: dict | bool | None = None, at: float = 0.0) -> None:
        super().__init__(node, at=at)
        scheme, sep, rest = url.partition("://")
        if scheme not in ("ws", "wss") or not sep:
            raise ValueError(f"{url!r} is not a ws:// or wss:// URL")
        self.url = url
        # RFC 6455 §3: ws and wss are http and https for the handshake, ports 80 and 443.
        self.secure = scheme == "wss"
        self.host, self.port, self.path = parse_url(("https://" if self.secure else "http://") + rest)
        self.tls = tls_options(tls) or {}
        self.duration = duration
        self.to_send = sorted(((parse_time(m["at"]), m["text"]) for m in send or []))
        self.pings = sorted(parse_time(t) for t in ping_at or [])
        self.rng = app_rng(self)
        self.key = key or new_key(self.rng)
        self.received: list[dict] = []
        self.sent: list[dict] = []
        self.pongs = 0
        self.closed_code: int | None = None
        self.engine: WebSocketClient | None = None

    def start(self) -> None:
        _, address = self.resolve(self.host)
        plan = ([(t, "send", text) for t, text in self.to_send]
                + [(t, "ping", "") for t in self.pings])
        self.engine = WebSocketClient(host_header(self.host, self.port, self.secure), self.path, key=self.key,
                                      rng=self.rng, url=self.url, plan=plan,
                                      duration=self.duration)
        layer = None
        if self.secure:
            world = tls_world(self.network)
            # Chrome offers http/1.1 alone on a WebSocket's connection (RFC 8441's
            # WebSocket over HTTP/2 aside).
            context = world.client_context(self.tls, alpn=("http/1.1",))
            layer = world.client_layer(context, self, self.host, self.port)
        StreamDriver(self, self.engine, layer=layer, on_output=self._event,
                     on_end=self._ended).connect(address, self.port)

    def _event(self, event) -> None:
        now = self.env.now
        kind = type(event)
        if kind is Opened:
            for line in self.engine.request_head:
                self.say(f"> {line}")
            for line in self.engine.response_head:
                self.say(f"< {line}")
        elif kind is Text:
            late = latency(event.text, now)
            row = {"t": round(now, 6), "text": event.text}
            if late:
                row["update"], row["latency_s"] = late[0], round(late[1], 6)
            self.received.append(row)
            self.say(f"< {event.text}" + (f"  ({late[1] * 1000:.1f} ms after it was made)"
                                          if late else ""))
        elif kind is Binary:
            self.received.append({"t": round(now, 6), "bytes": len(event.data)})
        elif kind is PongReceived:
            self.pongs += 1
            self.say("< pong")
        elif kind is Closed:
            self.closed_code = event.code
            self.say(f"< close {event.code}")
        elif kind is SentText:
            self.sent.append({"t": round(now, 6), "text": event.text})
            self.say(f"> {event.text}")
        elif kind is SentPing:
            self.say("> ping")
        elif kind is SentClose:
            self.say(f"> close {event.code}")

    def _ended(self, driver: StreamDriver) -> None:
        if driver.refused:
            self.error = f"connect to {self.host} port {self.port}: {driver.refused}"
        elif driver.failure:
            self.error = driver.failure            # Chrome's console line
        elif self.closed_code is None:
            self.error = "the connection closed without a WebSocket close"
        else:
            return
        self.say(self.error)

    @property
    def bytes_sent(self) -> int:
        return self.engine.bytes_sent if self.engine else 0

    @property
    def bytes_received(self) -> int:
        return self.engine.bytes_received if self.engine else 0

    @property
    def done(self) -> bool:
        return self.closed_code is not None or self.error is not None

    def result(self) -> dict:
        updates = [r["latency_s"] for r in self.received if "latency_s" in r]
        head = self.engine.response_head if self.engine else []
        accept = next((h.split(": ", 1)[1] for h in head
                       if h.lower().startswith("sec-websocket-accept")), None)
        return {"url": self.url, "key": self.key, "accept": accept,
                "messages_sent": len(self.sent), "messages_received": len(self.received),
                "pongs": self.pongs, "bytes_sent": self.bytes_sent,
                "bytes_received": self.bytes_received, "close_code": self.closed_code,
                "update_latency": stats(updates), "received": self.received}
