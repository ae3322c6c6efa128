"""Mail applications against hostile peers on simulated hosts (issue 19): a scripted
raw-TCP peer — a SimPy process in the test, written with netsim's socket API, the way a
real peer is its own program — answers netsim's clients badly or asks netsim's servers
badly. Each case ended the whole run with a traceback, hung the client until the run
ended, or printed a 90 KB error; now the app ends as the real tool does (swaks,
fetchmail, imaplib; Postfix and Dovecot answering) and every other app runs on."""

import json

import yaml

from netsim import parse_scenario
from tests.apps.hostile import B_IP, scenario_text

MAIL = {"node": "b", "run": "mail-server", "domain": "example.com",
        "users": {"bob": "secret", "alice": "x"}}


def build(apps, until="100s", text=None):
    scenario = parse_scenario(text or scenario_text(apps, until))
    return scenario, scenario.build(seed=3)


def finish(scenario, net):
    """Run to the end and do what a run's summary does with every app."""
    net.run(scenario.until)
    for app in net.apps:
        app.wrap_up()
    json.dumps([app.result() for app in net.apps])     # the summary must be writable
    return net


def app(net, name):
    return next(a for a in net.apps if a.name == name)


def serve_script(net, port, script, node="b"):
    """A scripted server: accept one connection and play ``script`` — bytes are sent,
    "read" waits for the next bytes, "close" closes."""
    env, host = net.env, net.nodes[node]
    heard = []

    def run():
        listener = host.tcp_listen(port)
        sock = yield listener.accept()
        for step in script:
            if isinstance(step, bytes):
                yield sock.send(step)
            elif step == "read":
                heard.append((yield sock.recv()))
            else:
                sock.close()

    env.process(run())
    return heard


def client_script(net, port, script, at=1.0):
    """A scripted client on a: connect to b at ``at`` and play ``script`` — bytes are
    sent, "read" collects what arrives within a second."""
    env, host = net.env, net.nodes["a"]
    heard = bytearray()

    def run():
        yield env.timeout(at)
        sock = host.tcp_connect(B_IP, port)
        yield sock.connected
        for step in script:
            if isinstance(step, bytes):
                yield sock.send(step)
                continue
            reading = sock.recv()
            got = yield reading | env.timeout(1.0)
            if reading in got:
                heard.extend(reading.value)
        sock.close()

    env.process(run())
    return heard


# -- netsim's clients against a hostile server ------------------------------------------------

SEND = {"node": "a", "at": "1s", "run": "mail-send", "server": "b", "from": "alice@example.com",
        "to": "bob@example.com", "subject": "hi", "body": "Hello"}


def mail_send(script, until="100s"):
    scenario, net = build([SEND], until)
    serve_script(net, 25, script)
    finish(scenario, net)
    return app(net, "mail-send")


def test_mail_send_reads_a_unicode_digit_greeting_as_no_reply_and_times_out():
    sent = mail_send(["²²² hello\r\n".encode(), "read", "read"])     # int('²²²') raised
    assert sent.status == "failed"
    assert sent.error == "Timeout (30 secs) waiting for server response"
    assert "<**  ²²² hello" in sent.lines
    assert sent.lines.count("<**  Timeout (30 secs) waiting for server response") == 2
    assert " ->  QUIT" in sent.lines


def test_mail_send_marks_a_554_greeting_as_swaks_does():
    sent = mail_send([b"554 5.7.1 example.com: go away\r\n", "read", b"221 2.0.0 Bye\r\n", "close"])
    assert "<**  554 5.7.1 example.com: go away" in sent.lines and "<-   221 2.0.0 Bye" in sent.lines
    assert sent.status == "failed" and sent.error == "not accepted: 554 5.7.1 example.com: go away"


def test_mail_send_when_the_server_hangs_up_mid_session():
    sent = mail_send([b"220 hi\r\n", "read", "close"])
    assert sent.lines[-1] == "*** Remote host closed connection unexpectedly."
    assert sent.error == "Remote host closed connection unexpectedly."


