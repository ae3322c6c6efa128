"""getaddrinfo and getnameinfo on a simulated host: the hosts table, then DNS."""

from __future__ import annotations

import asyncio
import socket

import pytest


def test_hosts_table_literals_and_services(hosts):
    net, alice, bob = hosts

    async def main():
        loop = asyncio.get_running_loop()
        return (await loop.getaddrinfo("bob", "smtp", type=socket.SOCK_STREAM),
                await loop.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM),
                await loop.getaddrinfo(None, 0, flags=socket.AI_PASSIVE, type=socket.SOCK_DGRAM),
                len(await loop.getaddrinfo("10.1.2.3", 1)),
                await loop.getnameinfo((bob.ip, 25)),
                await loop.getnameinfo(("127.0.0.1", 80), socket.NI_NUMERICSERV))

    by_name, local, passive, kinds, name, loop_name = alice.run_async(main())
    assert by_name == [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (bob.ip, 25))]
    assert local[0][4] == ("127.0.0.1", 80) and passive[0][4] == ("0.0.0.0", 0)
    assert kinds == 3                                   # stream, datagram, raw: as glibc
    assert name == ("bob", "smtp") and loop_name == ("localhost", "80")


def test_errors_are_glibcs(hosts):
    net, alice, _bob = hosts

    async def main():
        loop = asyncio.get_running_loop()
        errors = []
        for host, port, family in (("bob", "nosuchservice", 0), ("::1", 80, 0),
                                   ("bob", 80, socket.AF_INET6)):
            with pytest.raises(socket.gaierror) as exc:
                await loop.getaddrinfo(host, port, family=family)
            errors.append(exc.value.errno)
        return errors

    assert alice.run_async(main()) == [socket.EAI_SERVICE, socket.EAI_FAMILY, socket.EAI_FAMILY]


def test_a_name_from_dns(tmp_path):
    """A name no hosts table knows goes to the host's name server, over simulated UDP 53."""
    from netsim import parse_scenario
    scenario = parse_scenario("""
name: aio-dns
nodes:
  ns:    {kind: host, ip: 10.0.0.53/24}
  alice: {kind: host, ip: 10.0.0.1/24, dns: 10.0.0.53}
links:
  - {endpoints: [ns, alice]}
apps:
  - node: ns
    run: dns-server
    zones:
      - origin: example.com
        records: ["@ SOA ns admin 1 7200 900 1209600 300", "@ NS ns", "ns A 10.0.0.53",
                  "www A 10.0.0.80"]
""")
    net = scenario.build(seed=1)
    alice = net.nodes["alice"]

    async def main():
        loop = asyncio.get_running_loop()
        found = await loop.getaddrinfo("www.example.com", 80, type=socket.SOCK_STREAM)
        with pytest.raises(socket.gaierror, match="Name or service not known"):
            await loop.getaddrinfo("nope.example.com", 80)
        return found[0][4], loop.time()

    address, when = alice.run_async(main())
    assert address == ("10.0.0.80", 80) and when > 0
