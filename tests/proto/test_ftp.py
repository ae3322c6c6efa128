"""The FTP engines in pairs over a fake wire: a control stream, and data connections that
come up when one side listens and the other connects (or fail, or break)."""

import hashlib

import pytest

from netsim.proto.ftp import FileTree, FtpClient, FtpServerSession, content_of, parse_command
from netsim.proto.ftp.data import CloseData, ConnectData, ListenData, SendData
from netsim.proto.stream import Close, Send
from netsim.wire.addr import ip_to_int

CLIENT, SERVER = ip_to_int("10.0.1.10"), ip_to_int("10.0.2.20")
FILES = {"report.txt": 5000, "docs/readme.txt": "hello\nworld\n", "empty.bin": 0}


class Wire:
    """Carries control bytes both ways and plays the data connections' part."""

    def __init__(self, server, client, *, refuse_data=False, break_data=False):
        self.server, self.client = server, client
        self.refuse_data, self.break_data = refuse_data, break_data
        self.listening: dict = {}                   # engine → the port it listens on
        self.connected = False
        self.connects: list = []                    # (who, address, port, from port)
        self.carried: list[bytes] = []              # what crossed a data connection
        self.now = 0.0

    def run(self):
        for _ in range(10_000):
            self.now += 0.001
            moved = False
            for out in self.server.outputs():
                moved = True
                self._from_server(out)
            for out in self.client.outputs():
                moved = True
                self._from_client(out)
            if not moved:
                return

    def _from_server(self, out):
        if isinstance(out, Send):
            self.client.receive(out.data, self.now)
        elif isinstance(out, Close):
            self.client.connection_lost()
        else:
            self._data(self.server, self.client, out)

    def _from_client(self, out):
        if isinstance(out, Send):
            self.server.receive(out.data, self.now)
        elif not isinstance(out, Close):
            self._data(self.client, self.server, out)

    def _data(self, sender, peer, out):
        """One data-connection output; the same for both engines, as in the driver."""
        if isinstance(out, ListenData):
            self.listening[sender] = out.port
        elif isinstance(out, ConnectData):
            self.connects.append((sender, out.address, out.port, out.local_port))
            if self.refuse_data or out.port != self.listening.get(peer):
                sender.data_failed(self.now)
            else:
                self.connected = True
                sender.data_connected(self.now)
                peer.data_connected(self.now)
        elif isinstance(out, SendData):
            self.carried.append(out.data)
            if self.break_data:
                sender.data_broken(self.now)
                peer.data_closed(self.now)
                return
            peer.data_received(out.data, self.now)
        elif isinstance(out, CloseData) and self.connected:
            self.connected = False
            if not out.abort:
                sender.data_done(self.now)
            peer.data_closed(self.now)

    @property
    def server_connects(self):
        return [(a, p, local) for who, a, p, local in self.connects if who is self.server]

    @property
    def client_connects(self):
        return [(a, p, local) for who, a, p, local in self.connects if who is self.client]


def session(commands, *, passive=True, password="secret", anonymous=False, user="alice", **wire):
    tree = FileTree.from_spec(FILES)
    server = FtpServerSession(tree, users={"alice": "secret"}, anonymous=anonymous,
                              server_ip=SERVER, client_ip=CLIENT, passive_ports=iter(range(40000, 41000)))
    client = FtpClient(user=user, password=password, commands=commands, passive=passive,
                       parse_size=lambda v: int(v.rstrip("B")))
    client.connected(CLIENT, 50000, SERVER, 0.0)
    w = Wire(server, client, **wire)
    w.run()
    return client, server, w, tree


@pytest.mark.parametrize("passive", [True, False])
def test_get_ls_put_in_both_modes(passive):
    client, server, wire, tree = session(["ls", "get report.txt", "put notes.txt 300B", "cd docs",
                                          "ls", "get readme.txt"], passive=passive)
    assert client.finished and client.errors == []
    assert client.received["report.txt"] == content_of("report.txt", 5000)
    assert client.received["readme.txt"] == b"hello\nworld\n"
    assert tree.find("/notes.txt").data == content_of("notes.txt", 300)
    assert "report.txt" in client.listings[0] and "readme.txt" in client.listings[1]
    if passive:
        assert [local for *_x, local in wire.client_connects] == [50001, 50002, 50003, 50004, 50005]
        assert all(port >= 40000 for _a, port, _l in wire.client_connects)
    else:
        assert [(p, local) for _a, p, local in wire.server_connects] == [
            (50000 + k, 20) for k in range(1, 6)]              # from port 20 to N+k
    assert "226 Transfer complete." in client.lines
    assert any(line.startswith("5000 bytes received in") for line in client.lines)


def test_the_session_prints_like_the_classic_client():
    client, *_ = session(["get report.txt"])
    lines = client.lines
    assert lines[:6] == ["Connected to server.", "220 (ftp FTP server ready)", "Name (server:alice): alice",
                         "331 Please specify the password.", "Password:", "230 Login successful."]
    assert "Remote system type is UNIX." in lines and "Using binary mode to transfer files." in lines
    assert "ftp> get report.txt" in lines and "local: report.txt remote: report.txt" in lines
    assert any(line.startswith("227 Entering Passive Mode (10,0,2,20,156,64)") for line in lines)
    assert "150 Opening BINARY mode data connection for report.txt (5000 bytes)." in lines
    assert lines[-2:] == ["ftp> quit", "221 Goodbye."]


