"""DNS on the simulated network: dig through an iterative resolver, the cache seen in
the captures, tshark naming every message DNS."""

import subprocess

import pytest

from netsim import load_scenario, run_scenario
from netsim.scenario.loader import parse_scenario
from netsim.errors import ScenarioError
from tests.conftest import SCENARIOS


@pytest.fixture(scope="module")
def iterative(tmp_path_factory):
    return run_scenario(load_scenario(SCENARIOS / "dns-iterative.yaml"),
                        tmp_path_factory.mktemp("dns"))


def test_dig_prints_the_answer_the_way_dig_does(iterative):
    first = [a for a in iterative.network.apps if a.name == "dig"][0]
    text = "\n".join(first.lines)
    assert ";; ->>HEADER<<- opcode: QUERY, status: NOERROR" in text
    assert ";; flags: qr rd ra; QUERY: 1, ANSWER: 2" in text
    assert "www.163.com.            300     IN\tCNAME\tmail.163.com." in text
    assert ";; SERVER: 10.0.0.53#53(10.0.0.53) (UDP)" in text
    assert first.result()["status"] == "NOERROR"
    missing = next(a for a in iterative.network.apps if a.name == "dig"
                   and a.query_name == "nosuch.163.com")
    assert missing.result()["status"] == "NXDOMAIN"


def test_the_walk_goes_root_tld_domain_and_the_second_lookup_stays_at_the_resolver(iterative):
    trace = iterative.trace
    upstream = [(r.time, r.node) for r in trace.records()
                if r.kind == "tx" and r.protocol == "DNS" and r.node == "resolver"
                and "query" in r.label]
    first = [t for t, _n in upstream if 1 <= t < 3]
    again = [t for t, _n in upstream if 3 <= t < 5]
    assert len(first) == 3 and again == []
    assert len([t for t, _n in upstream if t < 8]) == 5      # before dig +trace at 8 s
    resolver = iterative.app("dns-resolver").result()
    assert resolver["cache_hits"] >= 1
    # summary.json says the same: the second dig was answered by the resolver alone.
    lookups = next(a for a in iterative.summary["apps"] if a["app"] == "dns-resolver")["result"]["lookups"]
    assert [(x["name"], x["upstream_queries"], x["from_cache"]) for x in lookups[:2]] == [
        ("www.163.com.", 3, False), ("www.163.com.", 0, True)]
    digs = [a for a in iterative.summary["apps"] if a["app"] == "dig"]
    assert digs[0]["result"]["query_time_ms"] > 100 > digs[1]["result"]["query_time_ms"]
    labels = [m.label for m in iterative.sequence(protocols={"DNS"}, limit=200).messages]
    # The stub asks for recursion (RD=1); the resolver walks the tree without it (RD=0),
    # and the servers it asks offer none (RA=0).
    assert labels[:4] == ["DNS query A www.163.com [RD=1]", "DNS query A www.163.com [RD=0]",
                          "DNS referral: com NS a.gtld-servers.net [RA=0]",
                          "DNS query A www.163.com [RD=0]"]


def test_tshark_calls_every_port_53_frame_dns(iterative):
    for pcap in sorted((iterative.outdir / "pcap").glob("*.pcap")):
        rows = subprocess.run(["tshark", "-r", str(pcap), "-T", "fields", "-e", "udp.port",
                               "-e", "_ws.col.Protocol", "-Y", "udp.port == 53"],
                              capture_output=True, text=True, check=True).stdout.splitlines()
        assert all(row.endswith("\tDNS") for row in rows), (pcap.name, rows[:3])


def test_a_zone_with_bad_records_is_a_located_error():
    text = (SCENARIOS / "dns-iterative.yaml").read_text().replace(
        '"mail A 10.3.0.25"', '"mail A not-an-address"')
    with pytest.raises(ScenarioError) as error:
        parse_scenario(text).build()
    assert error.value.path.startswith("apps[2]") and "163.com" in str(error.value)


