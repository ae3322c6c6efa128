"""The mail engines against hostile peers, over a fake wire (issue 19): every case is
bytes a broken or malicious server or client sends, and what the real tool does with
them — swaks for SMTP, fetchmail for POP3, imaplib for IMAP; Postfix and Dovecot on the
server side. None may raise anything but a PeerError, and what they keep is bounded."""

import pytest

from netsim.errors import PeerError
from netsim.proto.mail import (Close, ImapClient, ImapServerSession, MailStore, Pop3Client,
                               Pop3ServerSession, Send, SmtpClient, SmtpServerSession)
from netsim.proto.mail.headers import addresses
from netsim.proto.mail.imap import envelope
from netsim.proto.mail.imap_syntax import parse
from netsim.proto.mail.store import StoredMessage, summary_of
from tests.proto.test_mail import MESSAGE, policy, started, store_with_mail


def outputs(engine):
    out = engine.outputs()
    return b"".join(o.data for o in out if isinstance(o, Send)), [o for o in out if isinstance(o, Close)]


# -- the SMTP client (swaks) ----------------------------------------------------------------

def smtp_client(**kw):
    client = SmtpClient(helo="alice", mail_from="alice@qq.com", recipients=["bob@163.com"],
                        data=MESSAGE, **kw)
    client.start(0.0)
    return client


def test_a_unicode_digit_reply_is_no_reply_and_the_client_times_out_as_swaks_does():
    client = smtp_client()
    client.receive("²²² hello\r\n".encode(), 1.0)           # int('²²²') raised before
    assert client.outputs() == [] and client.get_timer() == 30.0
    client.handle_timer(30.0)
    data, _ = outputs(client)
    assert data == b"QUIT\r\n"
    client.handle_timer(60.0)                                # no answer to QUIT either
    _, closes = outputs(client)
    assert closes and client.done.error.text == "Timeout (30 secs) waiting for server response"
    assert client.transcript[:2] == [("E", "²²² hello"),
                                     ("E", "Timeout (30 secs) waiting for server response")]


def test_a_reply_without_crlf_is_waited_for_until_the_timeout():
    client = smtp_client()
    client.receive(b"220 mail.163.com ESMTP", 0.5)
    assert client.outputs() == []
    client.handle_timer(30.0)
    assert outputs(client)[0] == b"QUIT\r\n"


def test_a_greeting_of_554_is_marked_and_answered_with_quit():
    client = smtp_client()
    client.receive(b"554 5.7.1 mail.163.com: go away\r\n", 0.1)
    assert outputs(client)[0] == b"QUIT\r\n"
    client.receive(b"221 2.0.0 Bye\r\n", 0.2)
    assert client.done.error.code == 554 and client.done.delivered == ()
    assert client.transcript[0] == ("E", "554 5.7.1 mail.163.com: go away")    # swaks's <**
    assert client.transcript[-1] == ("S", "221 2.0.0 Bye")


def test_a_100_kb_line_and_an_endless_multi_line_reply_are_kept_bounded():
    client = smtp_client()
    client.receive(b"220 " + b"x" * 100_000 + b"\r\n", 0.1)
    assert outputs(client)[0] == b"EHLO alice\r\n"
    assert all(len(line) <= 101 for _mark, line in client.transcript)
    for _ in range(50):
        client.receive(b"250-" + b"y" * 2000 + b"\r\n" * 1 + b"250-more\r\n" * 200, 0.2)
    assert len(client._reply_lines) <= 100 and all(len(t) <= 512 for t in client._reply_lines)
    client.handle_timer(30.1)                                 # the reply never ended
    assert client.transcript[-1] == ("C", "QUIT")


def test_the_connection_lost_mid_session_is_swaks_s_words():
    client = smtp_client()
    client.receive(b"220 hi\r\n", 0.1)
    client.outputs()
    client.connection_lost(0.2)
    assert client.done.error.text == "Remote host closed connection unexpectedly."
    assert client.transcript[-1] == ("!", "Remote host closed connection unexpectedly.")
    assert client.lost and client.get_timer() is None


