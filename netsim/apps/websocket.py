"""Push against polling: ``websocket-server`` (a ticker of quotes pushed to every client
over WebSocket, RFC 6455, and the latest quote at ``GET /latest`` for pollers),
``websocket-client`` and ``poller`` (the same updates fetched with an HTTP request every
second). Each update says when it was made (``AAPL 190.20 #3 @3.000``), so both clients
measure how late they learned of it; their results hold the messages and bytes each way.
"""

from __future__ import annotations

import random
import re

from netsim.apps.base import App
from netsim.apps.http import _SERVICE_SCHEMA, PORT, HttpService, host_header, parse_url
from netsim.apps.stream_io import batch
from netsim.proto.http.site import Answer, error_page, http_date
from netsim.proto.websocket import (Binary, Closed, Failed, Opened, PongReceived, Text,
                                    WebSocketClient, WebSocketServer, new_key)
from netsim.units import parse_time

UPDATE = re.compile(r"#(\d+) @([\d.]+)")


def app_rng(app: App) -> random.Random:
    """A generator of the app's own, from the run's seed: the same every run."""
    return random.Random(f"{app.network.seed}:{app.node.name}:{app.name}:{app.at}")


class Ticker:
    """Quotes that move by a seeded random walk, one update every ``every`` seconds."""

    def __init__(self, symbols: list[str], rng: random.Random) -> None:
        self.rng = rng
        self.prices = {s: round(rng.uniform(50, 400), 2) for s in symbols}
        self.updates: list[tuple[int, float, str]] = []       # (number, made at, text)

    def next(self, now: float) -> str:
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
    answers ping with pong and close with close; serves ``GET /latest`` over plain HTTP."""

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

    def __init__(self, node, *, path: str = "/ticker", symbols: list[str] | None = None,
                 every: float = 1.0, updates: int = 20, port: int = PORT, keep_alive: float = 5.0,
                 at: float = 0.0) -> None:
        super().__init__(node, port=port, keep_alive=keep_alive, at=at)
        self.path, self.every, self.count = path, every, updates
        self.ticker = Ticker(symbols or ["AAPL", "MSFT", "NVDA"], app_rng(self))
        self.handlers = {"*": _LatestQuote(self.ticker)}
        self.sessions: list[tuple[WebSocketServer, object]] = []
        self.pushed = self.echoed = 0

    def start(self) -> None:
        super().start()
        self.env.process(self._tick())

    def _tick(self):
        for _ in range(self.count):
            yield self.env.timeout(self.every)
            text = self.ticker.next(self.env.now)
            for engine, sock in self.sessions:
                if engine.open:
                    engine.send_text(text)
                    self.pushed += 1
                    self._flush(engine, sock)

    def _accept(self, listener):
        while True:
            sock = yield listener.accept()
            self.connections += 1
            self.env.process(self._first_request(sock))

    def _first_request(self, sock):
        """Read until the first request's head is in, then serve it as WebSocket or HTTP."""
        head = b""
        while b"\r\n\r\n" not in head:
            data = yield sock.recv()
            if not data:
                sock.close()
                return
            head += data
        if re.search(rb"(?im)^upgrade:\s*websocket\s*$", head.split(b"\r\n\r\n")[0]):
            yield from self._websocket(sock, head)
        else:
            yield from self._serve(sock, head)

    def _websocket(self, sock, first: bytes):
        engine = WebSocketServer(paths=(self.path,))
        client = sock.remote[0]
        self.sessions.append((engine, sock))
        data = first
        while True:
            engine.receive(data)
            for event in engine.take_events():
                if isinstance(event, Opened):
                    self.say(f'{client} "GET {engine.target} HTTP/1.1" 101 (WebSocket open)')
                elif isinstance(event, Text):
                    engine.send_text(f"echo: {event.text}")
                    self.echoed += 1
                elif isinstance(event, Closed):
                    self.say(f"{client}: WebSocket closed ({event.code})")
                elif isinstance(event, Failed):
                    self.say(f"{client}: WebSocket refused: {event.why}")
            if self._flush(engine, sock):
                return
            data = yield sock.recv()
            if not data:
                engine.connection_lost()
                sock.close()
                return

    @staticmethod
    def _flush(engine, sock) -> bool:
        data, closing = batch(engine.outputs())
        if data:
            sock.send(data)
        if closing:
            sock.close()
        return closing

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
        "url": {"$ref": "#/$defs/ws_url", "description": "ws://host[:port]/path"},
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
                 ping_at: list | None = None, key: str | None = None, at: float = 0.0) -> None:
        super().__init__(node, at=at)
        if not url.startswith("ws://"):
            raise ValueError(f"{url!r} is not a ws:// URL")
        self.url = url
        self.host, self.port, self.path = parse_url("http://" + url[len("ws://"):])
        self.duration = duration
        self.to_send = sorted(((parse_time(m["at"]), m["text"]) for m in send or []))
        self.pings = sorted(parse_time(t) for t in ping_at or [])
        self.rng = app_rng(self)
        self.key = key or new_key(self.rng)
        self.received: list[dict] = []
        self.sent: list[dict] = []
        self.pongs = 0
        self.bytes_sent = self.bytes_received = 0
        self.opened_at: float | None = None
        self.closed_code: int | None = None
        self.engine: WebSocketClient | None = None

    def start(self) -> None:
        _, address = self.resolve(self.host)
        self.env.process(self._run(address))

    def _run(self, address: int):
        try:
            sock = self.node.tcp_connect(address, self.port)
        except OSError:                      # no address or no route: connect() fails at once
            self.error = f"connect to {self.host} port {self.port}: Network is unreachable"
            self.say(self.error)
            return
        try:
            yield sock.connected
        except ConnectionError:
            self.error = f"connect to {self.host} port {self.port}: Connection refused"
            self.say(self.error)
            return
        engine = self.engine = WebSocketClient(host_header(self.host, self.port), self.path,
                                               key=self.key, rng=self.rng)
        engine.start()
        # In time order: the loop below takes from the front, and a ping planned before
        # the first message (ping_at: [0] with a send at 2 s) would otherwise wait behind
        # it while its deadline woke the loop again at once, forever.
        plan = sorted([(t, "send", text) for t, text in self.to_send]
                      + [(t, "ping", "") for t in self.pings], key=lambda step: step[0])
        reading = None
        deadline = None
        while True:
            data, closing = batch(engine.outputs())
            if data:
                self.bytes_sent += len(data)
                sock.send(data)
            if closing:
                sock.close()
                break
            if reading is None:
                reading = sock.recv()
            waits = [reading]
            if deadline is not None:
                due = min([deadline] + [self.opened_at + t for t, _, _ in plan])
                if due != float("inf"):
                    waits.append(self.env.timeout(max(0.0, due - self.env.now)))
            yield self.env.any_of(waits)
            now = self.env.now
            if reading.triggered:
                received, reading = reading.value, None
                if not received:
                    engine.connection_lost()
                    self._events(engine.take_events(), now)
                    sock.close()
                    break
                self.bytes_received += len(received)
                engine.receive(received)
                self._events(engine.take_events(), now)
                if self.opened_at is not None and deadline is None:
                    deadline = self.opened_at + self.duration
            while plan and self.opened_at is not None and self.opened_at + plan[0][0] <= now:
                (_, what, text), plan = plan[0], plan[1:]
                if what == "send":
                    engine.send_text(text)
                    self.sent.append({"t": round(now, 6), "text": text})
                    self.say(f"> {text}")
                else:
                    engine.ping(b"netsim")
                    self.say("> ping")
            if deadline is not None and now >= deadline and engine.open:
                self.say("> close 1000")
                engine.close(1000)
                deadline = float("inf")
        if self.closed_code is None and self.error is None:
            self.error = "the connection closed without a WebSocket close"

    def _events(self, events: list, now: float) -> None:
        for event in events:
            if isinstance(event, Opened):
                self.opened_at = now
                for line in self.engine.request_head:
                    self.say(f"> {line}")
                for line in self.engine.response_head:
                    self.say(f"< {line}")
            elif isinstance(event, Text):
                late = latency(event.text, now)
                row = {"t": round(now, 6), "text": event.text}
                if late:
                    row["update"], row["latency_s"] = late[0], round(late[1], 6)
                self.received.append(row)
                self.say(f"< {event.text}" + (f"  ({late[1] * 1000:.1f} ms after it was made)"
                                              if late else ""))
            elif isinstance(event, Binary):
                self.received.append({"t": round(now, 6), "bytes": len(event.data)})
            elif isinstance(event, PongReceived):
                self.pongs += 1
                self.say("< pong")
            elif isinstance(event, Closed):
                self.closed_code = event.code
                self.say(f"< close {event.code}")
            elif isinstance(event, Failed):
                self.error = event.why
                self.say(f"websocket-client: {event.why}")

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
