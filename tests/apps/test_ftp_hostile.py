"""The FTP apps on simulated nodes against hostile peers: a scripted server (raw TCP, a
SimPy process of the test — a real peer's own program) answering netsim's ``ftp``
client badly, and a scripted client asking ``ftp-server`` badly. Each ends as the real
tool ends — the app failed with the tool's words, its connection closed — and the run
goes on; and text that would put a second command on the wire is refused when the
scenario loads."""

from __future__ import annotations

import pytest

from netsim import line, parse_scenario
from netsim.apps.ftp import Ftp, FtpServer
from netsim.cli import main
from netsim.errors import ScenarioError
from netsim.proto.ftp.client import ACCEPT_TIMEOUT, LOST_PEER, SCAN_FAILURE
from tests.conftest import SCENARIOS

LOGIN = {"USER": b"331 Please specify the password.\r\n", "PASS": b"230 Login successful.\r\n",
         "SYST": b"215 UNIX Type: L8\r\n", "TYPE": b"200 Switching to Binary mode.\r\n",
         "QUIT": b"221 Goodbye.\r\n"}


def scripted_server(net, node, greeting: bytes, script: dict, heard: list | None = None):
    """Listen on 21; send ``greeting``, then for each command line the reply ``script``
    has for its verb (bytes; ``"close"`` closes; a missing verb is not answered)."""
    listener = node.tcp_listen(21)

    def serve():
        sock = yield listener.accept()
        yield sock.send(greeting)
        buffer = b""
        while True:
            data = yield sock.recv()
            if not data:
                break
            buffer += data
            while b"\r\n" in buffer:
                command, buffer = buffer.split(b"\r\n", 1)
                if heard is not None:
                    heard.append(command.decode())
                reply = script.get(command.split(b" ")[0].decode())
                if reply == "close":
                    sock.close()
                    return
                if reply is not None:
                    yield sock.send(reply)
        sock.close()

    net.env.process(serve())


def run_client(greeting, script, *, commands=("get report.txt",), mode="passive", until=20,
               heard=None):
    net, (a, b) = line(["a", "b"], delay="1ms")
    scripted_server(net, b, greeting, script, heard)
    app = Ftp(a, server="b", user="alice", password="secret", commands=list(commands),
              mode=mode, at=1.0)
    net.run(until)
    for each in net.apps:
        each.wrap_up()
    return net, app


def notes(net, what):
    return [n.detail for n in net.trace.notes if n.what == what]


def client_states(net, node="a", port=21):
    return [n.detail["new"] for n in net.trace.notes if n.what == "tcp-state" and n.node == node
            and n.detail["conn"].endswith(f":{port}")]


def pasv(b_ip: str, p1: int = 156, p2: int = 64) -> bytes:
    return f"227 Entering Passive Mode ({b_ip.replace('.', ',')},{p1},{p2}).\r\n".encode()


# -- the ftp client against a hostile server ------------------------------------------------

def test_a_227_with_an_octet_over_255_is_a_scan_failure_and_the_session_goes_on():
    heard = []
    net, app = run_client(b"220 hi\r\n", LOGIN | {
        "PASV": b"227 Entering Passive Mode (10,0,1,300,1,1)\r\n"}, heard=heard)
    assert app.status == "failed" and app.error == SCAN_FAILURE
    assert SCAN_FAILURE in app.lines and app.lines[-1] == "221 Goodbye."
    assert heard[-2:] == ["PASV", "QUIT"]                 # no connect to 10.0.1.44, no RETR


def test_a_greeting_in_unicode_digits_fails_the_client_with_a_note_and_a_fin():
    net, app = run_client("²²² hello\r\n".encode(), LOGIN)
    assert app.status == "failed" and app.error == "Weird server reply: '²²² hello'"
    assert app.lines == ["Connected to b.", "Weird server reply: '²²² hello'"]
    assert notes(net, "app-error") == [{"app": "ftp", "error": app.error, "cause": "peer"}]
    assert "FIN-WAIT-1" in client_states(net)             # closed, not reset


def test_a_reply_of_100_kb_without_crlf_fails_the_client():
    net, app = run_client(b"220 hi\r\n", LOGIN | {"USER": b"331" + b" x" * 50_000})
    assert app.status == "failed" and "a line of more than 4096 bytes" in app.error


