"""The SMTP server held to RFC 5321 and to Postfix 3.9 (issue 20): only CRLF.CRLF ends a
message (SMTP smuggling), nothing is answered in the middle of one, SIZE is kept as the
text comes, a message that has passed too many servers is refused, and every reply but
the greeting and HELO/EHLO's carries an enhanced status code (RFC 2034). smtplib judges
where a standard client is affected."""

import re
import smtplib

import pytest

from netsim.proto.mail import SmtpServerSession
from netsim.proto.mail.queue_ids import QueueIds
from tests.proto.test_mail import policy, sent, smtplib_client, started

FORGED = (b"MAIL FROM:<ceo@163.com>\r\nRCPT TO:<bob@163.com>\r\nDATA\r\n"
          b"From: ceo@163.com\r\nSubject: pay now\r\n\r\nwire it\r\n.\r\n")


def in_data(**changes):
    """A session from alice@qq.com to bob, after 354."""
    server = started(SmtpServerSession(policy(**changes), "10.0.3.7"))
    server.receive(b"EHLO mail.qq.com\r\nMAIL FROM:<alice@qq.com>\r\nRCPT TO:<bob@163.com>\r\n"
                   b"DATA\r\n", 0.0)
    assert sent(server).endswith(b"354 End data with <CR><LF>.<CR><LF>\r\n")
    return server


def queued(server, n=1) -> bytes:
    return f"250 2.0.0 Ok: queued as {server.accepted[n - 1].queue_id}\r\n".encode()


# -- SMTP smuggling (RFC 5321 §2.3.8, §4.1.1.4; Postfix's smtpd_forbid_bare_newline) --------

@pytest.mark.parametrize("end", [b"\n.\n", b"\r\n.\n", b"\n.\r\n"])
def test_a_dot_beside_a_bare_lf_ends_no_message_so_none_is_smuggled(end):
    server = in_data()
    server.receive(b"Subject: lunch\r\n\r\nsee you" + end + FORGED, 0.0)
    (message,) = server.accepted                       # one message, not two
    assert sent(server) == queued(server)              # and one reply
    assert message.mail_from == "alice@qq.com"
    # Postfix's normalize: the dot is dropped, a bare LF is read as CRLF, the rest is text.
    assert message.data == (b"Subject: lunch\r\n\r\nsee you\r\nMAIL FROM:<ceo@163.com>\r\n"
                            b"RCPT TO:<bob@163.com>\r\nDATA\r\nFrom: ceo@163.com\r\n"
                            b"Subject: pay now\r\n\r\nwire it\r\n")


def test_bare_lf_lines_are_kept_as_lines_and_a_stray_cr_becomes_a_space():
    server = in_data()
    server.receive(b"Subject: x\n\none\ntwo\rthree\r\n..four\r\n.\r\nNOOP\r\n", 0.0)
    (message,) = server.accepted
    assert message.data == b"Subject: x\r\n\r\none\r\ntwo three\r\n.four\r\n"
    assert sent(server) == queued(server) + b"250 2.0.0 Ok\r\n"


def test_smtplib_s_dot_lines_arrive_as_written():
    server = SmtpServerSession(policy(), "10.0.3.7")
    client = smtplib_client(server)
    client.getreply()
    client.ehlo("tester")
    assert client.sendmail("alice@qq.com", ["bob@163.com"],
                           b"Subject: dots\r\n\r\nline\r\n.\r\n..\r\nend\r\n") == {}
    assert server.accepted[0].data == b"Subject: dots\r\n\r\nline\r\n.\r\n..\r\nend\r\n"


# -- nothing is answered in the middle of a message (RFC 5321 §4.5.3.1.6) ---------------------

def test_a_line_too_long_in_data_is_refused_after_the_dot_and_the_replies_stay_in_step():
    server = in_data()
    server.receive(b"Subject: x\r\n\r\n" + b"x" * 20_000 + b"\r\nmore\r\n.\r\nNOOP\r\n", 0.0)
    assert sent(server) == b"500 5.5.2 Error: message line too long\r\n250 2.0.0 Ok\r\n"
    assert not server.accepted
    server = in_data()
    for piece in (b"y" * 10_000, b"y" * 10_000 + b"\r\n", b"after\r\n"):     # in pieces
        server.receive(piece, 0.0)
        assert sent(server) == b""
    server.receive(b".\r\n", 0.0)
    assert sent(server) == b"500 5.5.2 Error: message line too long\r\n"


def test_smtplib_sees_a_long_line_refused_at_the_end_and_stays_in_step():
    client = smtplib_client(SmtpServerSession(policy(), "10.0.3.7"))
    client.getreply()
    client.ehlo("tester")
    with pytest.raises(smtplib.SMTPDataError) as info:
        client.sendmail("alice@qq.com", ["bob@163.com"], b"Subject: x\r\n\r\n" + b"x" * 9000)
    assert info.value.smtp_code == 500
    assert client.noop() == (250, b"2.0.0 Ok")          # before, smtplib read one reply late