def test_ascii_type_converts_line_ends_both_ways():
    client, _server, wire, tree = session(["ascii", "get docs/readme.txt", "put up.txt \"a\nb\n\""])
    assert wire.carried == [b"hello\r\nworld\r\n", b"a\r\nb\r\n"]     # CRLF on the wire
    assert client.received["docs/readme.txt"] == b"hello\nworld\n"       # back to local LF
    assert tree.find("/up.txt").data == b"a\nb\n"
    client, _server, wire, _tree = session(["get docs/readme.txt"])       # binary: as stored
    assert wire.carried == [b"hello\nworld\n"]


@pytest.mark.parametrize("commands, code", [
    (["get nothere.txt"], "550 Failed to open file."),
    (["cd nowhere"], "550 Failed to change directory."),
    (["cd ../../.."], "250 Directory successfully changed."),      # stays at the root
    (["delete docs"], "550 Delete operation failed."),
    (["rmdir docs"], "550 Remove directory operation failed."),    # not empty
    (["ascii", "size report.txt"], "550 SIZE not allowed in ASCII mode."),
    (["size report.txt"], "213 5000"),
    (["modtime report.txt"], "213 20240101000000"),
    (["mkdir new", "rename new old", "rmdir old"], "250 Remove directory operation successful."),
    (["put docs 10B"], "553 Could not create file."),
])
def test_reply_codes(commands, code):
    client, *_ = session(commands)
    assert code in client.lines


def test_bad_password_is_530_and_anonymous_works_only_when_allowed():
    client, *_ = session(["ls"], password="nope")
    assert "530 Login incorrect." in client.lines and client.errors[0].startswith("login failed")
    assert not client.received
    client, *_ = session(["get report.txt"], user="anonymous", password="me@x", anonymous=True)
    assert client.errors == [] and "report.txt" in client.received
    client, *_ = session(["get report.txt"], user="anonymous", password="me@x")
    assert "530 Login incorrect." in client.lines


def test_a_data_connection_that_cannot_be_made_is_425():
    client, server, wire, _ = session(["get report.txt"], passive=False, refuse_data=True)
    assert "425 Can't open data connection." in client.lines
    assert wire.server_connects == [(CLIENT, 50001, 20)]


def test_a_broken_data_connection_is_426():
    client, *_ = session(["get report.txt"], break_data=True)
    assert "426 Failure writing network stream." in client.lines


def test_port_to_another_host_is_refused():
    server = FtpServerSession(FileTree(), users={"a": "b"}, server_ip=SERVER, client_ip=CLIENT)
    server.receive(b"USER a\r\nPASS b\r\nPORT 10,9,9,9,200,1\r\nPORT 10,0,1,10,300,1\r\n"
                   b"RETR x\r\nFROB\r\nRNTO y\r\nTYPE E\r\nMODE B\r\nABOR\r\n")
    replies = b"".join(o.data for o in server.outputs() if isinstance(o, Send)).decode().split("\r\n")
    codes = [r[:3] for r in replies if r]
    assert codes == ["220", "331", "230", "501", "501", "550", "500", "503", "504", "504", "225"]
    server.receive(b"PASV\r\nPORT 10,0,1,10,200,1\r\nSTOR ../../x\r\n")
    server.outputs()
    assert server.tree.find("/x") is None            # nothing stored until the data arrives


def test_abor_during_a_transfer():
    tree = FileTree.from_spec(FILES)
    server = FtpServerSession(tree, users={"a": "b"}, server_ip=SERVER, client_ip=CLIENT)
    server.receive(b"USER a\r\nPASS b\r\nPASV\r\nRETR report.txt\r\n")
    server.outputs()
    server.receive(b"ABOR\r\n")
    outs = server.outputs()
    assert any(isinstance(o, CloseData) and o.abort for o in outs)
    text = b"".join(o.data for o in outs if isinstance(o, Send))
    assert text == b"426 Connection closed; transfer aborted.\r\n226 ABOR successful.\r\n"


def test_feat_is_a_multi_line_reply_and_commands_need_login():
    server = FtpServerSession(FileTree(), users={})
    server.receive(b"LIST\r\nFEAT\r\n")
    text = b"".join(o.data for o in server.outputs() if isinstance(o, Send)).decode()
    assert "530 Please login with USER and PASS.\r\n" in text
    assert "211-Features:\r\n EPRT\r\n" in text and text.endswith("211 End\r\n")


def test_client_commands_are_checked():
    with pytest.raises(ValueError, match="unknown ftp command"):
        parse_command("fetch x")
    with pytest.raises(ValueError, match="needs 1 argument"):
        parse_command("get")


def test_the_tree_never_leaves_its_root_and_lists_its_files():
    tree = FileTree.from_spec(FILES)
    from netsim.proto.ftp.tree import normalize
    assert normalize("/docs", "../../../etc/passwd") == "/etc/passwd"
    assert tree.find(normalize("/docs", "../../../etc/passwd")) is None
    listing = tree.listing()
    assert listing["/report.txt"]["sha256"] == hashlib.sha256(content_of("report.txt", 5000)).hexdigest()
    assert listing["/docs/"] == {"directory": True}
