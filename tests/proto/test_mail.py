"""SMTP, POP3 and IMAP engines in pairs over a fake stream, and the servers against the
standard library's own clients (smtplib, poplib, imaplib speak to them through a fake
socket), so what netsim's servers say is what real clients expect."""

import ipaddress

import pytest

from netsim.proto.mail import (Close, ImapClient, ImapServerSession, MailStore, Policy,
                               Pop3Client, Pop3ServerSession, Send, SmtpClient, SmtpServerSession)
from netsim.proto.mail.imap import envelope
from netsim.proto.mail.imap_syntax import parse
from netsim.proto.mail.lines import crlf

MESSAGE = crlf("From: alice@qq.com\nTo: bob@163.com\nSubject: hello\nMessage-ID: <1@qq.com>\n\n"
               "Hi Bob,\n.a line starting with a dot\n..two dots\n.\nbye\n")


def talk(client, server, limit=1000, now=0.0):
    """Start both engines, then carry bytes both ways until neither has anything to say."""
    server.start(now)
    client.start(now)
    for _ in range(limit):
        moved = False
        for out in server.outputs():
            moved = True
            if isinstance(out, Send):
                client.receive(out.data, now)
        for out in client.outputs():
            moved = True
            if isinstance(out, Send):
                server.receive(out.data, now)
        if not moved:
            return


def started(engine, now=0.0):
    """An engine after its start, its greeting taken."""
    engine.start(now)
    engine.outputs()
    return engine


def sent(engine) -> bytes:
    return b"".join(o.data for o in engine.outputs() if isinstance(o, Send))


def policy(**changes):
    base = dict(hostname="mail.163.com", domains={"163.com"}, users={"bob", "carol"},
                relay_from=[ipaddress.ip_network("10.0.3.0/24")], passwords={"bob": "secret"})
    base.update(changes)
    return Policy(**base)


def smtp(recipients, *, peer="10.9.9.9", submission=False, auth=None, data=MESSAGE, **changes):
    server = SmtpServerSession(policy(**changes), peer, submission=submission)
    client = SmtpClient(helo="mail.qq.com", mail_from="alice@qq.com", recipients=recipients,
                        data=data, auth=auth)
    talk(client, server)
    return client, server


# -- SMTP --------------------------------------------------------------------------------

def test_a_message_to_a_local_user_is_accepted_with_the_dots_restored():
    client, server = smtp(["bob@163.com"])
    assert client.done.delivered == ("bob@163.com",) and client.done.error is None
    (accepted,) = server.accepted
    assert accepted.data == MESSAGE and accepted.mail_from == "alice@qq.com"
    sent = [line for d, line in client.transcript if d == "C"]
    assert sent[:3] == ["EHLO mail.qq.com", f"MAIL FROM:<alice@qq.com> SIZE={len(MESSAGE)}",
                        "RCPT TO:<bob@163.com>"]
    replies = [line for d, line in client.transcript if d == "S"]
    assert replies[0].startswith("220 ")
    # What it has, in Postfix's order, ENHANCEDSTATUSCODES (RFC 2034) among them.
    assert replies[1:8] == ["250-mail.163.com", "250-PIPELINING", "250-SIZE 10485760", "250-VRFY",
                            "250-AUTH PLAIN", "250-ENHANCEDSTATUSCODES", "250 8BITMIME"]
    assert replies[-2] == f"250 2.0.0 Ok: queued as {server.accepted[0].queue_id}"
    assert replies[-1] == "221 2.0.0 Bye"
    assert client.extensions["SIZE"] == str(10 * 1024 * 1024)


def test_unknown_user_gets_550_and_the_others_still_get_the_message():
    client, server = smtp(["nobody@163.com", "carol@163.com"])
    assert client.done.delivered == ("carol@163.com",)
    assert client.failed["nobody@163.com"].code == 550
    assert "User unknown" in client.failed["nobody@163.com"].text
    assert server.accepted[0].recipients == ("carol@163.com",)