def test_replies_after_the_session_are_ignored():
    client = smtp_client()
    client.receive(b"220 hi\r\n", 0.0)
    client._step = "quit"
    client.receive(b"221 bye\r\n250 unsolicited\r\n554 more\r\n", 0.1)
    assert client.done.error is None and client.transcript[-1] == ("S", "221 bye")


# -- the SMTP server (Postfix) ----------------------------------------------------------------

@pytest.mark.parametrize("size, reply", [("²", b"501 5.5.4 Bad message size syntax"),
                                         ("9" * 5000, b"552 5.3.4 Message size exceeds fixed limit"),
                                         ("+5", b"501 5.5.4 Bad message size syntax")])
def test_a_size_parameter_that_is_no_number_is_refused(size, reply):
    server = started(SmtpServerSession(policy(), "10.9.9.9"))
    server.receive(b"EHLO x\r\nMAIL FROM:<a@b> SIZE=" + size.encode() + b"\r\n", 0.0)
    assert outputs(server)[0].endswith(reply + b"\r\n")            # int() raised before


def test_a_long_line_arriving_whole_is_too_long_and_its_tail_no_command():
    # Answered where it stood: the reply to the line after it came first before.
    too_long = b"500 5.5.2 mail.163.com Error: command too long\r\n"
    server = started(SmtpServerSession(policy(), "10.9.9.9"))
    server.receive(b"MAIL " + b"x" * 20_000 + b"\r\nNOOP\r\n", 0.0)
    assert outputs(server)[0] == too_long + b"250 2.0.0 Ok\r\n"
    server.receive(b"NOOP " + b"y" * 10_000, 0.0)                   # in pieces
    server.receive(b"y" * 10_000 + b" QUIT\r\nNOOP\r\n", 0.0)
    assert outputs(server)[0] == too_long + b"250 2.0.0 Ok\r\n"


def test_message_text_past_the_size_limit_is_dropped_as_it_comes():
    server = started(SmtpServerSession(policy(max_size=1000), "10.9.9.9"))
    server.receive(b"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<bob@163.com>\r\nDATA\r\n", 0.0)
    server.outputs()
    for _ in range(100):
        server.receive(b"z" * 900 + b"\r\n", 0.0)
    assert sum(len(line) for line in server._data) <= 1000
    server.receive(b".\r\n", 0.0)
    assert outputs(server)[0] == b"552 5.3.4 Error: message file too big\r\n"     # Postfix's
    assert not server.accepted


# -- the POP3 client (fetchmail) --------------------------------------------------------------

def pop3_after_stat(stat: bytes):
    client = Pop3Client("bob", "secret", server="mail.163.com")
    client.start(0.0)
    for line in (b"+OK ready\r\n", b"+OK send PASS\r\n", b"+OK maildrop\r\n"):
        client.receive(line, 0.0)
        client.outputs()
    client.receive(stat, 0.0)
    return client


PROTOCOL = "client/server protocol error while fetching from bob@mail.163.com"


@pytest.mark.parametrize("stat, report", [
    (b"+OK -1 0\r\n", "bogus message count!"),
    (b"+OK 99999999999 5\r\n", "bogus message count!"),
    (b"+OK " + b"9" * 5000 + b" 5\r\n", "bogus message count!"),
    ("+OK ²² 5\r\n".encode(), None),
    (b"+OK lots\r\n", None),
])
def test_a_stat_fetchmail_cannot_use_is_a_protocol_error_and_then_quit(stat, report):
    client = pop3_after_stat(stat)
    assert outputs(client)[0] == b"QUIT\r\n"
    notes = [line for mark, line in client.transcript if mark == "!"]
    assert notes == ([report] if report else []) + [PROTOCOL]
    client.receive(b"+OK bye\r\n", 0.0)
    assert client.finished and client.error == PROTOCOL


