"""netsim's WebSocket server (RFC 6455) judged by the websockets library's asyncio client, in
simulated time."""

from __future__ import annotations

import asyncio

import pytest

ws_client = pytest.importorskip("websockets.asyncio.client")

from tests.aio.interop import network  # noqa: E402


def test_websockets_client_gets_updates_echo_and_a_clean_close(socket_calls):
    net, nodes = network("  - {node: server, run: websocket-server, every: 200ms, updates: 3}")

    async def talk():
        loop = asyncio.get_running_loop()
        async with ws_client.connect("ws://server/ticker", open_timeout=10) as ws:
            updates = [await ws.recv() for _ in range(2)]
            await ws.send("hello")
            reply = None
            while reply is None or not reply.startswith("echo: "):
                reply = await ws.recv()
            pong = await ws.ping()
            latency = await pong
            start = loop.time()
        return updates, reply, latency, ws.close_code, loop.time() - start

    updates, reply, latency, code, closing = nodes["client"].run_async(talk())
    assert len(updates) == 2 and all(isinstance(u, str) and u for u in updates)
    assert reply == "echo: hello" and code == 1000
    assert closing == pytest.approx(0.01, abs=0.005)  # the close handshake: one round trip
    assert socket_calls == []
