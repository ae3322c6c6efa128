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
from netsim.apps.stream_io import batch
from netsim.proto.http.client import HttpClientConnection, Request

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


def get_many(node, count: int, done: list):
    sock = node.tcp_connect("10.0.0.2", 80)
    yield sock.connected
    engine = HttpClientConnection(host="web", keep_open=True)
    engine.start(node.env.now)
    for _ in range(count):
        exchange = engine.submit(Request("GET", "/1k"), node.env.now)
        while exchange.done_at is None:
            data, _ = batch(engine.outputs())
            if data:
                sock.send(data)
            engine.receive((yield sock.recv()), node.env.now)
        assert exchange.status == 200 and len(exchange.body) == 1024
        done.append(exchange.done_at)
    engine.close()
    sock.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--no-trace", action="store_true", help="record nothing (the upper bound)")
    args = parser.parse_args()
    network = parse_scenario(SCENARIO).build(trace=not args.no_trace)
    done: list[float] = []
    network.env.process(get_many(network.nodes["client"], args.requests, done))
    start = time.perf_counter()
    network.run(until=3600)
    wall = time.perf_counter() - start
    assert len(done) == args.requests, f"only {len(done)} of {args.requests} answered"
    print(f"requests={args.requests} trace={'off' if args.no_trace else 'on'} "
          f"simulated_s={done[-1]:.3f} wall_s={wall:.3f} frames={network.trace.frame_count}")
    print(f"requests_per_s={args.requests / wall:.0f}")


if __name__ == "__main__":
    main()
