"""Hostile DNS peers on simulated nodes (issue 19): scripted servers answering dig badly
over UDP and TCP, a forger answering from another address, a root server answering
another question first, and a client sending a name server garbage. Each ends as the
real tool or daemon ends it — dig fails with dig's words, a server answers FORMERR or
drops the datagram and goes on — and every other application runs on."""

import dns.flags
import dns.message
import dns.rcode
import dns.rrset
import pytest

from netsim import Ping, line
from netsim.apps.dig import Dig
from netsim.apps.dns_server import DnsResolver, DnsServer
from netsim.proto.dns.tcp import MessageBuffer, frame

ZONE = [{"origin": "163.com", "records": ["@ SOA ns1 admin 1 7200 900 1209600 300", "@ NS ns1",
                                          "ns1 A 10.0.1.2", "www A 10.3.0.80"]}]


def answer(query, *, address="10.3.0.80", tc=False, aa=True):
    response = dns.message.make_response(query)
    if aa:
        response.flags |= dns.flags.AA
    if tc:
        response.flags |= dns.flags.TC
    else:
        response.answer.append(dns.rrset.from_text(query.question[0].name, 300, "IN", "A", address))
    return response.to_wire()


class ScriptedServer:
    """Port 53 of ``node``, UDP and TCP: ``udp(query, reply)`` and ``tcp(query)`` say what
    goes back (``reply(wire, source_node=None, port=53)`` sends a datagram)."""

    def __init__(self, node, *, udp=None, tcp=None):
        self.node, self.queries = node, []
        sock = node.udp_open(53)

        def on_receive(payload, addr, now):
            query = dns.message.from_wire(payload)
            self.queries.append(query)

            def reply(wire, source=None, port=53):
                out = sock if source is None and port == 53 else (source or node).udp_open(port)
                out.sendto(wire, addr)
            udp(query, reply)

        sock.on_receive = on_receive
        if tcp is not None:
            listener = node.tcp_listen(53)

            def serve():
                while True:
                    conn = yield listener.accept()
                    node.env.process(session(conn))

            def session(conn):
                buffer, messages = MessageBuffer(), []
                while not messages:
                    data = yield conn.recv()
                    if not data:
                        return
                    messages = buffer.feed(data)
                yield from tcp(dns.message.from_wire(messages[0]), conn)

            node.env.process(serve())


def dig_against(udp, tcp=None, *, until=10.0, timeout=1.0, tries=1, nodes=("a", "b")):
    """dig on ``a`` asking the scripted server on ``b``; a ping from ``a`` after it, which
    must finish whatever dig met."""
    net, hosts = line(list(nodes), delay="1ms")
    a, b = hosts[0], hosts[-1]
    server = ScriptedServer(b, udp=udp, tcp=tcp)
    dig = Dig(a, query="www.163.com", server=b.ip, timeout=timeout, tries=tries, at=1.0)
    ping = Ping(a, target=b.ip, count=1, at=5.0)
    net.run(until)
    assert ping.status == "finished" and ping.result()["received"] == 1
    return net, dig, server


def truncated(query, reply):
    reply(answer(query, tc=True))


def peer_notes(net):
    return [n.detail for n in net.trace.notes if n.what == "app-error"]


def test_a_garbled_tcp_answer_fails_dig_with_digs_words_and_the_run_goes_on():
    garbled = []

    def tcp(query, conn):
        wire = answer(query)[:-5]                       # the A record's data cut short
        garbled.append(wire)
        yield conn.send(frame(wire))
        conn.close()

    net, dig, _server = dig_against(truncated, tcp)
    assert ";; Truncated, retrying in TCP mode." in dig.lines
    at = dig.lines.index(";; Got bad packet: FORMERR")
    assert dig.lines[at + 1] == f"{len(garbled[0])} bytes"
    assert dig.status == "failed" and dig.error == "Got bad packet: FORMERR"
    assert peer_notes(net) == [{"app": "dig", "error": ";; Got bad packet: FORMERR",
                                "cause": "peer"}]


@pytest.mark.parametrize("sent, close, said", [
    (b"\x00", True, "end of file"),                       # half a length prefix
    (b"\xff\xff" + bytes(100), True, "end of file"),       # 65535 promised, 100 sent
    (b"\xff\xff" + bytes(100), False, "timed out"),        # … and the connection held open
], ids=["truncated length", "65535 then close", "65535 then silence"])
def test_a_tcp_answer_cut_short_is_a_communications_error(sent, close, said):
    def tcp(query, conn):
        yield conn.send(sent)
        if close:
            conn.close()

    _net, dig, _server = dig_against(truncated, tcp)
    assert dig.lines[-1] == f";; communications error to 10.0.1.2#53: {said}"
    assert dig.status == "failed"


def test_an_answer_with_a_compression_loop_is_a_bad_packet():
    def udp(query, reply):
        reply(query.id.to_bytes(2, "big") + b"\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00"
              + b"\xc0\x0c\x00\x01\x00\x01")

    net, dig, _server = dig_against(udp)
    assert ";; Got bad packet: bad compression pointer" in dig.lines
    assert dig.status == "failed" and peer_notes(net)[0]["cause"] == "peer"


def test_answers_with_wrong_ids_are_warned_of_and_the_real_one_taken():
    def udp(query, reply):
        for other in (query.id ^ 0x0101, query.id ^ 0x0202):
            wrong = dns.message.from_wire(answer(query, address="6.6.6.6"))
            wrong.id = other
            reply(wrong.to_wire())
        reply(answer(query))

    _net, dig, server = dig_against(udp)
    qid = server.queries[0].id
    warnings = [line for line in dig.lines if "ID mismatch" in line]
    assert warnings == [f";; Warning: ID mismatch: expected ID {qid}, got {qid ^ 0x0101}",
                        f";; Warning: ID mismatch: expected ID {qid}, got {qid ^ 0x0202}"]
    assert dig.status == "finished" and dig.result()["answer"] == ["www.163.com. 300 IN A 10.3.0.80"]


