"""Resolver speed: lookups answered per second of wall time, from the cache and cold
(the iterative walk root → com → domain, every message real DNS bytes through
dnspython), on the engines alone — no network between them.

    python benchmarks/dns_lookups.py [--lookups 2000]

(Not ``dns.py``: a script's folder comes first on ``sys.path``, so a ``dns.py`` there
would hide dnspython's ``dns`` package from every benchmark in the folder.)

Prints ``lookups_per_s=`` for each case, cached last.
"""

from __future__ import annotations

import argparse
import time

import dns.message

from netsim.proto.dns import Authority, Resolved, Resolver, SendQuery, load_zone, to_wire

SOA = "@ SOA ns admin 1 7200 900 1209600 300"


def servers(names: int) -> dict[str, Authority]:
    root = Authority([load_zone(".", [SOA, "@ NS a.root.", "a.root. A 10.0.0.1",
                                      "com. NS a.tld.", "a.tld. A 10.0.0.2"])])
    tld = Authority([load_zone("com", [SOA, "@ NS a.tld.", "example.com. NS ns.example.com.",
                                       "ns.example.com. A 10.0.0.3"])])
    domain = Authority([load_zone("example.com", [SOA, "@ NS ns", "ns A 10.0.0.3"]
                                  + [f"h{k} A 10.1.{k // 250}.{k % 250 + 1}" for k in range(names)])])
    return {"10.0.0.1": root, "10.0.0.2": tld, "10.0.0.3": domain}


def run(resolver: Resolver, table: dict, names: list[str]) -> float:
    start = time.perf_counter()
    for k, name in enumerate(names):
        resolver.lookup(name, "A", k, 0.0)
        done = False
        while not done:
            for out in resolver.outputs():
                if isinstance(out, Resolved):
                    done = True
                elif isinstance(out, SendQuery):
                    query = dns.message.from_wire(out.wire)
                    resolver.receive(to_wire(table[out.server].respond(query), udp=True), 0.0,
                                     out.server, out.port)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookups", type=int, default=2000)
    args = parser.parse_args()
    table = servers(args.lookups)
    names = [f"h{k}.example.com" for k in range(args.lookups)]
    resolver = Resolver(root_hints=[("a.root.", "10.0.0.1")])
    cold = run(resolver, table, names)          # each name new: asks the domain's server
    print(f"case=cold lookups={args.lookups} upstream={resolver.upstream_queries} "
          f"lookups_per_s={args.lookups / cold:.0f}")
    first_walk = Resolver(root_hints=[("a.root.", "10.0.0.1")])
    walk = run(first_walk, table, names[:1])
    print(f"case=first-walk upstream={first_walk.upstream_queries} seconds={walk:.4f}")
    cached = run(resolver, table, names)        # every name again: all from the cache
    print(f"case=cached lookups={args.lookups} lookups_per_s={args.lookups / cached:.0f}")


if __name__ == "__main__":
    main()
