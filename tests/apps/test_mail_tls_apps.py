"""Mail over TLS on the network (issue 21): the bundled mail-tls scenario — submission on
465, the relay's opportunistic STARTTLS, IMAPS, POP3 with STLS, IMAP with STARTTLS —
decrypted by tshark with the run's key log, no password in any frame, and each client's
certificate failures worded as its real tool words them."""

import base64
import os
import subprocess

import pytest

from netsim import load_scenario, parse_scenario, run_scenario
from tests.conftest import SCENARIOS, require_tshark

TEXT = (SCENARIOS / "mail-tls.yaml").read_text()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return run_scenario(load_scenario(SCENARIOS / "mail-tls.yaml"), tmp_path_factory.mktemp("tls"))


def app(result, name, node=None):
    return next(a for a in result.network.apps if a.name == name and (node is None or a.node.name == node))


def decrypted(pcap, keys, *fields, display_filter=None) -> list[list[str]]:
    """tshark's fields with the run's key log (tls.keylog_file), as the README says."""
    cmd = [require_tshark(), "-n", "-o", f"tls.keylog_file:{keys}", "-o", "smtp.decryption:TRUE",
           "-r", str(pcap), "-T", "fields", "-E", "separator=\t"]
    for field in fields:
        cmd += ["-e", field]
    if display_filter:
        cmd += ["-Y", display_filter]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                         env={**os.environ, "LC_ALL": "C"}).stdout
    return [line.split("\t") for line in out.splitlines()]


def test_the_message_arrives_intact_and_its_received_lines_say_how_it_came(run):
    sent = app(run, "mail-send")
    result = sent.result()
    assert result["port"] == 465 and result["tls"]["version"] == "TLSv1.3"
    (arrived,) = result["arrived"]
    assert arrived["intact"]
    relayed, submitted = arrived["received"]
    # RFC 3848: the relay hop inside TLS (S), alice's submission inside TLS and with AUTH.
    assert "by mail.163.com (netsim) with ESMTPS id" in relayed
    assert "by mail.qq.com (netsim) with ESMTPSA id" in submitted


def test_swaks_marks_what_went_inside_tls(run):
    lines = app(run, "mail-send").lines
    assert lines[2:5] == ["=== TLS started with cipher TLSv1.3:TLS_AES_256_GCM_SHA384:256",
                          "=== TLS no local certificate set", '=== TLS peer DN="/CN=mail.qq.com"']
    assert lines[5].startswith("<~   220 mail.qq.com") and " ~>  AUTH PLAIN ********" in lines
    assert not any(line.startswith((" ->", "<- ")) for line in lines)


def test_the_servers_log_the_tls_connections_as_postfix_does(run):
    qq = "\n".join(app(run, "mail-server", "mailqq").lines)
    assert "Anonymous TLS connection established from alice[10.1.0.100]: TLSv1.3 with cipher " \
           "TLS_AES_256_GCM_SHA384 (256/256 bits)" in qq
    assert "Untrusted TLS connection established to mail.163.com[10.3.0.25]:25: TLSv1.3" in qq
    desktop_pop = app(run, "pop3-fetch", "bob-desktop")
    # The cleartext POP3 of mail-relay: refused before any password was sent.
    assert desktop_pop.error == "authorization failure on bob@mail.163.com"
    assert "<-  -ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) " \
           "connections." in desktop_pop.lines and "->  PASS ********" not in desktop_pop.lines


def test_the_readers_each_got_the_mail_inside_tls(run):
    laptop, phone = app(run, "pop3-fetch", "bob-laptop"), app(run, "imap-client", "bob-phone")
    desktop = app(run, "imap-client", "bob-desktop")
    assert laptop.result()["port"] == 110 and len(laptop.result()["messages"]) == 1
    assert "=== mail.163.com: upgrade to TLS succeeded." in laptop.lines
    assert phone.result()["port"] == 993 and phone.result()["messages"]["1"]["flags"] == \
        ["\\Flagged", "\\Seen"]
    assert desktop.result()["port"] == 143 and "C:  A001 STARTTLS" in desktop.lines
    for reader in (laptop, phone, desktop):
        assert reader.error is None and reader.result()["tls"]["version"] == "TLSv1.3"


def test_no_password_and_no_message_text_crosses_in_the_clear(run):
    secrets = [base64.b64encode(b"\0alice\0alice-pw"), b"alice-pw", b"bob-pw", b"Dinner on Friday"]
    trace = run.trace
    wire = b"".join(trace.frame_bytes(i) for i in range(trace.frame_count))
    for secret in secrets:
        assert secret not in wire, secret
    assert b"STARTTLS" in wire and b"+OK Begin TLS negotiation now." in wire


def test_tshark_decrypts_every_connection_with_the_key_log(run):
    keys = run.outdir / "keys.log"
    assert keys.exists()
    seen = set()
    for pcap in sorted((run.outdir / "pcap").glob("*.pcap")):
        for (protocols,) in decrypted(pcap, keys, "frame.protocols"):
            seen.update(protocols.split(":"))
            assert "_ws.malformed" not in protocols, pcap.name
    assert {"tls", "smtp", "imf", "imap", "pop"} <= seen
    # Inside alice's TLS on 465: her AUTH PLAIN, decrypted.
    rows = decrypted(run.outdir / "pcap" / "alice-swqq.pcap", keys, "smtp.req.command",
                     display_filter="smtp.req")
    assert ["AUTH"] in rows and ["MAIL"] in rows


# -- failures, as the tools word them ---------------------------------------------------------

TWO = """
name: t
seed: 3
until: 20s
nodes:
  a: {kind: host, ip: 10.0.0.1/24}
  m: {kind: host, ip: 10.0.0.25/24}
links: [{endpoints: [a, m], delay: 2ms}]
apps:
  - {node: m, run: mail-server, domain: 163.com, users: {bob: pw}%s}
%s
"""