def test_no_valid_recipients_means_no_data():
    client, server = smtp(["nobody@163.com"])
    assert client.done.delivered == () and not server.accepted
    assert "DATA" not in [line for d, line in client.transcript if d == "C"]


def test_relay_for_a_stranger_is_denied_and_for_a_local_network_allowed():
    client, _ = smtp(["someone@gmail.com"], peer="10.9.9.9")
    assert client.failed["someone@gmail.com"].code == 554
    assert "Relay access denied" in client.failed["someone@gmail.com"].text
    client, server = smtp(["someone@gmail.com"], peer="10.0.3.7")
    assert client.done.delivered == ("someone@gmail.com",)


def test_submission_needs_auth_plain_and_then_relays():
    client, _ = smtp(["someone@gmail.com"], submission=True)
    assert client.done.error.code == 530
    client, _ = smtp(["someone@gmail.com"], submission=True, auth=("bob", "wrong"))
    assert client.done.error.code == 535
    client, server = smtp(["someone@gmail.com"], submission=True, auth=("bob", "secret"))
    assert client.done.delivered == ("someone@gmail.com",) and server.accepted[0].authenticated == "bob"
    assert ("C", "AUTH PLAIN ********") in client.transcript          # never the password


@pytest.mark.parametrize("changes, code", [({"busy": {"bob"}}, 450), ({"queue_full": True}, 451),
                                           ({"max_size": 100}, 552)])
def test_transient_and_size_failures(changes, code):
    client, server = smtp(["bob@163.com"], **changes)
    assert client.failed["bob@163.com"].code == code and not server.accepted
    assert client.failed["bob@163.com"].transient == (code < 500)


def test_too_many_recipients_gets_452():
    client, server = smtp(["bob@163.com" for _ in range(101)])
    assert client.failed["bob@163.com"].code == 452
    assert len(server.accepted[0].recipients) == 100


@pytest.mark.parametrize("lines, code", [
    (b"HELLO\r\n", 502), (b"MAIL FROM:<a@b>\r\n", 503), (b"EHLO x\r\nRCPT TO:<a@b>\r\n", 503),
    (b"EHLO x\r\nMAIL FROM:a@b\r\n", 501), (b"EHLO x\r\nDATA\r\n", 503), (b"EHLO\r\n", 501),
    (b"EHLO x\r\nAUTH LOGIN\r\n", 504), (b"EHLO x\r\nAUTH PLAIN !!!\r\n", 501),
    (b"X" * 9000 + b"\r\n", 500), (b"\r\n", 500),
])
def test_bad_commands_get_the_rfc_5321_codes(lines, code):
    server = started(SmtpServerSession(policy(), "10.9.9.9"))
    server.receive(lines, 0.0)
    last = server.outputs()[-1].data
    assert last.startswith(str(code).encode()), last


def test_twenty_errors_close_the_session_with_421_as_postfix_does():
    server = started(SmtpServerSession(policy(), "10.9.9.9"))
    server.receive(b"BOGUS\r\n" * 22, 0.0)
    outs = server.outputs()
    assert [o.data for o in outs[:2]] == [b"502 5.5.2 Error: command not recognized\r\n"] * 2
    assert outs[-2].data == b"421 4.7.0 mail.163.com Error: too many errors\r\n"
    assert isinstance(outs[-1], Close) and server.closed and len(outs) == 22


def smtplib_client(server):
    """The standard library's SMTP client, connected to ``server`` (an engine, started
    here) through a fake socket: what it sends the server receives, and each reply it
    reads is what the server said since (smtplib speaks in lock-step)."""
    import io
    import smtplib
    server.start(0.0)

    class Wire:
        def sendall(self, data):
            server.receive(data, 0.0)

        def makefile(self, mode):
            return io.BytesIO(b"".join(o.data for o in server.outputs() if isinstance(o, Send)))

        def close(self):
            pass

    client = smtplib.SMTP()
    client.sock = Wire()
    client.file = None

    def getreply():
        client.file = client.sock.makefile("rb")
        return smtplib.SMTP.getreply(client)
    client.getreply = getreply
    return client