def test_a_multi_line_reply_that_never_ends_fails_the_client():
    net, app = run_client(b"220-Welcome\r\n" + b"220-and more\r\n" * 6000, LOGIN)
    assert app.status == "failed" and "a reply of more than 65536 bytes" in app.error


def test_a_server_that_says_150_and_never_connects_back_times_the_client_out():
    net, app = run_client(b"220 hi\r\n", LOGIN | {
        "PORT": b"200 PORT command successful.\r\n",
        "RETR": b"150 Opening BINARY mode data connection.\r\n"}, mode="active", until=90)
    assert app.status == "failed" and app.error == ACCEPT_TIMEOUT
    assert app.lines[-1] == ACCEPT_TIMEOUT
    assert [n["error"] for n in notes(net, "app-error")] == []      # the engine's own Failed
    assert "FIN-WAIT-1" in client_states(net)


def test_a_229_with_a_bad_port_is_a_scan_failure_too():
    net, app = run_client(b"220 hi\r\n", LOGIN | {
        "EPSV": b"229 Entering Extended Passive Mode (|||70000|)\r\n"}, commands=["epsv4", "ls"])
    assert app.status == "failed" and app.error == SCAN_FAILURE
    assert app.lines[-2:] == ["ftp> quit", "221 Goodbye."]


def test_an_unsolicited_reply_is_printed_and_let_be():
    net, (a, b) = line(["a", "b"], delay="1ms")
    listing = b"-rw-r--r--    1 ftp      ftp          5 Jan 01 00:00 f\r\n"
    listener = b.tcp_listen(40000)

    def data():
        sock = yield listener.accept()
        yield net.env.timeout(0.05)                      # after the LIST
        yield sock.send(listing)
        sock.close()

    net.env.process(data())
    scripted_server(net, b, b"220 hi\r\n", LOGIN | {
        "PASV": pasv(b.ip) + b"226 Transfer complete.\r\n250 Nobody asked.\r\n",
        "LIST": b"150 Here comes the directory listing.\r\n226 Directory send OK.\r\n"})
    app = Ftp(a, server="b", user="alice", password="secret", commands=["ls"], at=1.0)
    net.run(20)
    assert "250 Nobody asked." in app.lines and app.status == "finished"
    assert app.engine.listings == [listing.decode()]


def test_a_passive_port_nobody_listens_on_is_connection_refused():
    net, (a, b) = line(["a", "b"], delay="1ms")
    scripted_server(net, b, b"220 hi\r\n", LOGIN | {"PASV": pasv(b.ip, 200, 1)})
    app = Ftp(a, server="b", user="alice", password="secret", commands=["ls"], at=1.0)
    net.run(20)
    assert "ftp: connect: Connection refused" in app.lines
    assert app.status == "failed" and app.lines[-1] == "221 Goodbye."


def test_a_server_that_closes_mid_session_is_the_lost_peer_line_and_our_fin():
    net, app = run_client(b"220 hi\r\n", LOGIN | {"PASS": "close"})
    assert app.error == LOST_PEER and app.lines[-1] == LOST_PEER
    assert client_states(net)[-2:] == ["LAST-ACK", "CLOSED"]        # not left in CLOSE-WAIT


# -- ftp-server against a hostile client ----------------------------------------------------

def scripted_client(net, node, address, lines: list[bytes], heard: list, at=1.0, close=True):
    """Connect to 21 at ``at``; send each line once the reply before it came."""
    def talk():
        yield net.env.timeout(at)
        sock = node.tcp_connect(address, 21)
        yield sock.connected
        heard.append((yield sock.recv()))
        for command in lines:
            yield sock.send(command + b"\r\n")
            heard.append((yield sock.recv()))
        if close:
            sock.close()

    net.env.process(talk())