def two(tmp_path, clients, server_tls=", tls: {fault: unknown-ca}"):
    return run_scenario(parse_scenario(TWO % (server_tls, clients)), tmp_path / "o")


def test_a_refused_certificate_in_each_tool_s_words(tmp_path):
    result = two(tmp_path, """
  - {node: a, at: 1s, run: mail-send, from: bob@163.com, to: bob@163.com, server: m,
     password: pw, tls: true}
  - {node: a, at: 2s, run: mail-send, from: bob@163.com, to: bob@163.com, server: m,
     password: pw, port: 587, tls: true}
  - {node: a, at: 3s, run: pop3-fetch, server: m, user: bob, password: pw, tls: true, port: 110}
  - {node: a, at: 4s, run: imap-client, server: m, user: bob, password: pw, tls: true}
""")
    implicit, starttls = [a for a in result.network.apps if a.name == "mail-send"]
    verify = "TLS startup failed (connect(): error:0A000086:SSL routines::certificate verify failed)"
    assert implicit.error == verify and f"*** {verify}" in implicit.lines
    assert starttls.lines[-2:] == [f"*** {verify}", "*** STARTTLS attempted but failed"]
    assert "<-   220 2.0.0 Ready to start TLS" in starttls.lines
    assert not implicit.result()["arrived"] and implicit.result()["tls"]["error"]
    pop = app(result, "pop3-fetch")
    assert pop.error == "m: upgrade to TLS failed."
    assert "*** Server certificate verification error: unable to get local issuer certificate" \
        in pop.lines
    assert "*** OpenSSL reported: error:0A000086:SSL routines::certificate verify failed" in pop.lines
    imap = app(result, "imap-client")
    assert imap.error == ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to "
                          "get local issuer certificate")
    # The server heard each client's alert; the messages stayed out of the mailbox.
    assert app(result, "mail-server").counts["received"] == 0


def test_starttls_required_but_not_offered_and_verify_false(tmp_path):
    result = two(tmp_path, """
  - {node: a, at: 1s, run: mail-send, from: x@qq.com, to: bob@163.com, server: m, tls: true}
  - {node: a, at: 2s, run: imap-client, server: m, user: bob, password: pw, tls: true, port: 143}
  - {node: a, at: 3s, run: pop3-fetch, server: m, user: bob, password: pw, tls: true, port: 110}
""", server_tls="")
    send = app(result, "mail-send")
    assert "*** Host did not advertise STARTTLS" in send.lines and send.lines[-2] == " ->  QUIT"
    assert app(result, "imap-client").error == "TLS not supported by server"
    assert app(result, "pop3-fetch").error == "m: upgrade to TLS failed."
    # swaks without --tls-verify takes the stranger's certificate (verify: false).
    result = two(tmp_path / "v", """
  - {node: a, at: 1s, run: mail-send, from: x@qq.com, to: bob@163.com, server: m, tls: {verify: false}}
""")
    send = app(result, "mail-send")
    assert send.error is None and send.result()["accepted_for"] == ["bob@163.com"]
    assert '=== TLS peer DN="/CN=m"' not in send.lines          # issued by the unknown CA…
    assert any(line.startswith("=== TLS peer DN=") for line in send.lines)


def test_the_relay_delivers_opportunistically_to_any_certificate(tmp_path):
    """smtp_tls_security_level = may: encrypted, not authenticated — a certificate from an
    unknown CA is no reason to keep the mail; a server without TLS gets it in the clear."""
    text = TEXT.replace("{node: mail163, run: mail-server, domain: 163.com, users: {bob: bob-pw}, "
                        "tls: true}", "{node: mail163, run: mail-server, domain: 163.com, "
                        "users: {bob: bob-pw}, tls: {fault: self-signed}}")
    assert text != TEXT
    result = run_scenario(parse_scenario(text), tmp_path / "a")
    (arrived,) = app(result, "mail-send").result()["arrived"]
    assert "with ESMTPS" in arrived["received"][0]
    text = TEXT.replace("users: {bob: bob-pw}, tls: true}", "users: {bob: bob-pw}}")
    result = run_scenario(parse_scenario(text), tmp_path / "b")
    (arrived,) = app(result, "mail-send").result()["arrived"]
    assert "with ESMTP id" in arrived["received"][0]
    assert "Untrusted TLS" not in "\n".join(app(result, "mail-server", "mailqq").lines)


def test_the_diagram_shows_where_the_cleartext_ends(run):
    """On port 25 the records after STARTTLS are drawn as TLS (not as SMTP text lines of
    binary): the registry's TLS takes SMTP's, POP's and IMAP's connections over."""
    from scapy.utils import RawPcapReader
    from netsim.viz.labels import Labeller
    from netsim.wire.describe import describe
    labeller = Labeller()
    frames = [data for data, _meta in RawPcapReader(str(run.outdir / "pcap" / "mail163-sw163.pcap"))]
    labels = [labeller.label(data) for data in frames]          # every frame, in order
    drawn = [(lab.protocol, lab.text) for data, lab in zip(frames, labels)
             if 25 in (describe(data).sport, describe(data).dport) and lab.kind != "ack"]
    starttls = drawn.index(("SMTP", "220 2.0.0 Ready to start TLS"))
    assert drawn[starttls + 1] == ("TLS", "TLS ClientHello (SNI mail.163.com)")
    after = [p for p, _text in drawn[starttls + 1:]]
    # TLS records, and TCP's own for a record's tail segments and the FINs: no SMTP.
    assert "SMTP" not in after and after.count("TLS") >= 15
