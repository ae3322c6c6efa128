"""HTTP/1.1, HTTP/2 and HTTP/3 side by side: a browser loads one page of ``--objects``
1 KiB objects over a clean 1 Gbps / 1 ms link (TLS under 1.1 and 2, QUIC under 3), the
whole stack simulated — Ethernet, IP, TCP or UDP, TLS or QUIC's crypto, h11, h2 or
aioquic's H3 on both sides, the trace recording every frame.

    python benchmarks/http_versions.py [--objects 300]

Prints ``requests_per_s=`` (HTTP/1.1 on six connections), ``h2_requests_per_s=`` and
``h3_requests_per_s=``: simulated requests completed per second of wall time.
"""

from __future__ import annotations

import argparse
import time

from netsim import parse_scenario, run_scenario

SCENARIO = """
name: http-versions-bench
until: 60s
nodes:
  client: {{kind: host, ip: 10.0.0.1/24}}
  web:    {{kind: host, ip: 10.0.0.2/24}}
links:
  - {{endpoints: [client, web], rate: 1Gbps, delay: 1ms}}
apps:
  - node: web
    run: http-server
    tls: true
    http3: true
    keep_alive: 600s
    sites:
      "*":
        /page.html: {{body: 1KiB, embeds: [{embeds}]}}
{objects}
  - {{node: client, at: 0.1s, run: browser, url: https://web/page.html, version: "{version}",
     cache: false}}
"""


def one(version: str, count: int) -> tuple[int, float]:
    objects = "".join(f"        /o/{i}.png: {{body: 1KiB, type: image/png}}\n" for i in range(count))
    text = SCENARIO.format(embeds=", ".join(f"/o/{i}.png" for i in range(count)),
                           objects=objects.rstrip("\n"), version=version)
    scenario = parse_scenario(text)
    started = time.perf_counter()
    result = run_scenario(scenario, None, outputs=[])
    wall = time.perf_counter() - started
    browser = next(a for a in result.network.apps if a.name == "browser")
    (visit,) = browser.visits
    assert "error" not in visit and visit["requests"] == count + 1, visit.get("error")
    assert visit["http_versions"] == [version], visit["http_versions"]
    return visit["requests"], wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=300)
    args = parser.parse_args()
    figures = {}
    for version in ("1.1", "2", "3"):
        requests, wall = one(version, args.objects)
        figures[version] = requests / wall
        print(f"version={version} requests={requests} wall_s={wall:.3f}")
    print(f"h2_requests_per_s={figures['2']:.0f}")
    print(f"h3_requests_per_s={figures['3']:.0f}")
    print(f"requests_per_s={figures['1.1']:.0f}")


if __name__ == "__main__":
    main()