def test_mail_send_keeps_its_output_bounded_against_a_100_kb_line():
    sent = mail_send([b"220 " + b"x" * 100_000 + b"\r\n", "read", "close"])
    assert sent.status == "failed" and max(len(line) for line in sent.lines) < 300


CREDENTIALS = {"server": "b", "user": "bob", "password": "secret"}
LOGIN = [b"+OK hi\r\n", "read", b"+OK send PASS\r\n", "read", b"+OK logged in\r\n", "read"]


def pop3_fetch(script, until="100s"):
    scenario, net = build([{"node": "a", "at": "1s", "run": "pop3-fetch", **CREDENTIALS}], until)
    heard = serve_script(net, 110, script)
    finish(scenario, net)
    return app(net, "pop3-fetch"), heard


def test_pop3_fetch_refuses_a_bogus_message_count_as_fetchmail_does():
    fetch, heard = pop3_fetch(LOGIN + [b"+OK -1 0\r\n", "read", b"+OK bye\r\n", "close"])
    assert "*** bogus message count!" in fetch.lines
    assert fetch.error == "client/server protocol error while fetching from bob@b"
    assert heard[-1] == b"QUIT\r\n" and fetch.status == "failed"


def test_pop3_fetch_on_a_uidl_line_in_unicode_digits():
    fetch, _ = pop3_fetch(LOGIN + [b"+OK 1 5\r\n", "read", "+OK\r\n²² abc\r\n.\r\n".encode(),
                                   "read", b"+OK bye\r\n", "close"])          # int() raised
    assert "*** Cannot handle UIDL response from upstream server." in fetch.lines
    assert fetch.status == "failed"


def test_pop3_fetch_gives_up_on_a_message_that_never_ends():
    fetch, _ = pop3_fetch(LOGIN + [b"+OK 1 5\r\n", "read", b"+OK\r\n1 u1\r\n.\r\n", "read",
                                   b"+OK 5 octets\r\n" + b"line\r\n" * 500, "read"], until="400s")
    assert fetch.status == "failed"                  # it waited for the run's end before
    assert fetch.error == "timeout after 300 seconds waiting for server b."


IMAP_CLIENT = {"node": "a", "at": "1s", "run": "imap-client", **CREDENTIALS, "actions": ["headers"]}


def imap_client(script, until="100s"):
    scenario, net = build([IMAP_CLIENT], until)
    serve_script(net, 143, script)
    finish(scenario, net)
    return app(net, "imap-client")


def test_imap_client_passes_over_a_fetch_numbered_in_unicode_digits():
    client = imap_client([b"* OK ready\r\n", "read",
                          "* ²² FETCH (FLAGS ())\r\nA001 OK done\r\n".encode(), "read",
                          b"A002 OK selected\r\n", "read", b"A003 OK fetched\r\n", "read",
                          b"* BYE\r\nA004 OK bye\r\n", "close"])          # int('²²') raised
    assert client.status == "finished" and client.result()["messages"] == {}


def test_imap_client_refuses_a_huge_literal_at_once():
    client = imap_client([b"* OK ready\r\n", "read", b"* 1 FETCH (BODY[] {99999999999}\r\n",
                          "read"])
    assert client.status == "failed" and client.error == f"got more than {64 << 20} bytes"


def test_imap_client_times_out_on_a_silent_server():
    client = imap_client([b"* OK ready\r\n", "read", "read"])
    assert client.status == "failed" and client.error == "socket error: timed out"


