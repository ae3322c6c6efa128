"""Datagram endpoints over netsim's UDP."""

from __future__ import annotations

import asyncio
import errno

import pytest


class Upper(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.transport.sendto(data.upper(), addr)


class Client(asyncio.DatagramProtocol):
    def __init__(self):
        self.got = asyncio.get_running_loop().create_future()
        self.errors = []

    def datagram_received(self, data, addr):
        if not self.got.done():
            self.got.set_result((data, addr, asyncio.get_running_loop().time()))

    def error_received(self, exc):
        self.errors.append(exc)


def test_a_datagram_there_and_back(hosts, socket_calls):
    net, alice, bob = hosts

    async def serve():
        await asyncio.get_running_loop().create_datagram_endpoint(Upper, local_addr=("0.0.0.0", 9))

    async def ask():
        loop = asyncio.get_running_loop()
        await asyncio.sleep(1)
        transport, protocol = await loop.create_datagram_endpoint(Client, remote_addr=("bob", 9))
        sent = loop.time()
        transport.sendto(b"ping")
        with pytest.raises(ValueError, match="Invalid address"):
            transport.sendto(b"x", ("10.9.9.9", 9))
        data, addr, when = await protocol.got
        local = transport.get_extra_info("sockname")
        transport.close()
        return data, addr, when - sent, local

    bob.start_async(serve())
    data, addr, rtt, local = alice.run_async(ask())
    assert data == b"PING" and addr == (bob.ip, 9)
    # ARP on both links first (a round trip on each: 20 ms + 20 ms), then 40 ms there and back.
    assert rtt == pytest.approx(0.08, abs=0.001)
    assert local[0] == alice.ip and 32768 <= local[1] <= 60999
    assert socket_calls == []


def test_an_unconnected_endpoint_and_errors(hosts):
    net, alice, bob = hosts

    async def main():
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_datagram_endpoint(Client, local_addr=("0.0.0.0", 0))
        transport.sendto(b"no address")
        transport.sendto(b"to lo", ("127.0.0.1", transport.get_extra_info("sockname")[1]))
        looped = await protocol.got
        with pytest.raises(OSError) as taken:
            await loop.create_datagram_endpoint(Client, local_addr=("0.0.0.0",
                                                transport.get_extra_info("sockname")[1]))
        await asyncio.sleep(0)
        return looped[0], [e.errno for e in protocol.errors], taken.value.errno

    looped, errors, taken = alice.run_async(main())
    assert looped == b"to lo" and errors == [errno.EDESTADDRREQ] and taken == errno.EADDRINUSE