def test_smtplib_talks_to_the_server():
    server = SmtpServerSession(policy(), "10.0.3.7")
    client = smtplib_client(server)
    assert client.getreply()[0] == 220
    assert client.ehlo("tester")[0] == 250 and client.has_extn("pipelining")
    refused = client.sendmail("alice@qq.com", ["bob@163.com"], MESSAGE)
    assert refused == {} and server.accepted[0].data == MESSAGE


# -- POP3 ---------------------------------------------------------------------------------

def store_with_mail(count=2):
    store = MailStore({"bob": "secret"})
    for i in range(count):
        store.deliver("bob", MESSAGE.replace(b"hello", b"hello %d" % i), float(i))
    return store


def test_pop3_downloads_each_message_and_deletes_at_update():
    store = store_with_mail()
    server = Pop3ServerSession(store, "mail.163.com")
    client = Pop3Client("bob", "secret", delete=True)
    talk(client, server)
    assert client.finished and client.error is None
    assert len(client.retrieved) == 2
    assert client.retrieved[0].data == MESSAGE.replace(b"hello", b"hello 0")   # dots restored
    assert store.folder("bob", "INBOX").messages == [] and "bob" not in store.locks
    sent = [line for d, line in client.transcript if d == "C"]
    assert sent == ["USER bob", "PASS ********", "STAT", "UIDL", "RETR 1", "DELE 1", "RETR 2",
                    "DELE 2", "QUIT"]


def test_pop3_without_quit_deletes_nothing_and_a_second_client_gets_its_own_copy():
    store = store_with_mail()
    server = started(Pop3ServerSession(store, "mail.163.com"))
    server.receive(b"USER bob\r\nPASS secret\r\nDELE 1\r\n", 0.0)
    server.connection_lost(0.0)
    assert len(store.folder("bob", "INBOX").messages) == 2 and "bob" not in store.locks
    first, second = Pop3Client("bob", "secret"), Pop3Client("bob", "secret")
    talk(first, Pop3ServerSession(store, "m"))
    talk(second, Pop3ServerSession(store, "m"))
    assert len(first.retrieved) == len(second.retrieved) == 2          # the server forgot
    assert all(not m.flags - {"\\Recent"} for m in store.folder("bob", "INBOX").messages)


def test_pop3_errors():
    store = store_with_mail()
    server = started(Pop3ServerSession(store, "m"))
    server.receive(b"STAT\r\nUSER bob\r\nPASS wrong\r\nUSER bob\r\nPASS secret\r\nRETR 9\r\n"
                   b"DELE 1\r\nRETR 1\r\nTOP 2 0\r\nLIST\r\nRSET\r\nSTAT\r\nFROB\r\n", 0.0)
    replies = b"".join(o.data for o in server.outputs()).split(b"\r\n")
    status = [r for r in replies if r.startswith((b"+OK", b"-ERR"))]
    assert status[0] == b"-ERR not authenticated"
    assert status[2] == b"-ERR [AUTH] invalid user name or password"
    assert status[5] == b"-ERR no such message" and status[7] == b"-ERR message 1 already deleted"
    assert b"Subject: hello 1" in b"\r\n".join(replies)              # TOP 2 0: the header
    assert status[-1] == b"-ERR Unknown command: FROB"
    other = started(Pop3ServerSession(store, "m"))
    other.receive(b"USER bob\r\nPASS secret\r\n", 0.0)
    assert other.outputs()[-1].data == b"-ERR [IN-USE] maildrop already locked\r\n"


