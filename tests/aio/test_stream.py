"""Streams, transports and servers over netsim's TCP: asyncio's semantics, real flow
control, the errors asyncio raises, TLS, and no real socket."""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl
import subprocess

import pytest

from netsim.aio import RealNetworkError, loop_for

from tests.aio.conftest import unhandled


async def _serve(handler, port=7, **kw):
    return await asyncio.start_server(handler, port=port, **kw)


def test_an_exchange_takes_the_round_trips_and_no_real_socket(hosts, socket_calls):
    net, alice, bob = hosts

    async def echo(reader, writer):
        writer.write(await reader.read(100))
        await writer.drain()
        writer.close()

    async def client():
        loop = asyncio.get_running_loop()
        await asyncio.sleep(1)                      # ARP is done by then: the RTT alone
        reader, writer = await asyncio.open_connection("bob", 7)
        up = loop.time()
        writer.write(b"hello")
        data = await reader.read(100)
        back = loop.time()
        assert await reader.read() == b""           # the server closed
        writer.close()
        await writer.wait_closed()
        return data, up, back, writer.get_extra_info("peername")

    bob.start_async(_serve(echo))
    data, up, back, peer = alice.run_async(client())
    assert data == b"hello" and peer == (bob.ip, 7)
    # 4 links' propagation (two each way) a round trip, plus serialization.
    assert back - up == pytest.approx(0.04, abs=0.002)
    assert socket_calls == [] and unhandled(alice, bob) == []