@pytest.mark.parametrize("where", ["another address", "another port"])
def test_an_answer_from_the_wrong_address_is_not_taken(where):
    """A forger on the path (the router) answers first, with the right id; dig prints
    ``reply from unexpected source`` and takes the server's own answer."""
    holder = {}

    def udp(query, reply):
        forged = answer(query, address="6.6.6.6")
        if where == "another address":
            reply(forged, source=holder["router"])
        else:
            reply(forged, port=5353)
        holder["later"] = lambda: reply(answer(query))
        holder["env"].process(later(holder))

    def later(h):
        yield h["env"].timeout(0.005)
        h["later"]()

    net, hosts = line(["a", "r", "b"], delay="1ms")
    holder.update(router=hosts[1], env=net.env)
    ScriptedServer(hosts[2], udp=udp)
    dig = Dig(hosts[0], query="www.163.com", server="10.0.2.2", timeout=1.0, tries=1, at=1.0)
    net.run(5)
    source = "10.0.1.2#53" if where == "another address" else "10.0.2.2#5353"
    assert f";; reply from unexpected source: {source}, expected 10.0.2.2#53" in dig.lines
    assert dig.status == "finished" and dig.result()["answer"] == ["www.163.com. 300 IN A 10.3.0.80"]


def test_a_resolver_takes_the_real_answer_after_a_forged_one_to_another_question():
    """A root server that first answers another question with the right id: the
    resolver waits on for the real answer (it used to drop the query and hang)."""
    def udp(query, reply):
        other = dns.message.make_query("www.evil.com", "A")
        other.id = query.id
        reply(answer(other, address="6.6.6.6"))
        reply(answer(query))

    net, (alice, resolver_node, root) = line(["alice", "resolver", "root"], delay="1ms")
    ScriptedServer(root, udp=udp)
    resolver = DnsResolver(resolver_node, root_hints=[{"name": "a.root-servers.net",
                                                       "address": "10.0.2.2"}],
                           qname_minimisation=False)
    dig = Dig(alice, query="www.163.com", server="10.0.1.2", timeout=1.0, tries=1, at=1.0)
    net.run(5)
    assert dig.status == "finished" and dig.result()["answer"] == ["www.163.com. 300 IN A 10.3.0.80"]
    assert resolver.engine.upstream_queries == 1 and resolver.engine.unwanted == 1


def test_a_name_server_answers_garbage_formerr_or_not_at_all_and_goes_on_serving():
    net, (client, server_node) = line(["client", "ns"], delay="1ms")
    server = DnsServer(server_node, zones=ZONE)
    query = dns.message.make_query("www.163.com", "A")
    query.id = 0x1234
    sends = [
        b"\x12\x34\x01",                                       # shorter than a header: dropped
        b"\x12\x35\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07www",  # good header, bad question
        b"\x12\x36\x81\x80" + bytes(8),                         # a response: dropped
        query.to_wire(),                                        # and a real query after it all
    ]
    heard = []
    sock = client.udp_open()
    sock.on_receive = lambda payload, _addr, _now: heard.append(dns.message.from_wire(payload))

    def ask():
        for wire in sends:
            sock.sendto(wire, ("10.0.1.2", 53))
            yield net.env.timeout(0.1)

    net.env.process(ask())
    net.run(2)
    assert [(m.id, dns.rcode.to_text(m.rcode()), len(m.question)) for m in heard] == [
        (0x1235, "FORMERR", 0), (0x1234, "NOERROR", 1)]
    assert heard[0].flags & dns.flags.QR and heard[0].flags & dns.flags.RD
    assert server.status == "serving" and peer_notes(net) == []


def test_a_name_server_answers_garbage_over_tcp_formerr_and_the_next_query_too():
    net, (client, server_node) = line(["client", "ns"], delay="1ms")
    DnsServer(server_node, zones=ZONE)
    query = dns.message.make_query("www.163.com", "A")
    heard = []

    def ask():
        conn = client.tcp_connect("10.0.1.2", 53)
        yield conn.connected
        yield conn.send(frame(b"\x00\x07\x01\x00\x00\x01" + bytes(6) + b"\x09junk") + frame(query.to_wire()))
        buffer = MessageBuffer()
        while len(heard) < 2:
            data = yield conn.recv()
            if not data:
                break
            heard.extend(dns.message.from_wire(m) for m in buffer.feed(data))
        conn.close()

    net.env.process(ask())
    net.run(5)
    assert [(m.id, dns.rcode.to_text(m.rcode())) for m in heard] == [(7, "FORMERR"),
                                                                     (query.id, "NOERROR")]


def test_dig_plus_tcp_on_an_answer_with_another_id_and_on_a_closed_port():
    asked = []

    def tcp(query, conn):
        asked.append(query.id)
        yield conn.send(frame(b"\x00\x01\x81\x80" + bytes(8)))          # id 1, nothing else
        conn.close()

    net, (a, b) = line(["a", "b"], delay="1ms")
    ScriptedServer(b, udp=lambda query, reply: None, tcp=tcp)
    wrong = Dig(a, query="www.163.com", server=b.ip, tcp=True, at=1.0)
    refused = Dig(b, query="www.163.com", server=a.ip, tcp=True, at=1.0)   # nothing on a:53
    net.run(5)
    assert wrong.lines == [f";; ERROR: ID mismatch: expected ID {asked[0]}, got 1"]
    assert wrong.status == "failed"
    assert refused.lines == [";; communications error to 10.0.1.1#53: connection refused"]
    assert refused.status == "failed"
