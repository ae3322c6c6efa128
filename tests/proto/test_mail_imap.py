"""The IMAP server has RFC 3501's mandatory set and advertises nothing else (issue 20),
judged by real clients over a fake socket: the standard library's imaplib, and
IMAPClient, which reads ENVELOPE, BODYSTRUCTURE, SEARCH, STATUS and LIST for its user as
a mail program does."""

import base64
import datetime
import imaplib
from email.message import EmailMessage

import pytest

from netsim.proto.mail import ImapServerSession, MailStore
from netsim.proto.mail.imap import CAPABILITIES
from tests.proto.test_mail import MESSAGE, imaplib_client, sent, started, store_with_mail

imapclient = pytest.importorskip("imapclient")

PDF = bytes(range(256)) * 4


def multipart() -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"] = "Alice <alice@qq.com>", "bob@163.com"
    msg["Subject"], msg["Date"] = "Dinner on Friday?", "Tue, 02 Jan 2024 10:00:00 +0800"
    msg.set_content("Hi Bob,\n\nAre you free?\n")
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="menu.pdf")
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def mailbox() -> MailStore:
    """bob's INBOX: two plain messages (UIDs 1, 2) and the multipart one (UID 3, a day on)."""
    store = store_with_mail(2)
    store.deliver("bob", multipart(), 86_400.0)
    return store


class Client(imapclient.IMAPClient):
    """IMAPClient over the fake socket of :func:`imaplib_client`."""

    def __init__(self, server):
        self._server = server
        super().__init__("mail.163.com", ssl=False)

    def _create_IMAP4(self):
        return imaplib_client(self._server)

    def _set_read_timeout(self):
        pass


def logged_in(store, folder="INBOX"):
    client = Client(ImapServerSession(store, "mail.163.com"))
    client.login("bob", "secret")
    if folder:
        client.select_folder(folder)
    return client


# -- what it says it has ----------------------------------------------------------------------

def test_it_advertises_what_it_has_and_has_what_a_mail_client_sends():
    store = mailbox()
    client = Client(ImapServerSession(store, "mail.163.com"))
    assert client.capabilities() == (b"IMAP4REV1", b"LITERAL+", b"CHILDREN", b"MOVE",
                                     b"UNSELECT", b"AUTH=PLAIN")
    client.login("bob", "secret")
    assert client.capabilities() == tuple(CAPABILITIES.upper().encode().split())
    # RFC 3501's commands, each answered (never BAD: before, UID, SEARCH, STATUS, CHECK
    # and LSUB were "Unknown command").
    server = started(ImapServerSession(store, "m"))
    commands = [b"CAPABILITY", b"NOOP", b"LOGIN bob secret", b'LIST "" *', b'LSUB "" *',
                b"STATUS INBOX (MESSAGES)", b"CREATE Archive", b"SUBSCRIBE Archive",
                b"UNSUBSCRIBE Archive", b"RENAME Archive Old", b"DELETE Old",
                b"APPEND INBOX {5+}\r\nhello", b"EXAMINE INBOX", b"SELECT INBOX", b"CHECK",
                b"SEARCH ALL", b"FETCH 1 (FLAGS)", b"STORE 1 +FLAGS (\\Seen)", b"COPY 1 INBOX",
                b"UID SEARCH ALL", b"UID FETCH 1 FLAGS", b"UID STORE 1 -FLAGS (\\Seen)",
                b"UID COPY 1 INBOX", b"MOVE 4 INBOX", b"UID MOVE 5 INBOX", b"EXPUNGE",
                b"UNSELECT", b"SELECT INBOX", b"CLOSE", b"LOGOUT"]
    for i, command in enumerate(commands):
        server.receive(b"t%d " % i + command + b"\r\n", 0.0)
        answer = sent(server).split(b"\r\n")
        assert any(line.startswith(b"t%d OK " % i) for line in answer), (command, answer)


