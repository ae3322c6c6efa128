"""The FTP engines in pairs over a fake wire: a control stream, and data connections that
come up when one side listens and the other connects (or fail, or break). Then each
engine alone against a hostile peer: a server that answers badly, a client that asks
badly."""

import hashlib
from ipaddress import IPv4Address

import pytest

from netsim.errors import PeerError
from netsim.proto.ftp import FileTree, FtpClient, FtpServerSession, content_of, parse_command
from netsim.proto.ftp.client import ACCEPT_TIMEOUT, LOST_PEER, MAX_REPLY, SCAN_FAILURE
from netsim.proto.ftp.data import (CloseData, ConnectData, DataEnd, DataIn, DataStream, DataUp,
                                   ListenData, SendData)
from netsim.proto.ftp.server import Transferred
from netsim.proto.ftp.tree import fits, normalize
from netsim.proto.stream import Abort, Close, Failed, Send

CLIENT, SERVER = IPv4Address("10.0.1.10"), IPv4Address("10.0.2.20")
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
        self.commands: list[str] = []               # what the client said on the control one
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
            self.client.connection_lost(self.now)
        elif not isinstance(out, Transferred):
            self._data(self.server, self.client, out)

    def _from_client(self, out):
        if isinstance(out, Send):
            self.commands += out.data.decode().splitlines()
            self.server.receive(out.data, self.now)
        elif not isinstance(out, Close):
            self._data(self.client, self.server, out)

    def _data(self, sender, peer, out):
        """One data-connection output; the same for both engines, as in the driver."""
        if isinstance(out, ListenData):
            port = out.port or 45000 + len(self.connects)      # port 0: the kernel's pick
            self.listening[sender] = port
            sender.data_listening(self.now, port)
        elif isinstance(out, ConnectData):
            self.connects.append((sender, out.address, out.port, out.local_port))
            if self.refuse_data or out.port != self.listening.pop(peer, None):
                sender.data_failed(self.now, "Connection refused")
            else:
                self.connected = True
                sender.data_connected(self.now)
                peer.data_connected(self.now, CLIENT)
        elif isinstance(out, SendData):
            self.carried.append(out.data)
            if self.break_data:
                self.connected = False
                sender.data_broken(self.now)
                peer.data_broken(self.now)
                return
            peer.data_received(out.data, self.now)
        elif isinstance(out, CloseData):
            self.listening.pop(sender, None)
            if self.connected:
                self.connected = False
                if out.report and not out.abort:
                    sender.data_done(self.now)
                peer.data_closed(self.now)

    @property
    def server_connects(self):
        return [(a, p, local) for who, a, p, local in self.connects if who is self.server]

    @property
    def client_connects(self):
        return [(a, p, local) for who, a, p, local in self.connects if who is self.client]


def new_server(tree=None, **options):
    server = FtpServerSession(tree or FileTree.from_spec(FILES), users={"alice": "secret"},
                              server_ip=SERVER, client_ip=CLIENT,
                              passive_ports=iter(range(40000, 41000)), **options)
    server.start(0.0)
    return server


def new_client(commands, *, passive=True, password="secret", user="alice", **options):
    """A client with the textbook's data ports (N+k: the numbers these tests expect)
    unless ``data_ports`` says otherwise."""
    options.setdefault("data_ports", "n+1")
    client = FtpClient(user=user, password=password, commands=commands, passive=passive,
                       parse_size=lambda v: int(v.rstrip("B")), **options)
    client.endpoints(CLIENT, 50000, SERVER)
    client.start(0.0)
    return client


def session(commands, *, passive=True, password="secret", anonymous=False, user="alice",
            client_options=None, **wire):
    tree = FileTree.from_spec(FILES)
    server = new_server(tree, anonymous=anonymous)
    client = new_client(commands, passive=passive, password=password, user=user,
                        **(client_options or {}))
    w = Wire(server, client, **wire)
    w.run()
    return client, server, w, tree


def replies(server, *lines: bytes, now=1.0) -> list[str]:
    """Feed a server session command lines; the reply lines it sends back."""
    server.receive(b"".join(line + b"\r\n" for line in lines), now)
    text = b"".join(o.data for o in server.outputs() if isinstance(o, Send)).decode()
    return [line for line in text.split("\r\n") if line]


