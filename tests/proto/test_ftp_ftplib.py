"""netsim's FTP server session judged by a real client: Python's ``ftplib``, over fake
sockets that feed the sans-I/O engine (no socket of this machine is opened).

The control socket hands what ftplib sends to :class:`FtpServerSession` and gives back
its replies; a data connection is made when ftplib connects to the port a 227 named
(passive) or when the session connects to the port ftplib's PORT named (active), and
it carries the session's :class:`SendData`, its close, and ftplib's uploads.
"""

from __future__ import annotations

import ftplib
import io
import socket
from ipaddress import IPv4Address

import pytest

from netsim.proto.ftp import FileTree, FtpServerSession, content_of
from netsim.proto.ftp.data import CloseData, ConnectData, ListenData, SendData
from netsim.proto.ftp.server import Transferred
from netsim.proto.stream import Close, Send

CLIENT, SERVER = "10.0.1.10", "10.0.2.20"
FILES = {"report.txt": 5000, "docs/readme.txt": "hello\nworld\n"}


class Peer:
    """The server session and the wires around it, for ftplib's fake sockets."""

    def __init__(self, tree: FileTree) -> None:
        self.server = FtpServerSession(tree, users={"alice": "secret"}, hostname="files",
                                       server_ip=IPv4Address(SERVER),
                                       client_ip=IPv4Address(CLIENT),
                                       passive_ports=iter(range(40000, 41000)))
        self.now = 0.0
        self.control = bytearray()                 # replies not read yet
        self.listening: int | None = None          # the session's passive port
        self.client_port: int | None = None        # ftplib's listening port (active)
        self.data: DataSocket | None = None
        self.transferred: list[Transferred] = []
        self.server.start(self.now)
        self.pump()

    def pump(self) -> None:
        while True:
            outs = self.server.outputs()
            if not outs:
                return
            for out in outs:
                self._carry(out)

    def _carry(self, out) -> None:
        if isinstance(out, Send):
            self.control += out.data
        elif isinstance(out, Close):
            self.control += b""                    # ftplib sees EOF once the bytes run out
        elif isinstance(out, ListenData):
            self.listening = out.port
        elif isinstance(out, ConnectData):         # active: to ftplib's PORT
            assert (str(out.address), out.port, out.local_port) == (CLIENT, self.client_port, 20)
            self.data = DataSocket(self)
            self.server.data_connected(self.now)
        elif isinstance(out, SendData):
            self.data.incoming += out.data
        elif isinstance(out, CloseData):
            self.listening = None
            if self.data is not None and not self.data.server_closed:
                self.data.server_closed = True
                if out.report and not out.abort:
                    self.server.data_done(self.now)
        elif isinstance(out, Transferred):
            self.transferred.append(out)

    # -- what ftplib calls ---------------------------------------------------------------

    def create_connection(self, address, *args, **kwargs):
        host, port = address
        assert host == SERVER, f"ftplib connected to {host}, not the control peer"
        if port != self.listening:
            raise ConnectionRefusedError(111, "Connection refused")
        self.data = DataSocket(self)
        self.server.data_connected(self.now, IPv4Address(CLIENT))
        self.pump()
        return self.data

    def create_server(self, address, *args, **kwargs):
        self.client_port = 50123
        return Listener(self)


class ControlSocket:
    def __init__(self, peer: Peer) -> None:
        self.peer = peer

    def sendall(self, data: bytes) -> None:
        self.peer.now += 0.01
        self.peer.server.receive(data, self.peer.now)
        self.peer.pump()

    def makefile(self, mode, encoding=None):
        return Reader(lambda: self.peer.control, encoding)

    def getpeername(self):
        return (SERVER, 21)

    def getsockname(self):
        return (CLIENT, 50000)

    def close(self) -> None:
        self.peer.server.connection_lost(self.peer.now)
        self.peer.pump()


class DataSocket:
    def __init__(self, peer: Peer) -> None:
        self.peer = peer
        self.incoming = bytearray()
        self.server_closed = self.closed = False

    def recv(self, size: int) -> bytes:
        chunk = bytes(self.incoming[:size])
        del self.incoming[:size]
        assert chunk or self.server_closed, "ftplib would block for ever"
        return chunk

    def makefile(self, mode, encoding=None):
        return Reader(lambda: self.incoming, encoding)

    def sendall(self, data: bytes) -> None:
        self.peer.server.data_received(data, self.peer.now)

    def settimeout(self, _timeout) -> None:
        pass

    def close(self) -> None:
        if not self.closed and not self.server_closed:
            self.peer.server.data_closed(self.peer.now)       # the end of an upload
        self.closed = True
        self.peer.pump()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Listener:
    def __init__(self, peer: Peer) -> None:
        self.peer = peer

    def getsockname(self):
        return ("0.0.0.0", self.peer.client_port)

    def settimeout(self, _timeout) -> None:
        pass

    def accept(self):
        assert self.peer.data is not None, "the session never connected"
        return self.peer.data, (SERVER, 20)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


