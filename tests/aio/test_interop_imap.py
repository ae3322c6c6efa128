"""netsim's IMAP server (RFC 3501) judged by aioimaplib, in simulated time."""

from __future__ import annotations

import pytest

aioimaplib = pytest.importorskip("aioimaplib")

from tests.aio.interop import network  # noqa: E402

MESSAGE = b"From: alice@example.org\r\nTo: bob@example.org\r\nSubject: for IMAP\r\n\r\nHello Bob.\r\n"


def test_aioimaplib_logs_in_selects_and_fetches(socket_calls):
    net, nodes = network("  - {node: server, run: mail-server, domain: example.org, users: {bob: bob-pw}}")
    server = net.apps[0]
    server.store.deliver("bob", MESSAGE, 0.0)

    async def read():
        imap = aioimaplib.IMAP4(host="server", port=143, timeout=10)
        await imap.wait_hello_from_server()
        login = await imap.login("bob", "bob-pw")
        select = await imap.select("INBOX")
        fetch = await imap.fetch("1", "(RFC822)")
        logout = await imap.logout()
        return login.result, select.result, fetch, logout.result

    login, select, fetch, logout = nodes["client"].run_async(read())
    assert (login, select, logout) == ("OK", "OK", "OK")
    assert fetch.result == "OK" and any(MESSAGE in line for line in fetch.lines
                                        if isinstance(line, (bytes, bytearray)))
    assert socket_calls == []


def test_aioimaplib_searches():
    net, nodes = network("  - {node: server, run: mail-server, domain: example.org, users: {bob: bob-pw}}")
    net.apps[0].store.deliver("bob", MESSAGE, 0.0)

    async def search():
        imap = aioimaplib.IMAP4(host="server", port=143, timeout=10)
        await imap.wait_hello_from_server()
        await imap.login("bob", "bob-pw")
        await imap.select("INBOX")
        found = await imap.search("ALL")         # SEARCH CHARSET utf-8 ALL
        await imap.logout()
        return found.result, found.lines[0]

    assert nodes["client"].run_async(search()) == ("OK", b"1")


def test_aioimaplib_fetches_by_uid():
    net, nodes = network("  - {node: server, run: mail-server, domain: example.org, users: {bob: bob-pw}}")
    net.apps[0].store.deliver("bob", MESSAGE, 0.0)

    async def fetch_by_uid():
        imap = aioimaplib.IMAP4(host="server", port=143, timeout=10)
        await imap.wait_hello_from_server()
        await imap.login("bob", "bob-pw")
        await imap.select("INBOX")
        response = await imap.uid("fetch", "1", "(RFC822)")
        await imap.logout()
        return response.result

    assert nodes["client"].run_async(fetch_by_uid()) == "OK"