def test_the_relay_defers_a_message_whose_next_hop_greets_in_unicode_digits():
    """The server's outgoing connection: a relay's SMTP client is the same engine, with
    Postfix's 300 s timeout, and the entry is deferred, not the run ended."""
    text = yaml.safe_dump({
        "name": "relay", "seed": 3, "until": "700s",
        "nodes": {"a": {"kind": "host", "ip": "10.0.0.1/24", "dns": "10.0.0.3"},
                  "b": {"kind": "host", "ip": "10.0.0.2/24"},
                  "c": {"kind": "host", "ip": "10.0.0.3/24"}, "sw": {"kind": "switch"}},
        "links": [{"endpoints": ["a", "sw"]}, {"endpoints": ["b", "sw"]},
                  {"endpoints": ["c", "sw"]}],
        "apps": [{"node": "c", "run": "dns-server",
                  "zones": [{"origin": "example.org", "records": [
                      "@ SOA ns admin 1 7200 900 1209600 300", "@ NS ns", "ns A 10.0.0.3",
                      "@ MX 10 mx", "mx A 10.0.0.2"]}]},
                 {"node": "a", "run": "mail-server", "domain": "example.com",
                  "users": {"carol": "x"}, "relay_from": ["10.0.0.0/24"], "give_up": "1h"},
                 {"node": "c", "at": "1s", "run": "mail-send", "server": "a",
                  "from": "carol@example.com", "to": "dave@example.org", "body": "hi"}]})
    scenario, net = build(None, text=text)
    heard = serve_script(net, 25, ["²²² x\r\n".encode(), "read", "read"])
    finish(scenario, net)
    server = app(net, "mail-server")
    assert heard == [b"QUIT\r\n", b""]
    assert "status=deferred (conversation with mx.example.org[10.0.0.2] timed out)" in \
        "\n".join(server.lines)
    assert server.result()["queued"][0]["to"] == ["dave@example.org"]


# -- netsim's servers against a hostile client --------------------------------------------------

def against_mail_server(port, script, extra=()):
    scenario, net = build([MAIL, *extra])
    heard = client_script(net, port, script)
    finish(scenario, net)
    assert app(net, "mail-server").status == "serving"
    return bytes(heard), net


def test_the_imap_server_answers_three_thousand_parentheses_before_login():
    heard, _ = against_mail_server(143, ["read", b"a1 LOGIN " + b"(" * 3000 + b"\r\n", "read",
                                         b"a2 LOGIN bob secret\r\n", "read", b"a3 LOGOUT\r\n",
                                         "read"])                   # RecursionError before
    assert b"a1 BAD Too many '('\r\n" in heard and b"a2 OK" in heard and b"a3 OK" in heard


def test_the_smtp_server_refuses_a_size_in_unicode_digits():
    heard, _ = against_mail_server(25, ["read", b"EHLO x\r\n", "read",
                                        "MAIL FROM:<a@b> SIZE=²\r\n".encode(), "read",
                                        b"QUIT\r\n", "read"])        # int('²') raised
    assert b"501 5.5.4 Bad message size syntax\r\n" in heard and b"221 2.0.0 Bye" in heard


def test_the_pop3_server_hangs_up_on_a_client_that_only_sends_junk():
    heard, _ = against_mail_server(110, ["read", "RETR ²\r\n".encode() * 25, "read", "read"])
    assert heard.count(b"-ERR not authenticated") == 20              # no limit before
    assert heard.endswith(b"-ERR Too many bad commands.\r\n")


def test_a_delivered_message_whose_header_fields_choke_cpython_is_summed_up_and_listed():
    """A From: that CPython's header parser raises on was stored fine, and then the
    run's summary raised after the run (every output lost), and the IMAP server's
    ENVELOPE raised RecursionError on three thousand '('."""
    letter = (b"From: x <\r\nTo: " + b"(" * 3000 + b"\r\nSubject: =?utf-8?b?!!!?=\r\n\r\nhi\r\n.\r\n")
    script = ["read", b"EHLO x\r\n", "read", b"MAIL FROM:<a@b>\r\n", "read",
              b"RCPT TO:<bob@example.com>\r\n", "read", b"DATA\r\n", "read", letter, "read",
              b"QUIT\r\n", "read"]
    reader = {"node": "a", "at": "10s", "run": "imap-client", **CREDENTIALS,
              "actions": ["headers"]}
    heard, net = against_mail_server(25, script, extra=(reader,))
    assert b"250 2.0.0 Ok: queued" in heard
    (stored,) = app(net, "mail-server").result()["mailboxes"]["bob"]["INBOX"]
    assert stored["from"] == "x <" and stored["subject"] == "=?utf-8?b?!!!?="
    listed = app(net, "imap-client")
    assert listed.status == "finished" and listed.result()["messages"]["1"]["subject"]