def test_text_past_size_is_not_stored_and_is_refused_after_the_dot_with_552():
    server = SmtpServerSession(policy(max_size=10_000), "10.0.3.7")
    client = smtplib_client(server)
    client.getreply()
    client.ehlo("tester")
    assert client.mail("alice@qq.com")[0] == 250       # no SIZE= declared (RFC 1870 §6.3)
    assert client.rcpt("bob@163.com")[0] == 250
    assert client.data(b"Subject: big\r\n\r\n" + (b"z" * 900 + b"\r\n") * 50) == \
        (552, b"5.3.4 Error: message file too big")
    assert not server.accepted and not server._data
    # Declared, it is refused at MAIL, as Postfix does.
    with pytest.raises(smtplib.SMTPSenderRefused) as info:
        client.sendmail("alice@qq.com", ["bob@163.com"], b"x" * 20_000)
    assert info.value.smtp_code == 552 and info.value.smtp_error == \
        b"5.3.4 Message size exceeds fixed limit"


@pytest.mark.parametrize("hops, taken", [(48, True), (49, False)])
def test_a_message_that_passed_fifty_servers_is_refused_after_the_dot(hops, taken):
    """Postfix's hopcount_limit: the Received: lines and the one this server would add."""
    server = SmtpServerSession(policy(), "10.0.3.7")
    client = smtplib_client(server)
    client.getreply()
    client.ehlo("tester")
    data = b"Received: from x by y; Mon, 1 Jan 2024 00:00:00 +0000\r\n" * hops + b"\r\nhi\r\n"
    if taken:
        assert client.sendmail("alice@qq.com", ["bob@163.com"], data) == {}
        return
    with pytest.raises(smtplib.SMTPDataError) as info:
        client.sendmail("alice@qq.com", ["bob@163.com"], data)
    assert (info.value.smtp_code, info.value.smtp_error) == (554, b"5.4.0 Error: too many hops")
    assert not server.accepted


# -- ENHANCEDSTATUSCODES (RFC 2034, RFC 3463) and Postfix's "queued as" -----------------------

SESSIONS = [
    [b"NOOP", b"RSET", b"VRFY bob", b"VRFY", b"FROB", b"", b"MAIL FROM:<a@b>", b"RCPT TO:<a@b>",
     b"DATA", b"X" * 9000, b"QUIT"],
    [b"EHLO x", b"MAIL FROM:a@b", b"MAIL FROM:<a@b> SIZE=x", b"MAIL FROM:<a@b> SIZE=99999999999",
     b"MAIL FROM:<alice@qq.com>", b"MAIL FROM:<a@b>", b"RCPT TO:<nobody@163.com>",
     b"RCPT TO:bob", b"RCPT TO:<x@gmail.com>", b"DATA", b"RCPT TO:<bob@163.com>", b"DATA",
     b"hi", b".", b"AUTH LOGIN", b"AUTH PLAIN", b"AUTH PLAIN !!", b"AUTH PLAIN AGJvYgB3cm9uZw==",
     b"AUTH PLAIN AGJvYgBzZWNyZXQ=", b"AUTH PLAIN AGJvYgBzZWNyZXQ=", b"QUIT"],
]
_ENHANCED = re.compile(rb"^([245])[0-9][0-9][ -]([245])\.[0-9]{1,3}\.[0-9]{1,3} ")


@pytest.mark.parametrize("commands", SESSIONS)
def test_every_reply_but_the_greeting_and_helo_s_has_an_enhanced_status_code(commands):
    server = started(SmtpServerSession(policy(busy={"carol"}), "10.9.9.9", submission=False))
    in_data = False
    for command in commands:
        server.receive(command + b"\r\n", 0.0)
        replies = sent(server)
        if in_data and command != b".":
            assert replies == b""                         # nothing in the middle of a message
            continue
        for line in replies.splitlines():
            if command.startswith(b"EHLO") or line.startswith(b"354 "):
                continue                                  # RFC 2034 §3; 3xx has none
            match = _ENHANCED.match(line)
            assert match and match.group(1) == match.group(2), (command, line)
        in_data = replies.startswith(b"354 ") or (in_data and command != b".")
    assert server.closed


def test_helo_and_ehlo_replies_carry_none_as_postfix_s():
    server = started(SmtpServerSession(policy(), "10.9.9.9"))
    server.receive(b"HELO\r\nEHLO\r\nHELO x\r\n", 0.0)
    assert sent(server) == (b"501 Syntax: HELO hostname\r\n501 Syntax: EHLO hostname\r\n"
                            b"250 mail.163.com\r\n")


def test_smtplib_finds_enhancedstatuscodes_and_the_queue_id_comes_from_the_server_s_queue():
    ids = QueueIds("mail.163.com")
    server = SmtpServerSession(policy(queue_ids=ids), "10.0.3.7")
    client = smtplib_client(server)
    client.getreply()
    client.ehlo("tester")
    assert client.has_extn("enhancedstatuscodes") and client.has_extn("vrfy")
    client.mail("alice@qq.com")
    client.rcpt("bob@163.com")
    assert client.data(b"Subject: x\r\n\r\nhi\r\n") == (250, b"2.0.0 Ok: queued as 638C350001")
    assert server.accepted[0].queue_id == "638C350001" and ids.next() == "638C350002"
