"""Mail on the network: the bundled mail-relay scenario from alice's submission to bob's
three devices, and what goes wrong — unknown users, strangers relaying, a next hop that
is down, a name server that never answers — each ending as a real mail system ends it."""

import pytest

from netsim import load_scenario, parse_scenario, run_scenario
from tests.conftest import SCENARIOS, tshark_fields

TEXT = (SCENARIOS / "mail-relay.yaml").read_text()


def run_text(text, tmp_path, name="m"):
    return run_scenario(parse_scenario(text), tmp_path / name)


@pytest.fixture(scope="module")
def relay(tmp_path_factory):
    return run_scenario(load_scenario(SCENARIOS / "mail-relay.yaml"), tmp_path_factory.mktemp("mail"))


def app(result, name, node=None):
    return next(a for a in result.network.apps if a.name == name and (node is None or a.node.name == node))


def test_the_message_reaches_bob_through_two_servers_intact(relay):
    sent = app(relay, "mail-send").result()
    (arrived,) = sent["arrived"]
    assert arrived["mailbox"] == "bob@163.com/INBOX" and arrived["intact"]
    assert arrived["body_sha256"] == sent["body_sha256"]
    first, second = arrived["received"]            # the newest Received: line is on top
    assert first.startswith("from mail.qq.com") and "by mail.163.com" in first
    # RFC 3848: authenticated (A), not inside TLS (no S).
    assert second.startswith("from alice") and "by mail.qq.com" in second
    assert "with ESMTPA id" in second
    summary = {a["node"]: a for a in relay.summary["apps"] if a["app"] == "mail-server"}
    assert summary["mail163"]["result"]["mailboxes"]["bob"]["INBOX"][0]["received"] == [first, second]


def test_addresses_came_from_dhcp_and_names_from_dns(relay):
    for host in ("alice", "bob-laptop", "bob-phone", "bob-desktop"):
        lease = app(relay, "dhcp-client", host).result()
        assert lease["address"].startswith(("10.1.0.1", "10.3.0.1")) and lease["state"] == "BOUND"
    # alice found her server by the MX of qq.com; qq.com's server found 163.com's by MX.
    sent = app(relay, "mail-send").result()
    assert sent["server"] == "mail.qq.com"
    rows = tshark_fields(relay.outdir / "pcap" / "dnsqq-swqq.pcap", "dns.qry.name", "dns.qry.type",
                         "dns.flags.response", display_filter="dns")
    asked = {(name, qtype) for name, qtype, response in rows if response in ("0", "False")}
    assert {("qq.com", "15"), ("mail.qq.com", "1"), ("163.com", "15"), ("mail.163.com", "1")} <= asked
    rows = tshark_fields(relay.outdir / "pcap" / "root-swcore.pcap", "dns.qry.name", display_filter="dns")
    # The iterative walk began here, asking the root only for "com" (QNAME minimisation,
    # RFC 9156, as Unbound asks).
    assert rows and all(row[0] == "com" for row in rows)


def test_pop3_clients_each_get_their_own_copy_and_imap_clients_share_state(relay):
    laptop, desktop_pop = app(relay, "pop3-fetch", "bob-laptop"), app(relay, "pop3-fetch", "bob-desktop")
    assert len(laptop.result()["messages"]) == len(desktop_pop.result()["messages"]) == 1
    phone, desktop = app(relay, "imap-client", "bob-phone"), app(relay, "imap-client", "bob-desktop")
    assert phone.result()["messages"]["1"]["flags"] == ["\\Flagged", "\\Seen"]
    # The desktop sees the phone's folder and flags, and downloaded no body: on demand only.
    d = desktop.result()
    assert sorted(d["folders"]) == ["Friends", "INBOX"]
    assert d["messages"]["1"]["flags"] == ["\\Flagged", "\\Seen"]
    assert "body_sha256" not in d["messages"]["1"]
    assert d["bytes_downloaded"] < 2000 < phone.result()["bytes_downloaded"]
    assert laptop.result()["bytes_downloaded"] > 4000