@pytest.mark.parametrize("line", ["²² abc", "9" * 5000 + " abc", "1", "x y"])
def test_a_uidl_line_fetchmail_cannot_read(line):
    client = pop3_after_stat(b"+OK 1 10\r\n")
    client.outputs()
    client.receive(b"+OK\r\n" + line.encode() + b"\r\n.\r\n", 0.0)    # int() raised before
    assert outputs(client)[0] == b"QUIT\r\n"
    assert ("!", "Cannot handle UIDL response from upstream server.") in client.transcript
    assert client.error == PROTOCOL


def test_more_uidl_lines_than_messages_is_refused():
    client = pop3_after_stat(b"+OK 1 10\r\n")
    client.outputs()
    client.receive(b"+OK\r\n" + b"".join(b"%d u%d\r\n" % (n, n) for n in range(1, 5)) + b".\r\n", 0.0)
    assert client.error == PROTOCOL and outputs(client)[0] == b"QUIT\r\n"


def test_an_endless_message_then_silence_times_out_as_fetchmail_does():
    client = pop3_after_stat(b"+OK 1 10\r\n")
    client.outputs()
    client.receive(b"+OK\r\n1 u1\r\n.\r\n", 1.0)
    assert outputs(client)[0] == b"RETR 1\r\n"
    client.receive(b"+OK 10 octets\r\n" + b"line\r\n" * 1000, 2.0)      # and no "."
    assert client.get_timer() == 302.0
    client.handle_timer(302.0)
    _, closes = outputs(client)
    assert closes and client.finished
    assert client.error == "timeout after 300 seconds waiting for server mail.163.com."


def test_a_reply_that_is_neither_ok_nor_err_and_a_server_gone():
    client = pop3_after_stat(b"hello there\r\n")
    assert client.error == PROTOCOL and outputs(client)[0] == b"QUIT\r\n"
    client.connection_lost(0.1)              # no answer to QUIT: the first error stands
    assert client.error == PROTOCOL and client.finished
    other = pop3_after_stat(b"+OK 0 0\r\n")
    other.connection_lost(0.1)
    assert other.error == "socket error while fetching from bob@mail.163.com"


def test_a_wrong_password_does_not_leak_into_the_error():
    client = Pop3Client("bob", "s3cret", server="m")
    client.start(0.0)
    for line in (b"+OK ready\r\n", b"+OK send PASS\r\n", b"-ERR [AUTH] invalid\r\n"):
        client.receive(line, 0.0)
    assert client.error == "authorization failure on bob@m"
    assert "s3cret" not in repr(client.transcript)


# -- the POP3 server (Dovecot) ------------------------------------------------------------------

@pytest.mark.parametrize("command, reply", [
    (b"RETR \xc2\xb2", b"-ERR no such message"), (b"LIST " + b"9" * 400, b"-ERR no such message"),
    (b"TOP 1 \xc2\xb2", b"-ERR usage: TOP msg n"), (b"TOP 1 " + b"9" * 400, b"-ERR usage: TOP msg n"),
    (b"\xc2\xb2\xc2\xb2", b"-ERR Unknown command."),
])
def test_pop3_numbers_that_are_no_numbers(command, reply):
    server = started(Pop3ServerSession(store_with_mail(), "m"))
    server.receive(b"USER bob\r\nPASS secret\r\n" + command + b"\r\n", 0.0)
    assert outputs(server)[0].endswith(reply + b"\r\n")                 # int() raised before