def test_poplib_talks_to_the_server():
    import io
    import poplib
    store = store_with_mail(1)
    server = Pop3ServerSession(store, "mail.163.com")
    server.start(0.0)

    class Pop(poplib.POP3):
        def __init__(self):
            self.encoding = "UTF-8"
            self._debugging = 0
            self._tls_established = False
            self.file = io.BytesIO()
            self.welcome = self._read()

        def _read(self):
            out = b"".join(o.data for o in server.outputs() if isinstance(o, Send))
            self.file = io.BytesIO(out)
            return self._getresp()

        def _putcmd(self, line):
            server.receive(line.encode() + b"\r\n", 0.0)
            self.file = io.BytesIO(b"".join(o.data for o in server.outputs() if isinstance(o, Send)))

    pop = Pop()
    assert pop.welcome.startswith(b"+OK")
    pop.user("bob")
    pop.pass_("secret")
    assert pop.stat() == (1, len(MESSAGE) + 2)                  # "hello 0"
    _resp, lines, _octets = pop.retr(1)
    assert b"\r\n".join(lines) + b"\r\n" == MESSAGE.replace(b"hello", b"hello 0")
    assert pop.uidl()[1] == [b"1 1"]


# -- IMAP ----------------------------------------------------------------------------------

def imap(store, actions):
    server = ImapServerSession(store, "mail.163.com")
    client = ImapClient("bob", "secret", actions)
    talk(client, server)
    return client, server