def test_the_tools_print_their_sessions(relay):
    out = "\n".join(app(relay, "mail-send").lines)
    assert " ->  MAIL FROM:<alice@qq.com>" in out and "<-   250 2.0.0 Ok: queued as B42F230001" in out
    out = "\n".join(app(relay, "pop3-fetch", "bob-laptop").lines)
    assert "->  RETR 1" in out and "<-  +OK maildrop has 1 messages" in out
    out = "\n".join(app(relay, "imap-client", "bob-phone").lines)
    assert "C:  A004 FETCH 1:* (FLAGS ENVELOPE)" in out and "S:  * 1 FETCH (FLAGS (\\Flagged \\Seen))" in out
    out = "\n".join(app(relay, "mail-server", "mailqq").lines)
    # Postfix's words: the id 163.com's server gave the message, in its reply and its log.
    assert "B42F230001: to=<bob@163.com>, relay=mail.163.com[10.3.0.25]:25, status=sent " \
           "(250 2.0.0 Ok: queued as 638C350001)" in out
    assert "638C350001: to=<bob@163.com>, relay=local" in "\n".join(app(relay, "mail-server",
                                                                         "mail163").lines)


def test_tshark_names_smtp_pop_and_imap(relay):
    wanted = {"25": "SMTP", "587": "SMTP", "110": "POP", "143": "IMAP"}
    for pcap in ("mailqq-swqq.pcap", "mail163-sw163.pcap"):
        rows = tshark_fields(relay.outdir / "pcap" / pcap, "_ws.col.Protocol", "tcp.srcport",
                             "tcp.dstport", "tcp.len", "_ws.col.Info", display_filter="tcp.len > 0")
        seen = set()
        for protocol, sport, dport, _length, info in rows:
            expected = wanted.get(sport) or wanted[dport]
            seen.add(expected)
            assert protocol.startswith(expected) or "reassembled PDU" in info, (pcap, protocol, info)
        assert seen == ({"SMTP"} if pcap.startswith("mailqq") else {"SMTP", "POP", "IMAP"})


def test_the_application_level_diagram_has_only_application_messages(relay):
    from netsim.viz.messages import messages
    everything = messages(relay.trace, level="app")
    # Beside what was said, a thin mark where each connection was opened.
    found = [m for m in everything if m.kind != "open"]
    assert any(m.label == "opens " + str(m.sport) + " → 587" for m in everything if m.kind == "open")
    assert {m.protocol for m in found} == {"DHCP", "DNS", "SMTP", "POP", "IMAP"}
    labels = [m.label for m in found]
    assert any(label.startswith("MAIL FROM:<alice@qq.com> SIZE=") for label in labels)
    assert "RETR 1" in labels
    assert "A005 FETCH 1 (BODY[])" in labels and "DNS query MX 163.com [RD=1]" in labels
    assert any(label.startswith("DHCPOFFER 10.3.0.") for label in labels)
    lanes = {m.src for m in found} | {m.dst for m in found}
    assert not lanes & {"rqq", "r163", "core", "swqq", "sw163"}


def test_an_unknown_user_bounces_back_to_alice(tmp_path):
    result = run_text(TEXT.replace("to: bob@163.com", "to: nobody@163.com"), tmp_path)
    server = app(result, "mail-server", "mailqq").result()
    assert server["bounced"] == 1
    (bounce,) = server["mailboxes"]["alice"]["INBOX"]
    assert bounce["subject"] == "Undelivered Mail Returned to Sender"
    assert "550" in next(e["why"] for e in server["log"] if e["status"] == "bounced")
    assert app(result, "mail-send").status == "finished"      # qq.com accepted it; 163.com refused


def test_a_stranger_cannot_relay_through_163(tmp_path):
    # alice talks straight to 163.com's port 25 and asks it to carry mail elsewhere.
    text = TEXT.replace("    attachment: 3000B\n    password: alice-pw\n",
                        "    attachment: 3000B\n    server: mail.163.com\n").replace(
        "to: bob@163.com", "to: carol@qq.com")
    result = run_text(text, tmp_path)
    sent = app(result, "mail-send")
    assert sent.status == "failed" and "554" in sent.error and "Relay access denied" in sent.error


def test_a_next_hop_that_is_down_is_retried_then_bounced(tmp_path):
    text = TEXT.replace("  - {node: mail163, run: mail-server, domain: 163.com, users: {bob: bob-pw}}\n", "")
    text = text.replace("{node: mailqq, run: mail-server, domain: qq.com, users: {alice: alice-pw}}",
                        "{node: mailqq, run: mail-server, domain: qq.com, users: {alice: alice-pw}, "
                        "retry: 2s, give_up: 12s}")
    text = text.replace("until: 30s", "until: 40s")
    result = run_text(text, tmp_path)
    server = app(result, "mail-server", "mailqq")
    out = "\n".join(server.lines)
    assert "status=deferred (connect to mail.163.com[10.3.0.25]:25: Connection refused)" in out
    r = server.result()
    assert r["deferred"] >= 2 and r["bounced"] == 1
    assert r["mailboxes"]["alice"]["INBOX"][0]["subject"] == "Undelivered Mail Returned to Sender"
    (bounced,) = [e for e in r["log"] if e["status"] == "bounced"]
    assert "Connection refused" in bounced["why"] and "gave up" in bounced["why"]