def test_pop3_a_long_line_ends_the_session_and_junk_is_counted():
    server = started(Pop3ServerSession(store_with_mail(), "m"))
    server.receive(b"USER bob\r\nPASS secret\r\n" + b"A" * 600 + b"\r\n", 0.0)
    data, closes = outputs(server)
    assert data.endswith(b"-ERR Input line too long.\r\n") and closes
    assert "bob" not in server.store.locks
    server = started(Pop3ServerSession(store_with_mail(), "m"))
    server.receive(b"FROB\r\n" * 25, 0.0)
    data, closes = outputs(server)
    assert data.count(b"-ERR Unknown command: FROB") == 20
    assert data.endswith(b"-ERR Too many bad commands.\r\n") and closes


# -- the IMAP server (Dovecot) ------------------------------------------------------------------

def test_login_with_three_thousand_parentheses_is_bad_not_a_recursion_error():
    server = started(ImapServerSession(store_with_mail(), "m"))
    server.receive(b"a1 LOGIN " + b"(" * 3000 + b"\r\n", 0.0)
    assert outputs(server)[0] == b"a1 BAD Too many '('\r\n"
    server.receive(b"a2 LOGIN bob secret\r\n", 0.0)
    assert b"a2 OK" in outputs(server)[0]
    server.receive(b"a3 FETCH 1 " + b"(" * 3000 + b"FLAGS" + b")" * 3000 + b"\r\n", 0.0)
    assert outputs(server)[0] == b"a3 BAD Error in IMAP command FETCH: Too many '('\r\n"


def test_three_bad_commands_before_login_end_the_session():
    server = started(ImapServerSession(store_with_mail(), "m"))
    server.receive(b"a FROB\r\nb FROB\r\nc FROB\r\nd LOGIN bob secret\r\n", 0.0)
    data, closes = outputs(server)
    assert data.endswith(b"* BYE Too many invalid IMAP commands.\r\n") and closes
    assert b"d OK" not in data


def test_literals_get_a_continuation_and_a_huge_one_ends_the_session():
    server = started(ImapServerSession(store_with_mail(), "m"))
    server.receive(b"a LOGIN {3}\r\n", 0.0)
    assert outputs(server)[0] == b"+ OK\r\n"
    server.receive(b"bob secret\r\n", 0.0)
    assert b"a OK" in outputs(server)[0]
    server.receive(b"b LOGIN {999999999999999}\r\n", 0.0)
    data, closes = outputs(server)
    assert data == b"* BYE Literal size too large\r\n" and closes


def test_a_long_command_line_is_bad_and_the_next_one_served():
    server = started(ImapServerSession(store_with_mail(), "m"))
    server.receive(b"a NOOP " + b"x" * 20_000 + b"\r\nb NOOP\r\n", 0.0)
    assert outputs(server)[0] == b"* BAD IMAP command line too large\r\nb OK NOOP completed\r\n"


@pytest.mark.parametrize("command", [b"c FETCH \xc2\xb2 FLAGS", b"c FETCH 1", b"c STORE 1 +FLAGS",
                                     b"c FETCH 1 (FLAGS (X))", b"c SELECT (a)", b"c COPY 1",
                                     b"c FETCH 1:" + b"9" * 5000 + b" FLAGS", b"c CREATE"])
def test_imap_arguments_of_the_wrong_shape_are_bad(command):
    server = started(ImapServerSession(store_with_mail(), "m"))
    server.receive(b"a LOGIN bob secret\r\nb SELECT INBOX\r\n", 0.0)
    server.outputs()
    server.receive(command + b"\r\n", 0.0)
    assert outputs(server)[0].startswith(b"c BAD Error in IMAP command ")


# -- the IMAP client (imaplib) ------------------------------------------------------------------

def imap_client(greeting=b"* OK ready\r\n"):
    client = ImapClient("bob", "secret", ["headers"])
    client.start(0.0)
    client.receive(greeting, 0.0)
    client.outputs()
    return client