def test_the_server_answers_bad_data_ports_as_vsftpd_and_goes_on_serving():
    net, (a, b) = line(["a", "b"], delay="1ms")
    server = FtpServer(b, files={"report.txt": "2KiB"}, users={"alice": "secret"})
    heard = []
    scripted_client(net, a, b.ip, [
        b"USER alice", b"PASS secret",
        b"PORT 10,0,1,1,300,1", b"PORT 10,0,1,1,200,-1", "PORT ١٠,٠,١,١,٢٠٠,١".encode(),
        b"PORT 10,0,9,9,200,1", b"EPRT |2|::1|50001|", b"EPRT |1|10.0.1.1|70000|",
        b"RETR report.txt", b"MKD " + b"x" * 300, b"RNFR /", b"CWD " + b"../" * 100,
        b"STOR caf\xe9.txt"], heard)
    client = Ftp(a, server="b", user="alice", password="secret", commands=["get report.txt"],
                 at=5.0)
    net.run(20)
    replies = [r.decode("utf-8", "replace").rstrip("\r\n") for r in heard]
    assert replies[3:9] == ["500 Illegal PORT command."] * 4 + ["500 Bad EPRT protocol.",
                                                                "500 Bad EPRT command."]
    assert replies[9:] == ["425 Use PORT or PASV first.", "550 Create directory operation failed.",
                           "350 Ready for RNTO.", "250 Directory successfully changed.",
                           "425 Use PORT or PASV first."]
    assert client.status == "finished" and "report.txt" in client.result()["received"]
    assert server.sessions == 2


def test_the_server_closes_its_side_when_the_client_closes_without_quit():
    net, (a, b) = line(["a", "b"], delay="1ms")
    FtpServer(b, files={"f": "1KiB"})
    scripted_client(net, a, b.ip, [b"USER x"], [])
    net.run(10)
    server_states = [n.detail["new"] for n in net.trace.notes if n.what == "tcp-state"
                     and n.node == "b" and ":21>" in n.detail["conn"]]
    assert server_states[-2:] == ["LAST-ACK", "CLOSED"]   # as vsftpd exits on EOF


# -- text that goes on the wire, checked at load --------------------------------------------

PASSIVE = (SCENARIOS / "ftp-passive.yaml").read_text()


@pytest.mark.parametrize("old, new, where", [
    ("    user: alice\n", '    user: "u\\r\\nPASS p\\r\\nDELE a.txt"\n', r"apps\[1\]\.user"),
    ("    password: secret\n", '    password: "s\\nDELE report.txt"\n', r"apps\[1\]\.password"),
    ("commands: [ls,", 'commands: ["get \'a\\r\\nDELE report.txt\'",', r"apps\[1\]\.commands\[0\]"),
    ("    users: {alice: secret}", '    users: {"alice\\r\\nDELE x": secret}', r"apps\[0\]\.users"),
    ("    users: {alice: secret}", '    users: {alice: "a\\nb"}', r"apps\[0\]\.users\.alice"),
])
def test_a_line_break_in_what_goes_on_the_control_connection_is_a_located_error(old, new, where):
    assert old in PASSIVE
    with pytest.raises(ScenarioError, match=where):
        parse_scenario(PASSIVE.replace(old, new))


@pytest.mark.parametrize("app", [
    "{node: alice, run: ftp-get, server: server, file: \"a\\r\\nDELE report.txt\"}",
    "{node: alice, run: ftp-put, server: server, file: \"a\\nDELE report.txt\", size: 1KiB}",
])
def test_a_line_break_in_a_file_to_get_or_put_is_a_located_error(app):
    text = PASSIVE.replace("sequence:", f"  - {app}\nsequence:")
    with pytest.raises(ScenarioError, match=r"apps\[2\]\.file"):
        parse_scenario(text)


def test_validate_exits_2_on_a_smuggled_command(tmp_path, capsys):
    path = tmp_path / "smuggle.yaml"
    path.write_text(PASSIVE.replace("    user: alice\n", '    user: "u\\r\\nPASS p\\r\\nDELE a.txt"\n'))
    assert main(["validate", str(path)]) == 2
    assert "apps[1].user" in capsys.readouterr().err


@pytest.mark.parametrize("old, new, where", [
    ("commands: [ls,", 'commands: ["cd \\udc80",', r"apps\[1\].commands\[0\].*lone surrogate"),
    ("files: {report.txt:", 'files: {"\\udc80": x, report.txt:',
     r"apps\[0\].files.*lone surrogate"),     # LIST could not carry it
])
def test_a_name_that_cannot_be_encoded_is_a_located_error_at_load(old, new, where):
    """The loader refuses a lone surrogate anywhere; the engines' own checks at build
    (``is not text that can be sent``) stay for networks built in Python."""
    assert old in PASSIVE
    with pytest.raises(ScenarioError, match=where):
        parse_scenario(PASSIVE.replace(old, new)).build()