def test_a_name_server_that_never_answers(tmp_path):
    # 163.com's name server is gone: qq.com's server cannot find the MX and keeps the message.
    text = TEXT.replace("  - node: dns163\n    run: dns-server\n", "  - node: dns163\n    at: 100s\n"
                        "    run: dns-server\n")
    result = run_text(text, tmp_path)
    server = app(result, "mail-server", "mailqq")
    r = server.result()
    assert r["relayed"] == 0 and len(r["queued"]) == 1
    assert "Temporary failure in name resolution" in r["queued"][0]["last_error"]


def test_bad_zone_data_is_located_in_the_scenario():
    from netsim.errors import ScenarioError
    text = TEXT.replace('"mail A 10.1.0.25"', '"mail A 10.1.0.999"')
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text)
    assert "apps[" in str(info.value) and "zones[0].records" in str(info.value)


LOOP = """
name: mail-loop
seed: 3
until: 60s
nodes:
  alice: {kind: host, ip: 10.0.1.10/24, gateway: 10.0.1.1, dns: 10.0.1.53}
  dnsa:  {kind: host, ip: 10.0.1.53/24, gateway: 10.0.1.1}
  maila: {kind: host, ip: 10.0.1.25/24, gateway: 10.0.1.1, dns: 10.0.1.53}
  dnsb:  {kind: host, ip: 10.0.2.53/24, gateway: 10.0.2.1}
  mailb: {kind: host, ip: 10.0.2.25/24, gateway: 10.0.2.1, dns: 10.0.2.53}
  swa:   {kind: switch}
  swb:   {kind: switch}
  r:     {kind: router}
links:
  - endpoints: [alice, swa]
  - endpoints: [dnsa, swa]
  - endpoints: [maila, swa]
  - endpoints: [swa, r]
  - endpoints: [dnsb, swb]
  - endpoints: [mailb, swb]
  - endpoints: [swb, r]
apps:
  - {node: dnsa, run: dns-server, zones: [{origin: loop.test, records: [
      "@ SOA ns admin 1 7200 900 1209600 300", "@ NS ns", "ns A 10.0.1.53", "@ MX 10 mx",
      "mx A 10.0.2.25"]}]}
  - {node: dnsb, run: dns-server, zones: [{origin: loop.test, records: [
      "@ SOA ns admin 1 7200 900 1209600 300", "@ NS ns", "ns A 10.0.2.53", "@ MX 10 mx",
      "mx A 10.0.1.25"]}]}
  - {node: maila, run: mail-server, domain: a.test, users: {alice: pw}, relay_from: [10.0.2.0/24]}
  - {node: mailb, run: mail-server, domain: b.test, users: {bob: pw}, relay_from: [10.0.1.0/24]}
  - {node: alice, at: 1s, run: mail-send, server: maila, from: alice@a.test, to: x@loop.test,
     body: hi, password: pw}
"""


def test_a_loop_between_two_relays_ends_at_fifty_hops_with_a_bounce(tmp_path):
    """Each relay's name server gives the other as loop.test's MX. The message goes back
    and forth until the server that would be its 50th hop refuses it after the dot, as
    Postfix's cleanup does (hopcount_limit), and the relay that sent it bounces it to
    alice (before the hop limit it ran 885 hops, until the frame budget)."""
    result = run_text(LOOP, tmp_path)
    a, b = app(result, "mail-server", "maila"), app(result, "mail-server", "mailb")
    assert (a.result()["received"], b.result()["received"]) == (25, 24)   # 49 hops taken
    assert a.result()["relayed"] == b.result()["relayed"] == 24
    (bounced,) = [e for e in a.result()["log"] if e["status"] == "bounced"]
    assert bounced["why"] == ("host mx.loop.test[10.0.2.25] said: 554 5.4.0 Error: too many hops "
                              "(in reply to end of DATA command)")
    (report,) = a.result()["mailboxes"]["alice"]["INBOX"]
    assert report["subject"] == "Undelivered Mail Returned to Sender"
    assert a.result()["queued"] == b.result()["queued"] == []
    data = a.store.folder("alice", "INBOX").messages[0].data
    assert b"Status: 5.4.0" in data and b"Action: failed" in data
