"""netsim's HTTP server (RFC 9110, RFC 9112) judged by httpx's asyncio client, in simulated
time. (aiohttp does not run on the bridge: its connector opens real sockets itself, through
aiohappyeyeballs, and hands them to create_connection(sock=...).)"""

from __future__ import annotations

import pytest

httpx = pytest.importorskip("httpx")

from tests.aio.interop import network  # noqa: E402

SITE = """  - node: server
    run: http-server
    sites:
      "*":
        /index.html: {body: "<h1>hello</h1>", cache_control: "max-age=60", etag: auto}
        /big.bin: {body: 200KiB}
        /old: {redirect: 301, to: /index.html}"""


def test_httpx_gets_pages_over_one_kept_alive_connection(socket_calls):
    net, nodes = network(SITE)

    async def browse():
        async with httpx.AsyncClient(base_url="http://server", follow_redirects=True,
                                     timeout=10) as client:
            page = await client.get("/index.html")
            big = await client.get("/big.bin")
            moved = await client.get("/old")
            missing = await client.get("/nope")
            again = await client.get("/index.html", headers={"If-None-Match": page.headers["etag"]})
        return page, big, moved, missing, again

    page, big, moved, missing, again = nodes["client"].run_async(browse())
    assert page.status_code == 200 and page.text == "<h1>hello</h1>"
    assert page.http_version == "HTTP/1.1" and page.headers["cache-control"] == "max-age=60"
    assert big.status_code == 200 and len(big.content) == 200 * 1024
    assert moved.status_code == 200 and [r.status_code for r in moved.history] == [301]
    assert missing.status_code == 404 and again.status_code == 304
    connections = {n.detail["conn"] for n in net.trace.notes
                   if n.what == "tcp-state" and n.node == "client"}
    assert len(connections) == 1                    # keep-alive: one connection for all
    assert socket_calls == []