def test_a_server_that_never_answers_makes_dig_say_so():
    text = (SCENARIOS / "dns-iterative.yaml").read_text()
    text = text.replace("  - {node: alice, at: 1s, run: dig, query: www.163.com, server: resolver}",
                        "  - {node: alice, at: 1s, run: dig, query: example.org, server: tld, "
                        "timeout: 1s, tries: 2}\n"
                        "  - {node: alice, at: 1s, run: dig, query: www.163.com, server: alice, "
                        "timeout: 1s, tries: 2}")
    result = run_scenario(parse_scenario(text))
    refused, silent = [a for a in result.network.apps if a.name == "dig"][:2]
    assert "status: REFUSED" in "\n".join(refused.lines)           # tld serves com, not org
    assert "flags: qr aa rd;" in "\n".join(refused.lines) or "flags: qr rd;" in "\n".join(refused.lines)
    assert silent.lines[-1] == ";; no servers could be reached" and silent.status == "failed"


def test_dig_trace_prints_the_referral_chain(iterative):
    walk = next(a for a in iterative.network.apps if a.name == "dig" and a.trace)
    text = "\n".join(walk.lines)
    assert text.index("a.root-servers.net.") < text.index("com.                    3600    IN\tNS")
    assert ";; Received 88 bytes from 10.1.0.53#53(a.root-servers.net)" in text
    assert "from 10.2.0.53#53(a.gtld-servers.net)" in text and "from 10.3.0.53#53(ns1.163.com)" in text
    assert [step["server"] for step in walk.result()["referrals"]] == [
        "a.root-servers.net.", "a.gtld-servers.net.", "ns1.163.com."]
    assert walk.result()["status"] == "NOERROR"


def test_nslookup_prints_what_nslookup_prints(iterative):
    lookup = iterative.app("nslookup")
    assert lookup.lines[:2] == ["Server:\t\t10.0.0.53", "Address:\t10.0.0.53#53"]
    assert "www.163.com\tcanonical name = mail.163.com." in lookup.lines
    assert lookup.lines[-2:] == ["Name:\tmail.163.com", "Address: 10.3.0.25"]


def test_recursive_resolution_passes_the_question_down_the_chain(tmp_path):
    result = run_scenario(load_scenario(SCENARIOS / "dns-recursive.yaml"), tmp_path)
    queries = [(r.node, r.label) for r in result.trace.records()
               if r.kind == "tx" and r.protocol == "DNS" and "query" in r.label and r.time < 2
               and r.node not in ("sw", "r1")]
    senders = [node for node, _label in queries]
    assert senders == ["alice", "local", "root", "tld"]        # each asks the next, RD set
    rows = subprocess.run(["tshark", "-r", str(result.outdir / "pcap" / "r1-tld.pcap"), "-T", "fields",
                           "-e", "dns.flags.recdesired", "-Y", "dns.flags.response == 0"],
                          capture_output=True, text=True, check=True).stdout.split()
    assert rows and set(rows) <= {"1", "True"}
    dig = result.app("dig")
    assert dig.result()["answer"][-1].endswith("A 10.3.0.25")
    assert [a["result"].get("recursed") for a in result.summary["apps"]
            if a["app"] == "dns-server"] == [3, 3, None, 3]


def test_a_zone_file_next_to_the_scenario_is_read_and_one_elsewhere_refused(tmp_path):
    text = (SCENARIOS / "dns-iterative.yaml").read_text()
    start = text.index("      - origin: 163.com\n")
    end = text.index("  - node: resolver")
    zone = tmp_path / "zones" / "163.com.zone"
    zone.parent.mkdir()
    zone.write_text("$TTL 3600\n@ SOA ns1 admin 1 7200 900 1209600 300\n@ NS ns1\n"
                    "ns1 A 10.3.0.53\n@ MX 10 mail\nmail A 10.3.0.25\nwww 300 CNAME mail\n")
    scenario = tmp_path / "s.yaml"
    scenario.write_text(text[:start] + "      - {origin: 163.com, file: zones/163.com.zone}\n"
                        + text[end:])
    result = run_scenario(load_scenario(scenario), tmp_path / "out")
    assert result.app("dig").result()["answer"][-1].endswith("A 10.3.0.25")
    scenario.write_text(text[:start] + "      - {origin: 163.com, file: ../163.com.zone}\n"
                        + text[end:])
    with pytest.raises(ScenarioError, match="must be in the scenario's folder"):
        load_scenario(scenario)
    scenario.write_text(text[:start] + "      - {origin: 163.com, file: zones/nope.zone}\n"
                        + text[end:])
    with pytest.raises(ScenarioError, match=r"zones\[0\]\.file: cannot read"):
        load_scenario(scenario)