@pytest.mark.parametrize("passive", [True, False])
def test_get_ls_put_in_both_modes(passive):
    """With the textbook's data ports: the k-th transfer uses N+k."""
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


@pytest.mark.parametrize("passive", [True, False])
def test_epsv4_uses_epsv_and_eprt(passive):
    client, _server, wire, tree = session(["epsv4", "get report.txt", "put up.txt 10B"],
                                          passive=passive)
    assert client.errors == [] and client.received["report.txt"] == content_of("report.txt", 5000)
    assert tree.find("/up.txt").data == content_of("up.txt", 10)
    assert "EPSV/EPRT on IPv4 on." in client.lines
    if passive:
        assert any(line.startswith("229 Entering Extended Passive Mode (|||4000") for line in client.lines)
        assert [(a, p) for a, p, _l in wire.client_connects] == [(SERVER, 40000), (SERVER, 40001)]
    else:
        assert client.lines.count("200 EPRT command successful. Consider using EPSV.") == 2
        assert [(a, p) for a, p, _l in wire.server_connects] == [(CLIENT, 50001), (CLIENT, 50002)]


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
    (["rename docs docs/inside"], "550 Rename failed."),            # a directory into itself
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


def test_a_refused_passive_connection_is_the_ftp_programs_connect_error():
    client, *_ = session(["get report.txt", "pwd"], refuse_data=True)
    assert "ftp: connect: Connection refused" in client.lines
    assert '257 "/" is the current directory' in client.lines        # and it goes on


def test_a_broken_data_connection_is_426():
    client, *_ = session(["get report.txt"], break_data=True)
    assert "426 Failure writing network stream." in client.lines
    assert "get report.txt: data connection reset" in client.errors


def test_port_to_another_host_is_refused():
    server = FtpServerSession(FileTree(), users={"a": "b"}, server_ip=SERVER, client_ip=CLIENT)
    server.start(0.0)
    server.outputs()
    codes = [r[:3] for r in replies(server, b"USER a", b"PASS b", b"PORT 10,9,9,9,200,1",
                                    b"PORT 10,0,1,10,300,1", b"RETR x", b"FROB", b"RNTO y",
                                    b"TYPE E", b"MODE B", b"ABOR")]
    assert codes == ["331", "230", "500", "500", "550", "500", "503", "504", "504", "225"]
    replies(server, b"PASV", b"PORT 10,0,1,10,200,1", b"STOR ../../x")
    assert server.tree.find("/x") is None            # nothing stored until the data arrives


def test_abor_during_a_transfer():
    server = new_server()
    replies(server, b"USER alice", b"PASS secret", b"PASV", b"RETR report.txt")
    server.receive(b"ABOR\r\n", 1.0)
    outs = server.outputs()
    assert any(isinstance(o, CloseData) and o.abort for o in outs)
    text = b"".join(o.data for o in outs if isinstance(o, Send))
    assert text == b"426 Connection closed; transfer aborted.\r\n226 ABOR successful.\r\n"


def test_feat_is_a_multi_line_reply_and_commands_need_login():
    server = FtpServerSession(FileTree(), users={})
    server.start(0.0)
    text = "\r\n".join(replies(server, b"LIST", b"FEAT"))
    assert "530 Please login with USER and PASS." in text
    assert "211-Features:\r\n EPRT\r\n" in text and text.endswith("211 End")


def test_client_commands_are_checked():
    with pytest.raises(ValueError, match="unknown ftp command"):
        parse_command("fetch x")
    with pytest.raises(ValueError, match="needs 1 argument"):
        parse_command("get")