# -- a third host, and a server with no port to spare (issue 20) ---------------------------

def third_host_lan():
    """alice far away (20 ms), the server and mallory near it (1 ms) on one switch."""
    from netsim import Network, finalize

    net = Network(4)
    switch = net.add_switch("sw")
    a, b, m = (net.add_host(name) for name in ("alice", "files", "mallory"))
    for host, address, delay in ((a, "10.0.0.1/24", 0.020), (b, "10.0.0.2/24", 0.001),
                                 (m, "10.0.0.66/24", 0.001)):
        host.set_address(host.add_interface(), address)
        net.connect(host, switch.add_interface(), delay=delay)
    finalize(net)
    return net, a, b, m


def mallory(net, b, m, stolen: bytearray, states: list):
    """Watch the server for a passive listener (a sniffer on the LAN would see the 227)
    and connect to it at once; keep whatever comes."""
    from netsim.apps.ftp import PASSIVE_RANGE

    def run():
        while True:
            ports = [p for p in b.tcp.listeners if PASSIVE_RANGE[0] <= p <= PASSIVE_RANGE[1]]
            if ports:
                break
            yield net.env.timeout(0.0001)
        sock = m.tcp_connect(b.ip, ports[0])
        yield sock.connected
        states.append("connected")
        while True:
            data = yield sock.recv()
            if not data:
                break
            stolen.extend(data)
        states.append("closed by the server")

    net.env.process(run())


def test_a_third_host_that_connects_to_the_passive_port_first_gets_nothing():
    """PASV port theft: mallory connects to the port the server just announced while
    alice's RETR is on its way (a client whose connect() completed in the listen backlog
    sends it). The server takes data only from the control connection's host (vsftpd's
    pasv_promiscuous=NO): mallory's connection is closed with no byte of the file, and
    alice hears vsftpd's 425 (without the check, mallory got all 20480 bytes)."""
    net, a, b, m = third_host_lan()
    server = FtpServer(b, files={"report.txt": "20KiB"}, users={"alice": "secret"})
    heard, stolen, states = [], bytearray(), []
    scripted_client(net, a, b.ip, [b"USER alice", b"PASS secret", b"TYPE I", b"PASV",
                                   b"RETR report.txt", b"NOOP"], heard)
    mallory(net, b, m, stolen, states)
    net.run(20)
    assert states == ["connected", "closed by the server"] and stolen == b""
    replies = [r.decode().rstrip("\r\n") for r in heard]
    assert replies[5:] == ["425 Security: Bad IP connecting.", "200 NOOP ok."]
    assert server.log == []                   # nothing was sent to anyone


def test_the_ftp_client_against_a_port_thief_fails_and_gives_nothing_away():
    """With netsim's own client: mallory's connection is taken first and closed empty;
    alice's connect() to the closed port is refused, her get fails, her session goes on."""
    net, a, b, m = third_host_lan()
    server = FtpServer(b, files={"report.txt": "20KiB"}, users={"alice": "secret"})
    alice = Ftp(a, server="files", user="alice", password="secret",
                commands=["get report.txt", "pwd"], at=1.0)
    stolen, states = bytearray(), []
    mallory(net, b, m, stolen, states)
    net.run(20)
    alice.wrap_up()
    assert states == ["connected", "closed by the server"] and stolen == b""
    assert "report.txt" not in alice.result()["received"] and server.log == []
    assert alice.status == "failed" and '257 "/" is the current directory' in alice.lines


def test_a_server_with_no_passive_port_free_answers_425(monkeypatch):
    """Every port of the passive range taken: 425, and the run goes on (the port search
    used to loop for ever inside one SimPy step)."""
    import netsim.apps.ftp as ftp_apps
    from netsim import line

    monkeypatch.setattr(ftp_apps, "PASSIVE_RANGE", (30000, 30001))
    net, (a, b) = line(["a", "b"], delay="1ms")
    FtpServer(b, files={"report.txt": "2KiB"}, users={"alice": "secret"})
    b.tcp_listen(30000)
    b.tcp_listen(30001)
    client = Ftp(a, server="b", user="alice", password="secret", commands=["ls", "pwd"],
                 at=1.0)
    net.run(10)
    assert "425 Can't open passive connection." in client.lines
    assert client.status == "failed" and client.lines[-1] == "221 Goodbye."