@pytest.mark.parametrize("scenario", ["dns-iterative", "dns-recursive"])
@pytest.mark.parametrize("hint", ["127.0.0.1", "own address"])
def test_a_resolver_never_asks_itself(tmp_path, scenario, hint):
    """The fuzzer's hang: a root hint of 127.0.0.1 made the resolver send its iterative
    query to itself, take it for a client's and ask itself again, at the same instant,
    forever. As Unbound (do-not-query-localhost) it skips such servers: SERVFAIL."""
    import yaml
    data = yaml.safe_load((SCENARIOS / f"{scenario}.yaml").read_text())
    resolver_app = data["apps"][3]
    own = data["nodes"][resolver_app["node"]]["ip"].split("/")[0]
    resolver_app["root_hints"][0]["address"] = own if hint == "own address" else hint
    data["until"] = "5s"
    result = run_scenario(parse_scenario(yaml.safe_dump(data)), tmp_path)
    digs = [a for a in result.network.apps if a.name == "dig"]
    assert digs and all(a.result()["status"] == "SERVFAIL" for a in digs if a.done)
    resolver = result.network.apps[3]
    if resolver.name == "dns-resolver":
        assert resolver.engine.upstream_queries == 0
    else:                                         # a dns-server recursing for its clients
        assert resolver.queries == resolver.recursed == len(digs)


def test_a_big_answer_goes_over_tcp_from_server_to_resolver_and_from_resolver_to_dig():
    """RFC 7766: the server's UDP answer is truncated, the resolver asks again over TCP;
    its own answer to dig is truncated too, and dig asks it again over TCP — every
    connection opened, answered and closed by the runtime."""
    from netsim import line
    from netsim.apps.dig import Dig
    from netsim.apps.dns_server import DnsResolver, DnsServer

    big = "big TXT " + " ".join(f'"{"x" * 200}"' for _ in range(8))      # > 1232 bytes
    net, (alice, resolver_node, ns) = line(["alice", "resolver", "ns"], delay="1ms")
    DnsServer(ns, zones=[{"origin": "163.com", "records": [
        "@ SOA ns1 admin 1 7200 900 1209600 300", "@ NS ns1", "ns1 A 10.0.2.2", big]}])
    resolver = DnsResolver(resolver_node, root_hints=[{"name": "ns1.163.com", "address": "10.0.2.2"}])
    direct = Dig(alice, query="big.163.com", type="TXT", server="10.0.2.2", at=1.0)
    recursive = Dig(alice, query="big.163.com", type="TXT", server="10.0.1.2", at=2.0)
    net.run(100)
    for dig in (direct, recursive):
        assert ";; Truncated, retrying in TCP mode." in dig.lines
        assert dig.status == "finished" and dig.result()["status"] == "NOERROR"
        assert any(line.endswith("(TCP)") for line in dig.lines)
        assert len(dig.result()["answer"]) == 1 and dig.result()["answer"][0].count("x" * 200) == 8
    # "com. A" (minimised) is REFUSED by a server of 163.com alone, so it is asked the
    # full name, as Unbound's relaxed mode asks it: over UDP, truncated; then over TCP.
    assert resolver.engine.upstream_queries == 3
    states = [(n.node, n.detail["new"]) for n in net.trace.notes if n.what == "tcp-state"]
    assert [s for s in states if s[1] == "CLOSED"] and not net.nodes["ns"].tcp.connections


