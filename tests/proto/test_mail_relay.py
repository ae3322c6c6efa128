"""The mail queue as a sans-I/O engine: it asks for lookups and deliveries, is told what
came of them, and keeps its own retry timer — no network, no SimPy."""

from netsim.proto.mail import Accepted, MailStore, SmtpServerSession
from netsim.proto.mail.headers import hop_count
from netsim.proto.mail.relay import Deliver, Logged, LookUp, MailRelay
from netsim.proto.mail.store import summary_of
from tests.proto.test_mail import MESSAGE, policy, talk


def relay(**kw):
    return MailRelay(hostname="mail.qq.com", domain="qq.com", store=MailStore({"alice": "x"}),
                     retry=30.0, give_up=100.0, **kw)


def accept(engine, to=("bob@163.com",), data=MESSAGE, now=0.0):
    engine.accept(Accepted("alice@qq.com", tuple(to), data, "alice", "alice"), "10.1.0.100",
                  "alice", now)
    return engine.outputs()


def asked(outputs, kind):
    return [o for o in outputs if isinstance(o, kind)]


def test_a_message_goes_by_mx_to_the_exchange_and_is_logged_as_postfix_logs_it():
    engine = relay()
    (mx,) = asked(accept(engine), LookUp)
    assert (mx.name, mx.rdtype) == ("163.com", "MX")
    engine.looked_up(mx.ticket, None, ["20 backup.163.com.", "10 mail.163.com.", "junk"], 0.1)
    (a,) = asked(engine.outputs(), LookUp)
    assert (a.name, a.rdtype) == ("mail.163.com", "A")              # the preferred one first
    engine.looked_up(a.ticket, None, ["10.3.0.25"], 0.2)
    (deliver,) = asked(engine.outputs(), Deliver)
    assert str(deliver.address) == "10.3.0.25" and deliver.client.timeout == 300.0
    server = SmtpServerSession(policy(), "10.1.0.25")
    talk(deliver.client, server)
    engine.attempted(deliver.ticket, None, 0.3)
    (line,) = asked(engine.outputs(), Logged)
    assert line.text.endswith("to=<bob@163.com>, relay=mail.163.com[10.3.0.25]:25, "
                              "status=sent (250 2.0.0 Ok: queued as 638C350001)")
    (received,) = server.accepted
    assert received.queue_id == "638C350001"
    assert received.data.startswith(b"Received: from alice (alice [10.1.0.100])\r\n\tby mail.qq.com")
    assert engine.queue == [] and engine.counts["relayed"] == 1 and engine.get_timer() is None


def test_a_refused_connection_tries_the_next_exchange_then_waits_doubling_then_bounces():
    engine = relay()
    (mx,) = asked(accept(engine), LookUp)
    engine.looked_up(mx.ticket, None, ["10 a.163.com.", "20 b.163.com."], 0.0)
    for name in ("a.163.com", "b.163.com"):
        (a,) = asked(engine.outputs(), LookUp)
        assert a.name == name
        engine.looked_up(a.ticket, None, ["10.3.0.25"], 0.0)
        (deliver,) = asked(engine.outputs(), Deliver)
        engine.attempted(deliver.ticket, "Connection refused", 1.0)
    (line,) = asked(engine.outputs(), Logged)
    assert "status=deferred (connect to b.163.com[10.3.0.25]:25: Connection refused), " \
           "retry in 30 s" in line.text
    assert engine.get_timer() == 31.0
    engine.handle_timer(31.0)
    (mx,) = asked(engine.outputs(), LookUp)
    assert mx.rdtype == "MX" and engine.queue[0].attempts == 2 and engine.queue[0].wait == 60.0
    engine.looked_up(mx.ticket, "Temporary failure in name resolution", [], 150.0)
    out = engine.outputs()                                   # past give_up: the bounce
    assert any("status=bounced (delivery temporarily suspended: Host or domain name lookup "
               "for 163.com failed: Temporary failure in name resolution" in o.text
               for o in asked(out, Logged))
    (bounce,) = engine.store.folder("alice", "INBOX").messages      # delivered locally
    assert summary_of(bounce)["subject"] == "Undelivered Mail Returned to Sender"
    assert b"Status: 5.0.0" in bounce.data and engine.queue == []


def test_a_domain_that_does_not_exist_bounces_at_once_and_a_bounce_is_never_bounced():
    engine = relay()
    (mx,) = asked(accept(engine, to=("x@nowhere.example",)), LookUp)
    engine.looked_up(mx.ticket, "Name or service not known", [], 0.5)
    engine.outputs()
    assert engine.counts["bounced"] == 1 and len(engine.store.folder("alice", "INBOX").messages) == 1
    engine.accept(Accepted("", ("x@nowhere.example",), MESSAGE, "h", None), "10.1.0.1", "h", 1.0)
    (mx,) = asked(engine.outputs(), LookUp)
    engine.looked_up(mx.ticket, "Name or service not known", [], 1.5)
    assert engine.counts["bounced"] == 2 and len(engine.store.folder("alice", "INBOX").messages) == 1


def test_a_message_past_the_hop_limit_bounces_and_one_for_itself_loops_back():
    engine = relay()
    looping = b"Received: from x by y; Mon, 1 Jan 2024 00:00:00 +0000\r\n" * 49 + MESSAGE
    assert hop_count(looping) == 49
    out = accept(engine, data=looping)                 # ours makes 50: Postfix's limit
    assert not asked(out, LookUp)
    assert any("status=bounced (too many hops)" in o.text for o in asked(out, Logged))
    (mx,) = asked(accept(engine, to=("bob@163.com",)), LookUp)
    engine.looked_up(mx.ticket, None, ["10 mail.qq.com."], 0.1)
    assert any("mail for 163.com loops back to myself" in o.text
               for o in asked(engine.outputs(), Logged))
    assert engine.queue == []


def test_a_refusal_bounces_in_postfix_s_words_with_the_server_s_enhanced_status():
    engine = relay()
    (mx,) = asked(accept(engine, to=("nobody@163.com",)), LookUp)
    engine.looked_up(mx.ticket, None, ["10 mail.163.com."], 0.1)
    (a,) = asked(engine.outputs(), LookUp)
    engine.looked_up(a.ticket, None, ["10.3.0.25"], 0.2)
    (deliver,) = asked(engine.outputs(), Deliver)
    talk(deliver.client, SmtpServerSession(policy(), "10.1.0.25"))
    engine.attempted(deliver.ticket, None, 0.3)
    (entry,) = [e for e in engine.log if e["status"] == "bounced"]
    assert entry["why"] == ("host mail.163.com[10.3.0.25] said: 550 5.1.1 <nobody@163.com>: "
                            "Recipient address rejected: User unknown in local recipient table "
                            "(in reply to RCPT TO command)")
    (bounce,) = engine.store.folder("alice", "INBOX").messages
    assert b"Status: 5.1.1" in bounce.data               # RFC 3464 §2.3.4, from RFC 2034's code