def test_a_paused_reader_closes_the_tcp_window(hosts):
    """pause_reading() stops reading: the bytes stay in TCP's receive buffer and the
    window advertised to the sender closes; resume_reading() opens it again."""
    net, alice, bob = hosts
    bob.tcp.options["recv_buffer"] = 64 * 1024
    got = bytearray()
    size = 1_000_000

    class Slow(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport = transport
            transport.pause_reading()
            loop = asyncio.get_running_loop()
            loop.call_later(1.9, lambda: got.extend(b"-" if got else b""))   # nothing yet
            loop.call_later(2.0, transport.resume_reading)

        def data_received(self, data):
            got.extend(data)

    async def serve():
        await asyncio.get_running_loop().create_server(Slow, port=9)

    async def send():
        _reader, writer = await asyncio.open_connection("bob", 9)
        writer.write(bytes(size))
        await writer.drain()
        writer.close()
        return asyncio.get_running_loop().time()

    bob.start_async(serve())
    drained = alice.run_async(send())
    net.run()
    assert len(got) == size and bytes(got[:1]) == b"\0" and drained > 2.0
    windows = [(n.time, n.detail["snd_wnd"]) for n in net.trace.notes
               if n.what == "tcp-metrics" and n.node == "alice"]
    # Closed while paused (to less than a segment: the receiver's silly-window avoidance
    # keeps the last few scaled units), open again after.
    assert min(w for t, w in windows if t < 2.0) < 1448
    assert windows[-1][1] >= 64 * 1024 - 1448


def test_write_flow_control_pauses_and_resumes_the_protocol(hosts):
    net, alice, bob = hosts
    events = []

    class Sink(asyncio.Protocol):
        pass

    class Writer(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport = transport
            for _ in range(64):
                transport.write(bytes(64 * 1024))
            events.append(("written", transport.get_write_buffer_size() > 64 * 1024))

        def pause_writing(self):
            events.append(("pause", asyncio.get_running_loop().time()))

        def resume_writing(self):
            events.append(("resume", asyncio.get_running_loop().time()))
            self.transport.close()

    async def main():
        loop = asyncio.get_running_loop()
        await loop.create_connection(Writer, "bob", 9)
        await asyncio.sleep(30)

    async def serve():
        await asyncio.get_running_loop().create_server(Sink, port=9)

    bob.start_async(serve())
    alice.run_async(main())
    kinds = [e[0] for e in events]
    assert kinds == ["pause", "written", "resume"]
    assert events[2][1] > events[0][1]


def test_half_close_lets_the_server_answer_after_eof(hosts):
    """write_eof() sends FIN and reading goes on; the server reads to EOF, then answers."""
    net, alice, bob = hosts

    async def count(reader, writer):
        data = await reader.read()                  # to EOF
        writer.write(f"{len(data)} bytes".encode())
        await writer.drain()
        writer.close()

    async def client():
        reader, writer = await asyncio.open_connection("bob", 7)
        writer.write(b"x" * 5000)
        writer.write_eof()
        answer = await reader.read()
        writer.close()
        return answer

    bob.start_async(_serve(count))
    assert alice.run_async(client()) == b"5000 bytes"


def test_a_reset_is_connection_reset_error(hosts):
    net, alice, bob = hosts

    async def rude(reader, writer):
        await reader.read(1)
        writer.transport.abort()

    async def client():
        reader, writer = await asyncio.open_connection("bob", 7)
        writer.write(b"hi")
        with pytest.raises(ConnectionResetError):
            await reader.read(100)
            await reader.read(100)
        return True

    bob.start_async(_serve(rude))
    assert alice.run_async(client())


def test_connection_errors_are_asyncios(hosts):
    net, alice, bob = hosts

    async def client():
        with pytest.raises(ConnectionRefusedError, match="Connect call failed"):
            await asyncio.open_connection("bob", 4444)
        with pytest.raises(socket.gaierror, match="Temporary failure in name resolution") as gai:
            await asyncio.open_connection("nowhere.example", 80)     # no name server to ask
        assert gai.value.errno == socket.EAI_AGAIN
        with pytest.raises(TimeoutError, match="Connect call failed") as silent:
            await asyncio.open_connection("192.0.2.1", 80)      # r1 has no route: no answer
        assert silent.value.errno == errno.ETIMEDOUT
        with pytest.raises(OSError) as not_mine:
            await asyncio.open_connection("bob", 7, local_addr=("10.9.9.9", 0))
        assert not_mine.value.errno == errno.EADDRNOTAVAIL
        return True

    assert alice.run_async(client())
    lone = net.add_host("lone")
    lone.set_address(lone.add_interface(), "10.5.0.1/24")

    async def no_route():
        with pytest.raises(OSError) as unreachable:
            await asyncio.open_connection("192.0.2.1", 80)
        return unreachable.value.errno

    assert lone.run_async(no_route()) == errno.ENETUNREACH


def test_a_client_binds_its_port_and_a_server_port_zero_draws_one(hosts):
    net, alice, bob = hosts

    async def echo(reader, writer):
        writer.write(repr(writer.get_extra_info("peername")).encode())
        await writer.drain()
        writer.close()

    async def main():
        server = await asyncio.start_server(echo, port=0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection(alice.ip, port, local_addr=("0.0.0.0", 4321))
        seen = await reader.read()
        writer.close()
        server.close()
        await server.wait_closed()
        return port, seen, server.is_serving()

    port, seen, serving = alice.run_async(main())
    assert 32768 <= port <= 60999 and seen == repr((alice.ip, 4321)).encode() and not serving


def test_loopback_reaches_the_host_itself(hosts):
    net, alice, _bob = hosts

    async def echo(reader, writer):
        writer.write(await reader.read(100))
        writer.close()

    async def main():
        await asyncio.start_server(echo, "127.0.0.1", 8000)
        out = []
        for target in ("127.0.0.1", "localhost", alice.ip):
            reader, writer = await asyncio.open_connection(target, 8000)
            writer.write(target.encode())
            out.append((await reader.read(), writer.get_extra_info("sockname")[0]))
            writer.close()
        return out, asyncio.get_running_loop().time()

    out, when = alice.run_async(main())
    assert out == [(b"127.0.0.1", "127.0.0.1"), (b"localhost", "127.0.0.1"),
                   (alice.ip.encode(), alice.ip)]
    assert when == 0.0                              # lo: no wire, no delay
    on_wires = [r for r in net.trace.records() if r.link and r.protocol == "TCP"]
    assert on_wires == []                           # lo is in no capture, as on Linux


def test_a_real_socket_during_a_run_is_refused(hosts):
    net, alice, _bob = hosts

    async def main():
        with pytest.raises(RealNetworkError, match="socket.__new__ on simulated host alice"):
            socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        return True

    assert alice.run_async(main())


def test_the_socket_stand_ins(hosts):
    net, alice, bob = hosts

    async def nothing(reader, writer):
        writer.close()

    async def main():
        server = await asyncio.start_server(nothing, port=2121)
        stand_in = server.sockets[0]
        _reader, writer = await asyncio.open_connection("bob", 2121)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with pytest.raises(NotImplementedError, match=r"socket.recv\(\)"):
            sock.recv(10)
        # Polled, the descriptor tells whether a read would return at once (httpcore asks
        # before it reuses a kept-alive connection): not yet; once the server's FIN is in, yes.
        idle = _polls_readable(sock)
        await asyncio.sleep(0.1)
        closed = _polls_readable(sock)
        return (stand_in.getsockname(), sock.getsockname(), sock.getpeername(), sock.fileno(),
                sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY), idle, closed)

    bob.start_async(_serve(nothing, 2121))
    listen, local, peer, fd, nodelay, idle, closed = alice.run_async(main())
    assert (idle, closed) == (False, True)
    assert listen == ("0.0.0.0", 2121) and local[0] == alice.ip and peer == (bob.ip, 2121)
    assert fd >= 0 and nodelay == 1


def _polls_readable(sock) -> bool:
    import select
    poll = select.poll()
    poll.register(sock.fileno(), select.POLLIN)
    return bool(poll.poll(0))


def test_same_seed_same_bytes(tmp_path):
    def run():
        from netsim import line
        net, (a, _r, b) = line(["a", "r", "b"], delay="5ms", loss=0.05, seed=11)

        async def echo(reader, writer):
            while data := await reader.read(1000):
                writer.write(data)
            writer.close()

        async def client():
            server_port = 7
            reader, writer = await asyncio.open_connection("b", server_port)
            for i in range(20):
                writer.write(bytes([i]) * 3000)
                await reader.readexactly(3000)
            writer.close()
            return asyncio.get_running_loop().time()

        b.start_async(_serve(echo))
        end = a.run_async(client())
        net.run()                                   # the server hears the FIN and closes too
        return end, [net.trace.frame_bytes(f) for _t, _k, _p, f, _r in net.trace.raw()]

    first, second = run(), run()
    assert first == second and len(first[1]) > 100


# -- TLS ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=bob", "-addext", "subjectAltName=DNS:bob",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client


def test_tls_connections_and_start_tls(hosts, certificate, socket_calls):
    net, alice, bob = hosts
    server_ctx, client_ctx = certificate

    async def echo(reader, writer):
        line = await reader.readline()
        if line == b"STARTTLS\n":
            writer.write(b"go ahead\n")
            await writer.drain()
            await writer.start_tls(server_ctx)
            line = await reader.readline()
        writer.write(line.upper())
        await writer.drain()
        writer.close()

    async def serve():
        await asyncio.start_server(echo, port=465, ssl=server_ctx)
        await asyncio.start_server(echo, port=587)

    async def client():
        reader, writer = await asyncio.open_connection("bob", 465, ssl=client_ctx)
        writer.write(b"over tls\n")
        first = await reader.readline()
        version = writer.get_extra_info("ssl_object").version()
        writer.close()
        reader, writer = await asyncio.open_connection("bob", 587)
        writer.write(b"STARTTLS\n")
        assert await reader.readline() == b"go ahead\n"
        await writer.start_tls(client_ctx, server_hostname="bob")
        writer.write(b"upgraded\n")
        second = await reader.readline()
        writer.close()
        return first, second, version

    bob.start_async(serve())
    first, second, version = alice.run_async(client())
    assert (first, second) == (b"OVER TLS\n", b"UPGRADED\n") and version.startswith("TLSv1.")
    assert socket_calls == []


_REAL_GETADDRINFO = socket.getaddrinfo          # before the suite's guard patches it
_REAL_CREATE_CONNECTION = socket.create_connection


def test_the_bridges_own_guard_refuses_name_lookups_and_connections(hosts, monkeypatch):
    """Without the suite's patches in the way, the audit hook itself refuses them — before
    any lookup or connection is attempted — and counts each."""
    from netsim.aio import guard

    monkeypatch.setattr(socket, "getaddrinfo", _REAL_GETADDRINFO)
    monkeypatch.setattr(socket, "create_connection", _REAL_CREATE_CONNECTION)
    net, alice, _bob = hosts
    before = guard.refused

    async def main():
        for attempt in (lambda: socket.getaddrinfo("example.com", 80),
                        lambda: socket.create_connection(("192.0.2.1", 80)),
                        lambda: socket.gethostbyname("example.com")):
            with pytest.raises(RealNetworkError):
                attempt()
        return True

    assert alice.run_async(main()) and guard.refused - before == 3