def test_authenticate_plain_with_imaplib_and_a_cancel():
    client = imaplib_client(ImapServerSession(mailbox(), "m"))
    token = b"\0bob\0secret"
    assert client.authenticate("PLAIN", lambda _challenge: token)[0] == "OK"
    assert client.select("INBOX") == ("OK", [b"3"])
    server = started(ImapServerSession(mailbox(), "m"))
    server.receive(b"a AUTHENTICATE PLAIN\r\n", 0.0)
    assert sent(server) == b"+ \r\n"
    server.receive(b"*\r\n", 0.0)
    assert sent(server) == b"a BAD Authentication aborted by client.\r\n"
    server.receive(b"b AUTHENTICATE PLAIN " + base64.b64encode(b"\0bob\0wrong") + b"\r\n", 0.0)
    assert sent(server) == b"b NO [AUTHENTICATIONFAILED] invalid credentials\r\n"


# -- APPEND: the continuation and LITERAL+ (RFC 3501 §7.5, RFC 7888) --------------------------

def test_imaplib_appends_after_the_continuation_with_flags_and_a_date():
    store = mailbox()
    client = imaplib_client(ImapServerSession(store, "m"))
    client.login("bob", "secret")
    client.select("INBOX")
    when = imaplib.Time2Internaldate(datetime.datetime(2024, 3, 1, 12, 0,
                                                       tzinfo=datetime.timezone.utc))
    big = MESSAGE + b"x" * 70 + b"\r\n" * 2000                  # past the 8 KiB command literal
    assert client.append("INBOX", "(\\Seen \\Flagged)", when, big) == \
        ("OK", [b"APPEND completed"])
    assert client.response("EXISTS")[1][-1] == b"4"            # its own folder: told at once
    (added,) = store.folder("bob", "INBOX").messages[3:]
    assert added.data == big and added.uid == 4
    assert added.flags == {"\\Seen", "\\Flagged", "\\Recent"}
    typ, data = client.fetch("4", "(INTERNALDATE)")
    assert imaplib.Internaldate2tuple(data[0])[:5] == (2024, 3, 1, 12, 0)
    typ, data = client.append("Nope", None, None, MESSAGE)
    assert typ == "NO" and data[0].startswith(b"[TRYCREATE]")


def test_a_non_synchronizing_literal_gets_no_continuation():
    server = started(ImapServerSession(mailbox(), "m"))
    server.receive(b"a LOGIN {3+}\r\nbob {6+}\r\nsecret\r\nb APPEND INBOX (\\Draft) {7+}\r\n"
                   b"Hi\r\nyou\r\n", 0.0)
    answer = sent(server)
    assert not any(line.startswith(b"+") for line in answer.split(b"\r\n"))
    assert answer.endswith(b"b OK APPEND completed\r\n")
    server.receive(b"c APPEND INBOX {7}\r\n", 0.0)
    assert sent(server) == b"+ OK\r\n"


# -- SEARCH (§6.4.4) -----------------------------------------------------------------------------

@pytest.mark.parametrize("criteria, found", [
    (["ALL"], [1, 2, 3]), (["UNSEEN"], [2, 3]), (["SEEN"], [1]), (["FLAGGED"], [2]),
    (["NOT", "SEEN"], [2, 3]), (["OR", "SEEN", "FLAGGED"], [1, 2]), (["UNFLAGGED"], [1, 3]),
    (["FROM", "ALICE"], [1, 2, 3]), (["FROM", "Alice <"], [3]), (["TO", "bob@"], [1, 2, 3]),
    (["SUBJECT", "hello 1"], [2]), (["SUBJECT", "friday"], [3]), (["BODY", "free"], [3]),
    (["TEXT", "menu.pdf"], [3]), (["HEADER", "Message-ID", "<1@"], [1, 2]),
    (["SINCE", datetime.date(2024, 1, 2)], [3]), (["BEFORE", datetime.date(2024, 1, 2)], [1, 2]),
    (["ON", datetime.date(2024, 1, 1)], [1, 2]), (["SENTON", datetime.date(2024, 1, 2)], [3]),
    (["LARGER", 1000], [3]), (["SMALLER", 1000], [1, 2]), (["UID", "2:*"], [2, 3]),
    (["2:3", "UNSEEN"], [2, 3]), (["1,3"], [1, 3]), (["NEW"], []), (["OLD"], [1, 2, 3]),
    (["KEYWORD", "$Junk"], []), ([["SEEN", "FLAGGED"]], []), (["NOT", ["SEEN"]], [2, 3]),
])
def test_imapclient_searches(criteria, found):
    store = mailbox()
    inbox = store.folder("bob", "INBOX").messages
    inbox[0].flags.add("\\Seen")
    inbox[1].flags.add("\\Flagged")
    client = logged_in(store)
    client.use_uid = False
    assert client.search(criteria) == found
    client.use_uid = True                                   # UID SEARCH: the same, as UIDs
    assert client.search(criteria) == found