@pytest.mark.parametrize("options, message", [
    ({"user": "u\r\nPASS p\r\nDELE a.txt"}, "user .* a line break"),
    ({"password": "p\nDELE a.txt"}, "password .* a line break"),
    ({"commands": ["get 'a\r\nDELE b'"]}, "get: .* a line break"),
    ({"commands": ["rename a 'b\nDELE c'"]}, "rename: .* a line break"),
    ({"commands": ["cd '\udc80'"]}, "is not text that can be sent"),
    ({"commands": ["put big.bin 99999999999"]}, "more than netsim makes up"),
])
def test_what_would_not_fit_a_command_line_is_refused_before_the_run(options, message):
    """The Python API's way in: no schema, the engine itself refuses a second command
    smuggled into a user name, a password or a path."""
    arguments = {"user": "alice", "password": "secret", "commands": ["ls"]} | options
    with pytest.raises(ValueError, match=message):
        FtpClient(**arguments)


def test_the_tree_never_leaves_its_root_and_lists_its_files():
    tree = FileTree.from_spec(FILES)
    assert normalize("/docs", "../../../etc/passwd") == "/etc/passwd"
    assert tree.find(normalize("/docs", "../../../etc/passwd")) is None
    listing = tree.listing()
    assert listing["/report.txt"]["sha256"] == hashlib.sha256(content_of("report.txt", 5000)).hexdigest()
    assert listing["/docs/"] == {"directory": True}
    assert list(listing) == ["/docs/", "/docs/readme.txt", "/empty.bin", "/report.txt"]


def test_the_data_stream_engine_forwards_and_closes_after_the_peer():
    stream = DataStream()
    stream.start(0.0)
    stream.receive(b"abc", 0.1)
    stream.send(b"xyz")
    assert stream.outputs() == [DataUp(), DataIn(b"abc"), Send(b"xyz")]
    stream.connection_lost(0.2)
    assert stream.outputs() == [Close(), DataEnd()]       # our FIN before the news
    stream.abort()
    assert [type(o) for o in stream.outputs()] == [Abort]


# -- the client against a hostile server ----------------------------------------------------

LOGIN = [b"220 hi", b"331 pw", b"230 ok", b"215 UNIX Type: L8", b"200 binary"]


def talk(client, *lines: bytes, now=1.0) -> list:
    """Feed the client reply lines, one segment each; every output it had."""
    outs = []
    for line in lines:
        client.receive(line + b"\r\n", now)
        outs += client.outputs()
    return outs


def sent(outs) -> list[str]:
    return [o.data.decode().rstrip("\r\n") for o in outs if isinstance(o, Send)]


@pytest.mark.parametrize("reply", [
    b"227 Entering Passive Mode (10,0,2,300,1,1)",        # an octet over 255
    b"227 Entering Passive Mode (10,0,2,20,1,256)",       # a port byte over 255
    b"227 Entering Passive Mode (10,0,2,20,1)",           # five numbers
    b"227 Entering Passive Mode (10,0,2,20,1," + b"1" * 1000 + b")",   # 1000 digits
    "227 Entering Passive Mode (١٠,٠,٢,٢٠,١,١)".encode(),   # Arabic-Indic digits
])
def test_a_227_without_six_bytes_is_the_ftp_programs_scan_failure(reply):
    client = new_client(["get report.txt", "pwd"])
    outs = talk(client, *LOGIN, reply)
    assert not any(isinstance(o, ConnectData) for o in outs)
    assert SCAN_FAILURE in client.lines and client.errors == [SCAN_FAILURE]
    assert sent(outs)[-1] == "PWD"                        # the command failed; on to the next


@pytest.mark.parametrize("reply, message", [
    (b"228 Entering Long Passive Mode", "wrong server: return code must be 227"),
    (b"502 no passive here", "Passive mode refused."),
])
def test_a_refused_or_wrong_passive_reply_fails_the_command(reply, message):
    client = new_client(["ls", "pwd"])
    outs = talk(client, *LOGIN, reply)
    assert message in client.lines and sent(outs)[-1] == "PWD"


@pytest.mark.parametrize("reply", [
    b"229 Entering Extended Passive Mode (|||70000|)",
    b"229 Entering Extended Passive Mode (|||0|)",
    b"229 Entering Extended Passive Mode (|||-5|)",
    b"229 Entering Extended Passive Mode (|||99999999999999999999|)",
    b"229 Entering Extended Passive Mode (|!|5000|)",      # delimiters that differ
    "229 Entering Extended Passive Mode (|||٥٠٠٠|)".encode(),
])
def test_a_229_with_a_bad_port_is_a_scan_failure(reply):
    client = new_client(["epsv4", "ls"])
    outs = talk(client, *LOGIN, reply)
    assert sent(outs)[-2:] == ["EPSV", "QUIT"]
    assert not any(isinstance(o, ConnectData) for o in outs)
    assert client.errors == [SCAN_FAILURE]