class Reader(io.RawIOBase):
    """readline() over a buffer that fills as the session answers."""

    def __init__(self, buffer, encoding) -> None:
        self.buffer, self.encoding = buffer, encoding

    def readline(self, size: int = -1):
        data = self.buffer()
        end = data.find(b"\n")
        end = len(data) if end < 0 else end + 1
        if 0 <= size < end:
            end = size
        line = bytes(data[:end])
        del data[:end]
        return line.decode(self.encoding) if self.encoding else line

    def __iter__(self):
        while line := self.readline():
            yield line


@pytest.fixture
def ftp(monkeypatch):
    tree = FileTree.from_spec(FILES)
    peer = Peer(tree)
    monkeypatch.setattr(socket, "create_connection", peer.create_connection)
    monkeypatch.setattr(socket, "create_server", peer.create_server)
    client = ftplib.FTP()
    client.sock, client.af = ControlSocket(peer), socket.AF_INET
    client.file = client.sock.makefile("r", encoding=client.encoding)
    client.welcome = client.getresp()
    client.peer, client.tree = peer, tree
    return client


def test_ftplib_logs_in_lists_fetches_and_stores_in_passive_mode(ftp):
    assert ftp.welcome == "220 (files FTP server ready)"
    assert ftp.login("alice", "secret") == "230 Login successful."
    assert ftp.pwd() == "/"
    assert sorted(ftp.nlst()) == ["docs", "report.txt"]
    listing = []
    ftp.dir(listing.append)
    assert listing[1].startswith("-rw-r--r--") and listing[1].endswith(" report.txt")
    got = bytearray()
    assert ftp.retrbinary("RETR report.txt", got.extend) == "226 Transfer complete."
    assert bytes(got) == content_of("report.txt", 5000)
    assert ftp.storbinary("STOR up.bin", io.BytesIO(b"\x00\x01" * 700)) == "226 Transfer complete."
    assert ftp.tree.find("/up.bin").data == b"\x00\x01" * 700
    assert ftp.size("up.bin") == 1400
    lines = []
    ftp.retrlines("RETR docs/readme.txt", lines.append)          # TYPE A: CRLF on the wire
    assert lines == ["hello", "world"]
    ftp.storlines("STOR notes.txt", io.BytesIO(b"a\nb\n"))
    assert ftp.tree.find("/notes.txt").data == b"a\nb\n"          # stored with LF
    assert ftp.quit() == "221 Goodbye."
    assert [t.command for t in ftp.peer.transferred] == ["LIST", "LIST", "RETR", "STOR", "RETR",
                                                         "STOR"]


def test_ftplib_in_active_mode_gets_its_data_from_port_20(ftp):
    ftp.login("alice", "secret")
    ftp.set_pasv(False)
    got = bytearray()
    assert ftp.retrbinary("RETR report.txt", got.extend) == "226 Transfer complete."
    assert bytes(got) == content_of("report.txt", 5000)
    assert ftp.storbinary("STOR up.txt", io.BytesIO(b"xyz")) == "226 Transfer complete."
    assert ftp.tree.find("/up.txt").data == b"xyz"


def test_ftplib_reads_every_other_reply(ftp):
    ftp.login("alice", "secret")
    feat = ftp.sendcmd("FEAT")                      # a multi-line reply, read whole
    assert feat.startswith("211-Features:") and " EPSV" in feat and feat.endswith("211 End")
    assert ftplib.parse229(ftp.sendcmd("EPSV"), (SERVER, 21)) == (SERVER, 40000)
    assert ftp.sendcmd("MDTM report.txt") == "213 20240101000000"
    assert ftp.mkd("new") == "/new"
    assert ftp.cwd("new") == "250 Directory successfully changed."
    ftp.cwd("/")
    assert ftp.rename("new", "old") == "250 Rename successful."
    assert ftp.rmd("old") == "250 Remove directory operation successful."
    assert ftp.delete("report.txt") == "250 Delete operation successful."
    with pytest.raises(ftplib.error_perm, match="550 Rename failed."):
        ftp.rename("docs", "docs/inside")            # a directory into itself
    assert ftp.tree.find("/docs/readme.txt") is not None        # the tree is still there
    with pytest.raises(ftplib.error_perm, match="550 Failed to change directory."):
        ftp.cwd("nowhere")
    with pytest.raises(ftplib.error_perm, match="550"):
        ftp.size("nothere")


def test_ftplib_is_told_425_when_no_passive_port_is_free(ftp):
    ftp.login("alice", "secret")
    ftp.peer.server._ports = iter(())              # every port of the range taken
    with pytest.raises(ftplib.error_temp, match="425 Can't open passive connection."):
        ftp.nlst()
    assert ftp.sendcmd("NOOP") == "200 NOOP ok."   # and the session goes on