def test_search_with_a_charset_and_one_it_has_not():
    client = imaplib_client(ImapServerSession(mailbox(), "m"))
    client.login("bob", "secret")
    client.select("INBOX")
    assert client.search("UTF-8", "SUBJECT", "hello") == ("OK", [b"1 2"])
    typ, data = client.search("KOI8-R", "ALL")
    assert typ == "NO" and data[0].startswith(b"[BADCHARSET (US-ASCII UTF-8)]")


def test_search_keys_from_a_peer_are_bounded():
    server = started(ImapServerSession(mailbox(), "m"))
    server.receive(b"a LOGIN bob secret\r\nb SELECT INBOX\r\n", 0.0)
    sent(server)
    server.receive(b"c SEARCH " + b"NOT " * 2000 + b"ALL\r\nd SEARCH UID 1:4294967295\r\n"
                   b"e SEARCH FROB\r\nf SEARCH SINCE 31-Feb-2024\r\n", 0.0)
    assert sent(server) == (b"c BAD Error in IMAP command SEARCH: Search query too deep\r\n"
                            b"* SEARCH 1 2 3\r\nd OK SEARCH completed\r\n"
                            b"e BAD Error in IMAP command SEARCH: Unknown argument FROB\r\n"
                            b"f BAD Error in IMAP command SEARCH: Invalid search date\r\n")


# -- FETCH (§6.4.5, §7.4.2) ----------------------------------------------------------------------

def test_imapclient_reads_headers_parts_and_partials_and_peeks_set_no_seen():
    store = mailbox()
    client = logged_in(store)
    wanted = ["BODY.PEEK[HEADER.FIELDS (From Subject)]", "BODY.PEEK[HEADER.FIELDS.NOT (To)]",
              "BODY.PEEK[]<0.18>", "BODY.PEEK[TEXT]", "BODY.PEEK[HEADER]", "RFC822.SIZE",
              "INTERNALDATE", "ENVELOPE"]
    got = client.fetch([1], wanted)[1]
    assert got[b"BODY[HEADER.FIELDS (FROM SUBJECT)]"] == \
        b"From: alice@qq.com\r\nSubject: hello 0\r\n\r\n"
    assert got[b"BODY[HEADER.FIELDS.NOT (TO)]"] == \
        b"From: alice@qq.com\r\nSubject: hello 0\r\nMessage-ID: <1@qq.com>\r\n\r\n"
    assert got[b"BODY[]<0>"] == MESSAGE[:18]
    data = MESSAGE.replace(b"hello", b"hello 0")
    assert got[b"BODY[HEADER]"] + got[b"BODY[TEXT]"] == data
    assert got[b"RFC822.SIZE"] == len(data) and got[b"INTERNALDATE"] == datetime.datetime(2024, 1, 1)
    assert got[b"ENVELOPE"].subject == b"hello 0" and got[b"ENVELOPE"].message_id == b"<1@qq.com>"
    assert client.get_flags([1]) == {1: ()}                  # PEEK: still unseen
    assert client.fetch([1], ["BODY[]<100.1000>"])[1][b"BODY[]<100>"] == data[100:]
    assert client.get_flags([1]) == {1: (b"\\Seen",)}        # BODY[]: seen (§6.4.5)


