"""netsim's FTP server (RFC 959, passive mode RFC 959 §4.1.2 PASV and RFC 2428 EPSV) judged
by aioftp's client, and netsim's ftp client by aioftp's server, in simulated time."""

from __future__ import annotations

import asyncio

import pytest

aioftp = pytest.importorskip("aioftp")

from tests.aio.interop import network  # noqa: E402

SERVER = """  - node: server
    run: ftp-server
    users: {alice: secret}
    files: {report.txt: "quarterly figures\\n", docs/readme.txt: "hello\\n"}"""


def test_aioftp_lists_retrieves_and_stores_through_netsims_server(socket_calls):
    net, nodes = network(SERVER)

    async def session():
        client = aioftp.Client(passive_commands=("pasv",))
        await client.connect("server")
        await client.login("alice", "secret")
        names = sorted(str(path) for path, _info in await client.list())
        async with client.download_stream("report.txt") as stream:
            got = await stream.read()
        async with client.upload_stream("notes.txt") as stream:
            await stream.write(b"my notes\n")
        await client.quit()
        return names, got

    names, got = nodes["client"].run_async(session())
    assert names == ["docs", "report.txt"] and got == b"quarterly figures\n"
    assert socket_calls == []


def test_aioftps_server_answers_netsims_ftp(socket_calls):
    """The reverse: netsim's ftp client (BSD ftp's words) against aioftp's server."""
    net, nodes = network("""  - node: client
    at: 1s
    run: ftp
    server: server
    user: alice
    password: secret
    mode: passive
    commands: [ls, get hello.txt]""")

    import io
    from aioftp.pathio import Node

    tree = [Node("dir", "/", content=[Node("file", "hello.txt", ctime=0, mtime=0,
                                           content=io.BytesIO(b"hello from aioftp\n"))])]

    class Preloaded(aioftp.MemoryPathIO):
        def __init__(self, *args, **kwargs):
            kwargs["state"] = tree
            super().__init__(*args, **kwargs)

    async def serve():
        user = aioftp.User("alice", "secret", home_path="/")
        server = aioftp.Server([user], path_io_factory=Preloaded)
        await server.start(host=None, port=21)

    nodes["server"].start_async(serve())
    net.run(until=30)
    (ftp,) = net.apps
    assert ftp.status == "finished", ftp.lines
    assert any("230" in line for line in ftp.lines), ftp.lines
    assert any("hello.txt" in line for line in ftp.lines), ftp.lines