@pytest.mark.parametrize("response, message", [
    (b"\xc2\xb2\xc2\xb2\xc2\xb2 hello\r\n", "unexpected response: '²²² hello'"),
    (b"A999 OK done\r\n", "unexpected tagged response: 'A999 OK done'"),
    (b"* 1 FETCH (BODY[] {99999999999}\r\n", f"got more than {64 << 20} bytes"),
    (b"* " + b"x" * 1_100_000 + b"\r\n", "got more than 1000000 bytes"),
])
def test_responses_imaplib_aborts_on(response, message):
    client = imap_client()
    with pytest.raises(PeerError) as info:
        client.receive(response, 1.0)
    assert info.value.message == message


@pytest.mark.parametrize("response", [
    b"* \xc2\xb2\xc2\xb2 FETCH (FLAGS ())", b"* 1 FETCH", b"* 1 FETCH (FLAGS \"x\" ENVELOPE NIL)",
    b"* 1 FETCH (ENVELOPE (NIL (a) ((NIL))))", b"* 1 FETCH (FLAGS (" + b"(" * 3000 + b"))",
    b"* " + b"9" * 5000 + b" EXPUNGE", b"* LIST (x) \"/\" (INBOX)", b"* 1 FETCH (FLAGS ((x)))",
])
def test_untagged_data_of_the_wrong_shape_is_noted_or_passed_over(response):
    client = imap_client()
    client.receive(response + b"\r\n", 1.0)          # int(), [2], sorted() raised before
    assert all(not isinstance(v, list) for m in client.messages.values()
               for k, v in m.items() if k != "flags")
    client.receive(b"A001 OK LOGIN done\r\n", 1.0)
    assert outputs(client)[0] == b"A002 SELECT INBOX\r\n"            # the session goes on


def test_a_greeting_that_is_not_ok_and_a_server_that_goes_silent_or_away():
    client = ImapClient("bob", "secret", [])
    client.start(0.0)
    with pytest.raises(PeerError) as info:
        client.receive(b"* BYE go away\r\n", 0.0)
    assert info.value.message == "* BYE go away"
    client = imap_client()
    client.receive(b"* 1 FETCH (BODY[] {100}\r\npartial", 5.0)
    assert client.get_timer() == 65.0
    with pytest.raises(PeerError) as info:
        client.handle_timer(65.0)
    assert info.value.message == "socket error: timed out"
    with pytest.raises(PeerError) as info:
        imap_client().connection_lost(1.0)
    assert info.value.message == "socket error: EOF"


def test_parse_is_a_loop_not_a_recursion():
    deep = b"(" * 100_000 + b")" * 100_000
    value = parse(deep)
    for _ in range(100_000):
        (value,) = value
    assert value == []
    with pytest.raises(ValueError, match="Too many"):
        parse(b"(((", max_lists=2)


# -- header fields a parser chokes on ------------------------------------------------------------

HOSTILE_FIELDS = [b"x <", b'"', b"a@[", b"=?utf-8?b?!!!?=", b"(" * 3000, b"g:" * 3000,
                  b"<@a,@b:" * 1000, b'"\r\n _' + b"(" * 3000, b"\xff\xfe <"]


@pytest.mark.parametrize("field", HOSTILE_FIELDS)
def test_a_summary_and_an_envelope_read_any_header(field):
    data = (b"From: " + field + b"\r\nTo: " + field + b"\r\nSubject: " + field
            + b"\r\nReceived: " + field + b"\r\n\r\nbody\r\n")
    summary = summary_of(StoredMessage(1, data, 0.0))       # IndexError, RecursionError before
    assert isinstance(summary["from"], str) and len(summary["received"]) == 1
    assert parse(envelope(data))


def test_addresses_read_as_mail_programs_read_them():
    assert addresses(["Alice (work (really)) <alice@qq.com>, bob@163.com"]) == \
        [("Alice", "alice@qq.com"), ("", "bob@163.com")]
    assert addresses(['friends: "B, b" <b@x>, c@d;', "<@a,@b:x@y>"]) == \
        [("B, b", "b@x"), ("", "c@d"), ("", "x@y")]