def dns_messages(trace):
    """(source address, dnspython message) of every UDP DNS frame of a run, once each."""
    import dns.message
    out, seen = [], set()
    for i in range(trace.frame_count):
        data = trace.frame_bytes(i)
        if data[12:14] != b"\x08\x00" or data[23] != 17:
            continue
        hlen = (data[14] & 0xF) * 4
        udp = data[14 + hlen:]
        if 53 not in (int.from_bytes(udp[0:2], "big"), int.from_bytes(udp[2:4], "big")):
            continue
        key = bytes(data[26:34]) + bytes(udp[:int.from_bytes(udp[4:6], "big")])
        if key in seen:                      # the same datagram on the next link
            continue
        seen.add(key)
        source = ".".join(str(b) for b in data[26:30])
        out.append((source, dns.message.from_wire(udp[8:int.from_bytes(udp[4:6], "big")])))
    return out


def test_queries_carry_edns_as_dig_unbound_and_glibc_send_them(iterative):
    """dig 9.18: RD, AD, OPT of 1232 bytes with an 8-byte client COOKIE; the resolver: OPT
    with DO, RD clear (Unbound); nslookup and the stub resolver: no OPT; every server
    answers an OPT with one."""
    import dns.edns
    import dns.flags

    messages = dns_messages(iterative.trace)
    alice = [m for src, m in messages if src == "10.0.0.10" and not m.flags & dns.flags.QR]
    digs = [m for m in alice if m.edns == 0]
    assert digs and all(m.flags & dns.flags.AD and m.payload == 1232 for m in digs)
    cookies = {m.options[0].to_wire() for m in digs if m.options[0].otype == dns.edns.COOKIE}
    assert {len(c) for c in cookies} == {8}
    assert any(m.edns == -1 and not m.flags & dns.flags.AD for m in alice)    # nslookup
    upstream = [m for src, m in messages if src == "10.0.0.53" and not m.flags & dns.flags.QR]
    assert upstream and all(m.edns == 0 and m.ednsflags & dns.flags.DO and
                            not m.flags & dns.flags.RD for m in upstream)
    answers = [(q, next(r for _s, r in messages if r.flags & dns.flags.QR and r.id == q.id))
               for _s, q in messages if not q.flags & dns.flags.QR]
    assert all((q.edns == 0) == (r.edns == 0) for q, r in answers)


def test_dig_prints_the_opt_pseudosection_as_dig_9_18_does(iterative):
    first = [a for a in iterative.network.apps if a.name == "dig"][0]
    at = first.lines.index(";; OPT PSEUDOSECTION:")
    assert first.lines[at - 1] == "" and first.lines[at + 1] == "; EDNS: version: 0, flags:; udp: 1232"
    assert first.lines[at + 2] == ";; QUESTION SECTION:"          # no blank line before it
    assert ";; flags: qr rd ra; QUERY: 1, ANSWER: 2, AUTHORITY: 0, ADDITIONAL: 1" in first.lines


def test_the_pseudosection_marks_a_cookie_good_echoed_or_bad():
    import dns.edns
    import dns.flags
    import dns.message

    from netsim.apps.dig import opt_pseudosection

    mine = bytes(range(8))
    for data, mark in ((mine + bytes(16), "(good)"), (mine, "(echoed)"), (bytes(8), "(bad)")):
        response = dns.message.make_response(dns.message.make_query("a.test", "A", use_edns=0))
        response.use_edns(0, dns.flags.DO, 1232, options=[dns.edns.GenericOption(10, data)])
        lines = opt_pseudosection(dns.message.from_wire(response.to_wire()), mine)
        assert lines == [";; OPT PSEUDOSECTION:", "; EDNS: version: 0, flags: do; udp: 1232",
                         f"; COOKIE: {data.hex()} {mark}"]


def test_an_attacker_without_an_address_fails_as_a_tool_would_not_the_run():
    """Found by the scenario fuzzer: with mallory's ip deleted, her zone's records were
    'ns A None' and the ZoneError ended the whole run."""
    text = (SCENARIOS / "dns-poisoning.yaml").read_text().replace(
        "mallory:    {kind: host, ip: 10.0.0.66/24, gateway: 10.0.0.1}",
        "mallory:    {kind: host, gateway: 10.0.0.1}")
    result = run_scenario(parse_scenario(text), until=2.0)
    attack = next(a for a in result.summary["apps"] if a["app"] == "dns-poison")
    assert attack["status"] == "failed"
    assert attack["output"] == ["dns-poison: mallory has no IPv4 address: there is nothing to "
                                "serve evil.test from"]
