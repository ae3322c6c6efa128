"""HTTP speed: keep-alive GETs of a 1 KiB resource, one after another on one persistent
connection over a clean 1 Gbps / 1 ms link, the whole stack simulated (Ethernet, IP,
TCP, h11 on both sides, the trace recording every frame).

    python benchmarks/http_requests.py [--requests 2000] [--no-trace]

(Not ``http.py``: a script's folder comes first on ``sys.path``, so an ``http.py`` there
would hide the standard library's ``http`` package — which ``urllib`` and ``xml.sax``
import — from every benchmark in the folder.)

Prints ``requests_per_s=`` (simulated requests completed per second of wall time) last.
"""

from __future__ import annotations

import argparse
import time

from netsim import parse_scenario
from netsim.apps.base import App
from netsim.proto.http.client import HttpClientConnection, Request
from netsim.sim.runtime import StreamDriver

SCENARIO = """
name: http-bench
nodes:
  client: {kind: host, ip: 10.0.0.1/24}
  web:    {kind: host, ip: 10.0.0.2/24}
links:
  - {endpoints: [client, web], rate: 1Gbps, delay: 1ms}
apps:
  - node: web
    run: http-server
    keep_alive: 600s
    sites: {"*": {/1k: {body: 1KiB, type: text/plain}}}
"""


class OneAfterAnother(HttpClientConnection):
    """GET /1k ``count`` times on one connection, the next once the last is answered."""

    def __init__(self, count: int, done: list) -> None:
        super().__init__(host="web", keep_open=True)
        self.wanted, self.answered = count, done
        self.exchange = None

    def start(self, now: float) -> None:
        super().start(now)
        self._ask(now)

    def receive(self, data: bytes, now: float) -> None:
        super().receive(data, now)
        if self.exchange.done_at is not None:
            assert self.exchange.status == 200 and len(self.exchange.body) == 1024
            self.answered.append(self.exchange.done_at)
            if len(self.answered) < self.wanted:
                self._ask(now)
            else:
                self.close()

    def _ask(self, now: float) -> None:
        self.exchange = self.submit(Request("GET", "/1k"), now)


class Bench(App):
    name = "bench"

    def start(self) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--no-trace", action="store_true", help="record nothing (the upper bound)")
    args = parser.parse_args()
    network = parse_scenario(SCENARIO).build(trace=not args.no_trace)
    done: list[float] = []
    client = network.nodes["client"]
    StreamDriver(Bench(client), OneAfterAnother(args.requests, done)).connect("web", 80)
    start = time.perf_counter()
    network.run(until=3600)
    wall = time.perf_counter() - start
    assert len(done) == args.requests, f"only {len(done)} of {args.requests} answered"
    print(f"requests={args.requests} trace={'off' if args.no_trace else 'on'} "
          f"simulated_s={done[-1]:.3f} wall_s={wall:.3f} frames={network.trace.frame_count}")
    print(f"requests_per_s={args.requests / wall:.0f}")


if __name__ == "__main__":
    main()