def test_bodystructure_of_a_single_part_and_a_multipart_message_with_its_parts():
    store = mailbox()
    client = logged_in(store)
    got = client.fetch([1, 3], ["BODYSTRUCTURE", "BODY"])
    single = got[1][b"BODYSTRUCTURE"]
    body = MESSAGE.split(b"\r\n\r\n", 1)[1]
    assert single[:8] == (b"text", b"plain", (b"charset", b"us-ascii"), None, None, b"7bit",
                          len(body), body.count(b"\n"))
    structure = got[3][b"BODYSTRUCTURE"]
    assert structure.is_multipart
    (text, pdf), subtype = structure[0], structure[1]
    assert subtype == b"mixed" and text[:2] == (b"text", b"plain") and text[6] == 26
    assert pdf[:3] == (b"application", b"pdf", None) and pdf[5] == b"base64"
    assert pdf[8] == (b"attachment", (b"filename", b"menu.pdf"))   # what a client lists
    assert got[3][b"BODY"][0][1][:6] == pdf[:6]                  # BODY: no extension data
    parts = client.fetch([3], ["BODY.PEEK[1]", "BODY.PEEK[2]", "BODY.PEEK[2.MIME]",
                               "BODY.PEEK[3]"])[3]
    assert parts[b"BODY[1]"] == b"Hi Bob,\r\n\r\nAre you free?\r\n"
    assert base64.b64decode(parts[b"BODY[2]"]) == PDF and len(parts[b"BODY[2]"]) == pdf[6]
    assert parts[b"BODY[2.MIME]"].startswith(b"Content-Type: application/pdf\r\n")
    assert parts[b"BODY[3]"] == b""                               # no such part


def test_fetch_items_that_are_not_imap_are_bad_and_touch_nothing():
    store = mailbox()
    server = started(ImapServerSession(store, "m"))
    server.receive(b"a LOGIN bob secret\r\nb SELECT INBOX\r\n", 0.0)
    sent(server)
    for item in (b"(BODY[] BODY[MIME])", b"BODY[HEADER.FIELDS]", b"BODY[]<0.0>",
                 b"(BODY[] FROB)", b"BODY[1.2.FOO]"):
        server.receive(b"c FETCH 1 " + item + b"\r\n", 0.0)
        assert sent(server).startswith(b"c BAD Error in IMAP command FETCH: "), item
    assert all("\\Seen" not in m.flags for m in store.folder("bob", "INBOX").messages)


# -- STORE, COPY, MOVE, EXPUNGE and the UID forms ------------------------------------------------

def test_store_copy_move_and_expunge_by_uid_with_imaplib():
    store = mailbox()
    client = imaplib_client(ImapServerSession(store, "m"))
    client.login("bob", "secret")
    client.create("Archive")
    client.select("INBOX")
    typ, data = client.uid("STORE", "2:*", "+FLAGS", "(\\Flagged)")
    assert typ == "OK" and data == [b"2 (UID 2 FLAGS (\\Flagged))", b"3 (UID 3 FLAGS (\\Flagged))"]
    assert client.uid("STORE", "1", "FLAGS.SILENT", "(\\Deleted \\Recent $Junk)") == ("OK", [None])
    assert store.folder("bob", "INBOX").messages[0].flags == {"\\Deleted"}   # §2.3.2
    assert client.uid("COPY", "3", "Archive")[0] == "OK"
    assert client.uid("FETCH", "9:*", "(FLAGS)") == ("OK", [b"3 (UID 3 FLAGS (\\Flagged))"])
    assert client.uid("MOVE", "2", "Archive")[0] == "OK"
    assert client.expunge() == ("OK", [b"2", b"1"])            # MOVE's expunge (RFC 6851), then 1
    assert [m.uid for m in store.folder("bob", "INBOX").messages] == [3]
    assert [m.uid for m in store.folder("bob", "Archive").messages] == [1, 2]
    assert client.check() == ("OK", [b"CHECK completed"])
    assert client.unselect()[0] == "OK" and client.state == "AUTH"


# -- folders (§6.3) ------------------------------------------------------------------------------

