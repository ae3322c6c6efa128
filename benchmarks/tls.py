"""TLS speed: HTTPS GETs of a 1 KiB page, one `http-get` after another, each from a
client of its own (so every handshake is a full one: no session to resume), over clean
1 Gbps / 1 ms links through one router, the whole stack simulated (Ethernet, IP, TCP, OpenSSL through `ssl`'s
memory buffers on both sides, h11, the trace recording every frame).

    python benchmarks/tls.py [--clients 100]

Runs the same GETs three ways — TLS 1.3, TLS 1.2 and plain HTTP — and prints, for each,
the wall time and the simulated time one GET took, then what a handshake adds to a page
load in both clocks. Prints ``handshakes_per_s=`` (TLS 1.3 handshakes, each with its GET,
completed per second of wall time) last.
"""

from __future__ import annotations

import argparse
import time

from netsim import parse_scenario


def scenario(clients: int, tls: str | None) -> str:
    """``clients`` hosts, each on a link of its own to the router the server is behind
    (no switch flooding every ARP to every client); client k GETs at k × 10 ms."""
    if not 1 <= clients <= 240:
        raise SystemExit("--clients: 1 to 240 (one /24 a client)")
    url = "https" if tls else "http"
    server_tls = f"tls: {{version: \"{tls}\"}}, " if tls else ""
    nodes = "".join(f"  c{k}: {{kind: host, ip: 10.{k + 1}.0.10/24, gateway: 10.{k + 1}.0.1}}\n"
                    for k in range(clients))
    links = "".join(f"  - endpoints: [c{k}, r]\n" for k in range(clients))
    apps = "".join(f"  - {{node: c{k}, at: {k * 0.01:.2f}s, run: http-get, url: \"{url}://10.250.0.80/1k\"}}\n"
                   for k in range(clients))
    return f"""
name: tls-bench
until: {clients * 0.01 + 5:.2f}s
defaults:
  link: {{rate: 1Gbps, delay: 1ms}}
nodes:
  web: {{kind: host, ip: 10.250.0.80/24, gateway: 10.250.0.1}}
  r: {{kind: router}}
{nodes}links:
  - endpoints: [web, r]
{links}apps:
  - {{node: web, run: http-server, {server_tls}sites: {{"*": {{/1k: {{body: 1KiB}}}}}}}}
{apps}"""


def measure(clients: int, tls: str | None) -> tuple[float, float]:
    """(wall seconds for the run, mean simulated seconds per GET)."""
    # Every client names the server by its address (its certificate names that too):
    # no DNS in the measurement.
    parsed = parse_scenario(scenario(clients, tls))
    network = parsed.build()
    start = time.perf_counter()
    network.run(until=parsed.until)
    wall = time.perf_counter() - start
    gets = [app for app in network.apps if app.name == "http-get"]
    times = []
    for app in gets:
        result = app.result()
        assert app.status == "finished" and result["status"] == 200, (tls, app.node.name, result)
        times.append(result["time_s"])
    return wall, sum(times) / len(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    args = parser.parse_args()
    runs = {name: measure(args.clients, tls) for name, tls in
            (("tls13", "1.3"), ("tls12", "1.2"), ("plain", None))}
    for name, (wall, per_get) in runs.items():
        print(f"{name}: gets={args.clients} wall_s={wall:.3f} per_s={args.clients / wall:.0f} "
              f"simulated_ms_per_get={per_get * 1000:.2f}")
    plain_wall, plain_get = runs["plain"]
    for name in ("tls13", "tls12"):
        wall, per_get = runs[name]
        print(f"{name}_adds: wall_ms_per_get={(wall - plain_wall) / args.clients * 1000:.2f} "
              f"simulated_ms_per_get={(per_get - plain_get) * 1000:.2f}")
    print(f"handshakes_per_s_tls12={args.clients / runs['tls12'][0]:.0f}")
    print(f"handshakes_per_s={args.clients / runs['tls13'][0]:.0f}")


if __name__ == "__main__":
    main()