def test_imap_headers_show_a_long_non_ascii_subject_as_its_sender_wrote_it():
    """The fuzzer's find: a 300-letter subject is folded into RFC 2047 encoded-words,
    which the server sends as a literal (it holds CRLF); the client kept the literal's
    bytes, and summary.json could not hold them. A mail client shows the text."""
    from email.message import EmailMessage
    subject = "Grüße " + "a" * 300
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "alice@qq.com", "bob@163.com", subject
    msg.set_content("hi\n")
    store = MailStore({"bob": "secret"})
    store.deliver("bob", msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")), 0.0)
    client, _ = imap(store, ["headers"])
    assert client.finished and client.errors == []
    assert client.messages[1]["subject"] == subject


def test_imap_headers_then_open_one_fetches_only_that_body_and_marks_it_seen():
    store = store_with_mail()
    client, _ = imap(store, ["list", "headers", "open 2"])
    assert client.finished and client.errors == []
    assert client.folders == ["INBOX"]
    assert client.messages[1]["subject"] == "hello 0" and "body" not in client.messages[1]
    assert client.messages[2]["body"] == MESSAGE.replace(b"hello", b"hello 1")
    assert client.messages[2]["flags"] == ["\\Seen"]
    assert [sorted(m.flags) for m in store.folder("bob", "INBOX").messages] == [[], ["\\Seen"]]
    assert client.messages[1]["from"] == "alice@qq.com"


def test_two_imap_clients_see_the_same_folders_and_flags():
    store = store_with_mail()
    phone = ImapServerSession(store, "m")
    phone_client = ImapClient("bob", "secret", ["create Archive", "flag 1 \\Flagged",
                                                 "move 2 Archive"])
    talk(phone_client, phone)
    desktop_client, _ = imap(store, ["list", "headers"])
    assert sorted(desktop_client.folders) == ["Archive", "INBOX"]
    assert list(desktop_client.messages) == [1]
    assert desktop_client.messages[1]["flags"] == ["\\Flagged"]
    assert len(store.folder("bob", "Archive").messages) == 1


def test_another_sessions_changes_arrive_as_untagged_updates():
    store = store_with_mail()
    desktop = started(ImapServerSession(store, "m"))
    desktop.receive(b"a LOGIN bob secret\r\nb SELECT INBOX\r\n", 0.0)
    desktop.outputs()
    phone = started(ImapServerSession(store, "m"))
    phone.receive(b"a LOGIN bob secret\r\nb SELECT INBOX\r\nc STORE 1 +FLAGS (\\Deleted)\r\n"
                  b"d EXPUNGE\r\n", 0.0)
    store.deliver("bob", MESSAGE, 5.0)
    desktop.receive(b"c FETCH 1 (FLAGS)\r\n", 0.0)
    during_fetch = b"".join(o.data for o in desktop.outputs())
    assert b"EXPUNGE" not in during_fetch                     # §7.4.1: not during FETCH
    desktop.receive(b"d NOOP\r\n", 0.0)
    updates = b"".join(o.data for o in desktop.outputs())
    assert b"* 1 EXPUNGE\r\n" in updates and b"d OK NOOP" in updates


def test_imap_errors():
    store = store_with_mail()
    server = started(ImapServerSession(store, "m"))
    server.receive(b"a SELECT INBOX\r\nb LOGIN bob wrong\r\nc LOGIN bob secret\r\nd FETCH 1 FLAGS\r\n"
                   b"e SELECT Nope\r\nf EXAMINE INBOX\r\ng STORE 1 +FLAGS (\\Seen)\r\n"
                   b"h COPY 1 Nope\r\ni FROB\r\nj FETCH 1 (BODY[MIME])\r\nk (\r\n"
                   b"(((\r\n", 0.0)
    lines = b"".join(o.data for o in server.outputs()).decode().split("\r\n")
    status = {line.split(" ", 1)[0]: line.split(" ")[1] for line in lines if line and line[0] != "*"}
    assert status == {"a": "BAD", "b": "NO", "c": "OK", "d": "BAD", "e": "NO", "f": "OK",
                      "g": "NO", "h": "NO", "i": "BAD", "j": "BAD", "k": "BAD"}
    # Dovecot's words: imap's after LOGIN, and no tag to answer to for a line without one.
    assert "i BAD Error in IMAP command FROB: Unknown command." in lines
    assert "k BAD Error in IMAP command: Missing ')'" in lines
    assert "* BAD Error in IMAP command received by server." in lines


def test_envelope_is_rfc_3501_shaped():
    env = parse(envelope(MESSAGE))[0]
    assert env[1] == "hello" and env[2] == [[None, None, "alice", "qq.com"]]
    assert env[5] == [[None, None, "bob", "163.com"]] and env[9] == "<1@qq.com>"


def imaplib_client(server, now=0.0):
    """The standard library's IMAP client, connected to ``server`` (an engine, started
    here) through a fake socket: what it sends the server receives at once, and what the
    server said waits in a buffer that imaplib reads from."""
    import imaplib
    import io
    server.start(now)

    class Imap(imaplib.IMAP4):
        def open(self, host="", port=0, timeout=None):
            self.host, self.port = host, port
            self.sock = None
            self.buffer = io.BytesIO(b"".join(o.data for o in server.outputs()))

        def readline(self):
            return self.buffer.readline()

        def read(self, size):
            return self.buffer.read(size)

        def send(self, data):
            server.receive(data, now)
            rest = self.buffer.read()
            self.buffer = io.BytesIO(rest + b"".join(o.data for o in server.outputs()
                                                     if isinstance(o, Send)))

        def shutdown(self):
            pass

    return Imap()


def test_imaplib_talks_to_the_server():
    store = store_with_mail(1)
    server = ImapServerSession(store, "mail.163.com")
    client = imaplib_client(server)
    assert client.login("bob", "secret")[0] == "OK"
    assert client.select("INBOX") == ("OK", [b"1"])
    typ, data = client.fetch("1", "(BODY[])")
    assert typ == "OK" and data[0][1] == MESSAGE.replace(b"hello", b"hello 0")
    typ, data = client.store("1", "+FLAGS", "(\\Flagged)")
    assert typ == "OK" and b"\\Flagged" in data[0]
    assert client.logout()[0] == "BYE"
    assert store.folder("bob", "INBOX").messages[0].flags == {"\\Seen", "\\Flagged"}