def test_a_229_names_a_port_on_the_control_connections_host():
    client = new_client(["epsv4", "ls"])
    outs = talk(client, *LOGIN, b"229 Entering Extended Passive Mode (|||40001|)")
    assert [o for o in outs if isinstance(o, ConnectData)] == [ConnectData(SERVER, 40001, 50001, 60.0)]


@pytest.mark.parametrize("line", ["²²² hello", "٢٢٠ ready", "22O ready", "hello", "", "2201 x"])
def test_a_line_that_is_not_a_reply_is_a_peer_error(line):
    """str.isdigit() is true for '²²²': int() of it raised ValueError out of the run."""
    client = new_client(["ls"])
    with pytest.raises(PeerError, match="^Weird server reply"):
        client.receive(line.encode() + b"\r\n", 0.1)


def test_a_bad_line_later_in_the_session_is_a_peer_error_too():
    client = new_client(["ls"])
    talk(client, *LOGIN)
    with pytest.raises(PeerError, match="Weird server reply: '²²² hello'"):
        client.receive("²²² hello\r\n".encode(), 1.0)


def test_a_multi_line_reply_that_never_ends_is_cut_off():
    client = new_client(["ls"])
    client.receive(b"220-welcome\r\n", 0.1)
    with pytest.raises(PeerError, match=f"a reply of more than {MAX_REPLY} bytes"):
        for _ in range(MAX_REPLY // 10):
            client.receive(b"220-more\r\n", 0.2)           # never "220 " again
    assert len(client.lines) == 1                          # nothing of it kept as printed


def test_a_reply_of_100_kb_without_crlf_is_a_peer_error():
    client = new_client(["ls"])
    with pytest.raises(PeerError, match="a line of more than 4096 bytes"):
        for _ in range(100):
            client.receive(b"2" * 1024, 0.1)


def test_a_long_reply_that_ends_is_read_whole():
    client = new_client(["pwd"])
    talk(client, b"220-Welcome", b" to the server", b"220-still", b"220 ready")
    assert client.lines[1:5] == ["220-Welcome", " to the server", "220-still", "220 ready"]
    assert client._step == "user"


def test_replies_out_of_order_or_unsolicited_do_not_derail_the_client():
    client = new_client(["ls", "pwd"])
    outs = talk(client, b"220 hi", b"331 pw", b"230 ok",
                b"215",                                    # no system name: old IndexError
                b"200 binary", b"227 Entering Passive Mode (10,0,2,20,156,64)",
                b"226 Transfer complete.",                 # unsolicited: nothing was asked
                b"250 and another")
    assert [o for o in outs if isinstance(o, ConnectData)] == [ConnectData(SERVER, 40000, 50001, 60.0)]
    assert "226 Transfer complete." in client.lines        # printed, and let be
    client.data_connected(1.1)
    assert sent(client.outputs()) == ["LIST"]
    outs = talk(client, b"226 done before 150", now=1.2)   # RFC 959 §5.4: no 1yz, no transfer
    assert "ls: 226 done before 150" in client.errors
    assert CloseData(report=False) in outs and sent(outs) == ["PWD"]
    outs = talk(client, b"150 login?", now=1.3)            # a 1yz where a final reply is due
    assert "pwd: 150 login?" in client.errors and sent(outs) == ["QUIT"]


def test_a_150_to_user_is_a_failed_login():
    client = new_client(["ls"])
    outs = talk(client, b"220 hi", b"150 what")
    assert "Login failed." in client.lines and sent(outs) == ["USER alice", "QUIT"]


def test_an_unsolicited_421_ends_the_session_as_lostpeer_does():
    client = new_client(["ls"])
    outs = talk(client, *LOGIN[:3], b"421 Timeout.")
    assert client.finished and client.errors == ["421 Timeout."]
    assert any(isinstance(o, Close) for o in outs)
    client.receive(b"220 more\r\n", 2.0)                   # after the end: nothing
    assert client.outputs() == []


def test_the_servers_close_is_the_ftp_programs_lost_peer_line():
    client = new_client(["ls"])
    talk(client, *LOGIN[:2])
    client.connection_lost(1.5)
    assert client.lines[-1] == LOST_PEER and client.errors == [LOST_PEER]
    assert Close("lost peer") in client.outputs()


def test_a_server_that_says_150_and_never_connects_times_out():
    client = new_client(["get report.txt"], passive=False)
    outs = talk(client, *LOGIN, now=1.0)
    assert outs[-1] == ListenData(50001)
    client.data_listening(1.0, 50001)                      # the driver's listener is up
    outs = client.outputs() + talk(client, b"200 PORT ok", now=1.0)
    assert sent(outs) == ["PORT 10,0,1,10,195,81", "RETR report.txt"]
    talk(client, b"150 Opening BINARY mode data connection", now=1.1)
    assert client.get_timer() == pytest.approx(61.0)       # 60 s from the RETR
    client.handle_timer(30.0)
    assert client.outputs() == []                          # not yet
    client.handle_timer(61.0)
    assert client.outputs() == [CloseData(report=False), Failed(ACCEPT_TIMEOUT)]
    assert client.get_timer() is None


def test_the_accept_timer_stops_when_the_server_connects():
    client = new_client(["get report.txt"], passive=False)
    talk(client, *LOGIN)
    client.data_listening(1.0, 50001)
    talk(client, b"200 PORT ok", b"150 here it comes")
    client.data_connected(1.5)
    assert client.get_timer() is None


# -- the server against a hostile client ----------------------------------------------------

def logged_in(**options):
    server = new_server(**options)
    server.outputs()
    replies(server, b"USER alice", b"PASS secret")
    return server


@pytest.mark.parametrize("arg", [
    b"10,0,1,10,300,1", b"10,0,1,10,200,-1", b"10,0,1,10,200", b"10,0,1,10,200,1,7",
    "١٠,٠,١,١٠,٢٠٠,١".encode(), "10,0,1,10,²,1".encode(), b"+10,0,1,10,200,1",
    b"1_0,0,1,10,200,1", b" 10,0,1,10,200,1 x", b"10,0,1,10,0,80",     # a privileged port
])
def test_a_port_command_vsftpd_would_not_take_is_500(arg):
    server = logged_in()
    assert replies(server, b"PORT " + arg) == ["500 Illegal PORT command."]
    assert replies(server, b"RETR report.txt") == ["425 Use PORT or PASV first."]


@pytest.mark.parametrize("arg, reply", [
    (b"|2|::1|50001|", "500 Bad EPRT protocol."),
    (b"|3|10.0.1.10|50001|", "500 Bad EPRT protocol."),
    (b"|x|10.0.1.10|50001|", "500 Bad EPRT protocol."),
    (b"|1|10.0.1.300|50001|", "500 Bad EPRT command."),
    (b"|1|10.0.1|50001|", "500 Bad EPRT command."),
    (b"|1|10.0.1.10|70000|", "500 Bad EPRT command."),
    ("|1|١٠.0.1.10|50001|".encode(), "500 Bad EPRT command."),
    ("|1|10.0.1.10|٥٠٠٠١|".encode(), "500 Bad EPRT command."),
    (b"|1|10.0.1.10|50001", "500 Bad EPRT command."),
    (b"", "500 Bad EPRT command."),
    (b"|1|10.0.9.9|50001|", "500 Illegal EPRT command."),             # FTP bounce
    (b"|1|10.0.1.10|50001|", "200 EPRT command successful. Consider using EPSV."),
    (b"!1!10.0.1.10!50001!", "200 EPRT command successful. Consider using EPSV."),
])
def test_eprt_is_read_as_rfc_2428_and_vsftpd_have_it(arg, reply):
    assert replies(logged_in(), b"EPRT " + arg) == [reply]


def test_a_path_longer_than_linux_takes_is_an_error_reply():
    server = logged_in()
    assert replies(server, b"MKD " + b"n" * 256) == ["550 Create directory operation failed."]
    assert replies(server, b"STOR " + b"n" * 300) == ["553 Could not create file."]
    assert replies(server, b"RETR " + b"a/" * 2040) == ["550 Failed to open file."]
    assert not fits("/" + "a/" * 2100) and not fits("/" + "n" * 256) and fits("/" + "n" * 255)
    server.receive(b"CWD " + b"x" * 5000, 1.0)            # past vsftpd's 4096, no CRLF yet
    lines = replies(server, b"", b"NOOP")                 # its CRLF, then a command
    assert lines[0] == "500 Command line too long." and lines[-1] == "200 NOOP ok."
    assert server.cwd == "/"


def test_directories_deeper_than_pythons_stack_still_list():
    server = logged_in()
    for _ in range(1500):
        assert replies(server, b"MKD d", b"CWD d")[0].startswith("257")
    listing = server.tree.listing()                       # a recursive walk: RecursionError
    assert len(listing) == len(FileTree.from_spec(FILES).listing()) + 1500


def test_a_name_that_is_not_utf_8_is_stored_and_listed():
    server = logged_in()
    assert replies(server, b"PASV")[0].startswith("227")
    server.data_connected(1.0, CLIENT)
    assert replies(server, b"STOR caf\xe9.txt") == ["150 Ok to send data (ASCII mode)."]
    server.data_received(b"bonjour", 1.1)
    server.data_closed(1.2)
    assert "226 Transfer complete." in b"".join(o.data for o in server.outputs()
                                                  if isinstance(o, Send)).decode()
    assert server.tree.listing()["/caf\ufffd.txt"]["size"] == 7


def test_a_dot_dot_path_stays_in_the_tree():
    server = logged_in()
    assert replies(server, b"CWD ../../../..", b"PWD") == ["250 Directory successfully changed.",
                                                           '257 "/" is the current directory']
    assert replies(server, b"DELE ../../report.txt") == ["250 Delete operation successful."]
    assert server.tree.find("/report.txt") is None        # the tree's own, not the host's


def test_a_passive_data_connection_from_another_host_is_refused():
    server = logged_in()
    replies(server, b"PASV")
    server.data_connected(1.0, IPv4Address("10.9.9.9"))
    assert server.outputs() == [CloseData(report=False)]
    assert replies(server, b"RETR report.txt") == ["425 Security: Bad IP connecting."]


def test_a_client_that_never_makes_its_passive_connection_gets_425():
    server = logged_in(data_timeout=10.0)
    replies(server, b"PASV")
    assert replies(server, b"RETR report.txt", now=2.0)[0].startswith("150")
    assert server.get_timer() == 12.0
    server.handle_timer(12.0)
    assert server.outputs() == [CloseData(report=False),
                                Send(b"425 Can't open data connection.\r\n")]
    assert replies(server, b"NOOP", now=13.0) == ["200 NOOP ok."]


def test_an_idle_session_ends_with_vsftpds_421():
    server = logged_in(idle_timeout=300.0)
    assert server.get_timer() == 301.0                    # from the last command
    server.handle_timer(301.0)
    assert server.outputs() == [Send(b"421 Timeout.\r\n"), Close("idle")]
    assert server.get_timer() is None


def test_junk_commands_end_the_session_after_ten():
    server = logged_in()
    lines = replies(server, *[b"\xb2\xb2\xb2 x"] * 9, "٢٢٠ x".encode())
    assert lines == ["500 Unknown command."] * 9 + ["421 Too many errors; closing control connection."]
    assert server.closed


def test_the_clients_close_ends_the_session_and_its_data_connection():
    server = logged_in()
    replies(server, b"PASV")
    server.connection_lost(2.0)
    assert server.outputs() == [CloseData(report=False)] and server.get_timer() is None


# -- as real clients do it (issue 20) ---------------------------------------------------------

@pytest.mark.parametrize("passive", [True, False])
def test_linux_data_ports_are_the_kernels_pick_each_time(passive):
    """tnftp, netkit ftp and curl bind port 0 (active) or connect unbound (passive): a
    fresh ephemeral port per data connection; N+k is the textbook's model."""
    client, _server, wire, _tree = session(["ls", "get report.txt", "put up.txt 10B"],
                                           passive=passive,
                                           client_options={"data_ports": "ephemeral"})
    assert client.errors == [] and client.received["report.txt"] == content_of("report.txt", 5000)
    if passive:
        assert [local for *_x, local in wire.client_connects] == [0, 0, 0]     # unbound connect()
    else:
        listened = [45000, 45001, 45002]                  # what the Wire's "kernel" gave
        assert [p for _a, p, _l in wire.server_connects] == listened
        ports = [line for line in client.lines if line.startswith("200 PORT")]
        assert len(ports) == 3


def test_a_227_naming_another_host_is_not_followed():
    """curl (since 7.74) and ftplib (since 3.9) connect to the control connection's peer
    whatever address the 227 names; a hostile server cannot aim the client elsewhere."""
    client = new_client(["ls"], server_name="files")
    outs = talk(client, *LOGIN, b"227 Entering Passive Mode (10,9,9,9,156,64).")
    assert [o for o in outs if isinstance(o, ConnectData)] == [ConnectData(SERVER, 40000, 50001, 60.0)]
    assert "Skip 10.9.9.9 for data connection, reuse files instead" in client.lines
    trusting = new_client(["ls"], skip_pasv_ip=False)     # the 1990s client: it follows
    outs = talk(trusting, *LOGIN, b"227 Entering Passive Mode (10,9,9,9,156,64).")
    assert [o.address for o in outs if isinstance(o, ConnectData)] == [IPv4Address("10.9.9.9")]
    same = new_client(["ls"])
    talk(same, *LOGIN, b"227 Entering Passive Mode (10,0,2,20,156,64).")
    assert not any(line.startswith("Skip") for line in same.lines)


def test_extended_is_tnftp_feat_epsv_size_and_mdtm():
    client, server, wire, _tree = session(["get report.txt", "ls"],
                                          client_options={"extended": True})
    assert client.errors == [] and client.received["report.txt"] == content_of("report.txt", 5000)
    assert client.features >= {"EPSV", "EPRT", "SIZE", "MDTM"}
    assert client.modified == {"report.txt": "20240101000000"}
    assert wire.commands == ["USER alice", "PASS secret", "SYST", "FEAT", "TYPE I",
                             "SIZE report.txt", "EPSV", "RETR report.txt", "MDTM report.txt",
                             "EPSV", "LIST", "QUIT"]
    # tnftp prints none of the replies to SYST, FEAT, SIZE and MDTM.
    assert not any(line.startswith(("215 ", "211", "213 ")) for line in client.lines)
    assert "Remote system type is UNIX." in client.lines


def test_extended_falls_back_to_pasv_and_port_when_refused():
    client = new_client(["ls"], extended=True)
    outs = talk(client, b"220 hi", b"331 pw", b"230 ok", b"215 UNIX Type: L8",
                b"500 FEAT? never heard of it", b"200 binary",
                b"500 Unknown command.")                      # EPSV refused
    assert sent(outs)[-3:] == ["TYPE I", "EPSV", "PASV"] and client.features is None
    talk(client, b"227 Entering Passive Mode (10,0,2,20,156,64).")
    active = new_client(["ls"], extended=True, passive=False)
    talk(active, b"220 hi", b"331 pw", b"230 ok", b"215 UNIX Type: L8", b"500 no FEAT",
         b"200 binary")
    active.data_listening(1.0, 50001)
    outs = active.outputs() + talk(active, b"500 Bad EPRT protocol.")
    assert sent(outs) == ["EPRT |1|10.0.1.10|50001|", "PORT 10,0,1,10,195,81"]


def test_a_passive_port_nobody_can_have_is_425_not_a_search_without_end():
    server = logged_in()
    server._ports = iter(())
    assert replies(server, b"PASV", b"EPSV") == ["425 Can't open passive connection."] * 2
    assert replies(server, b"RETR report.txt") == ["425 Use PORT or PASV first."]