def test_imapclient_manages_folders_and_subscriptions():
    store = mailbox()
    client = logged_in(store, folder=None)
    client.create_folder("Archive/2024")                        # and its superior (§6.3.3)
    assert [(f[0], f[2]) for f in client.list_folders()] == [
        ((b"\\HasNoChildren",), "INBOX"), ((b"\\HasChildren",), "Archive"),
        ((b"\\HasNoChildren",), "Archive/2024")]
    assert [f[2] for f in client.list_folders(pattern="%")] == ["INBOX", "Archive"]
    assert [f[2] for f in client.list_folders(pattern="inbox")] == ["INBOX"]
    client.subscribe_folder("Archive")
    assert [f[2] for f in client.list_sub_folders()] == ["INBOX", "Archive"]
    client.unsubscribe_folder("Archive")
    assert [f[2] for f in client.list_sub_folders()] == ["INBOX"]
    assert client.folder_status("INBOX", ["MESSAGES", "UNSEEN", "UIDNEXT", "UIDVALIDITY",
                                          "RECENT"]) == {
        b"MESSAGES": 3, b"UNSEEN": 3, b"UIDNEXT": 4, b"UIDVALIDITY": 1, b"RECENT": 3}
    validity = store.folder("bob", "Archive/2024").uidvalidity
    client.rename_folder("Archive", "Old")
    assert [f[2] for f in client.list_folders()] == ["INBOX", "Old", "Old/2024"]
    assert store.folder("bob", "Old/2024").uidvalidity != validity     # §2.3.1.1
    with pytest.raises(imapclient.exceptions.IMAPClientError, match="has children"):
        client.delete_folder("Old")
    client.delete_folder("Old/2024")
    client.delete_folder("Old")
    with pytest.raises(imapclient.exceptions.IMAPClientError, match="INBOX can't be deleted"):
        client.delete_folder("INBOX")
    client.rename_folder("INBOX", "Saved")                       # §6.3.5: INBOX stays, empty
    assert client.folder_status("INBOX", ["MESSAGES"]) == {b"MESSAGES": 0}
    assert client.folder_status("Saved", ["MESSAGES"]) == {b"MESSAGES": 3}


def test_a_folder_deleted_under_another_session_ends_it_as_dovecot_does():
    store = mailbox()
    store.create("bob", "Work")
    reader = started(ImapServerSession(store, "m"))
    reader.receive(b"a LOGIN bob secret\r\nb SELECT Work\r\n", 0.0)
    sent(reader)
    other = started(ImapServerSession(store, "m"))
    other.receive(b"a LOGIN bob secret\r\nb DELETE Work\r\n", 0.0)
    assert sent(other).endswith(b"b OK DELETE completed\r\n")
    reader.receive(b"c NOOP\r\n", 0.0)
    assert sent(reader) == b"* BYE Selected mailbox was deleted, have to disconnect.\r\n"
    assert reader.closed


# -- what a mail client sends to read a folder --------------------------------------------------

def test_a_mail_client_reads_a_folder_as_thunderbird_does():
    """The commands Thunderbird sends on opening a folder: new mail's flags and headers
    by UID, the structure of the one opened, then its text part alone."""
    store = mailbox()
    client = logged_in(store)
    unseen = client.search(["UNSEEN"])
    assert unseen == [1, 2, 3]
    headers = ("BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID Priority "
               "X-Priority References Newsgroups In-Reply-To Content-Type Reply-To)]")
    listing = client.fetch(unseen, ["UID", "RFC822.SIZE", "FLAGS", headers])
    assert sorted(listing) == [1, 2, 3]
    key = next(k for k in listing[3] if k.startswith(b"BODY[HEADER.FIELDS"))
    assert b"Subject: Dinner on Friday?\r\n" in listing[3][key]
    assert b"Content-Type: multipart/mixed" in listing[3][key]
    structure = client.fetch([3], ["BODYSTRUCTURE"])[3][b"BODYSTRUCTURE"]
    text = client.fetch([3], ["BODY[1]"])[3]
    assert structure.is_multipart and text[b"BODY[1]"].startswith(b"Hi Bob,")
    assert client.get_flags([3]) == {3: (b"\\Seen",)}
    assert client.get_flags([1, 2]) == {1: (), 2: ()}
