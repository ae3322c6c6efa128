"""netsim's DNS server (RFC 1035; over TCP RFC 1035 §4.2.2, RFC 7766) judged by dnspython's
asyncio resolver functions, dns.asyncquery, over UDP and TCP in simulated time."""

from __future__ import annotations

import pytest

dns_asyncquery = pytest.importorskip("dns.asyncquery")
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402

from tests.aio.interop import network  # noqa: E402

TXT = " ".join(f'"{"x" * 200}-{i}"' for i in range(4))      # > 512 bytes: TC over UDP
ZONE = f"""  - node: server
    run: dns-server
    zones:
      - origin: example.org
        records:
          - "@ SOA ns admin 1 7200 900 1209600 300"
          - "@ NS ns"
          - "ns A 10.0.0.2"
          - "www A 10.0.0.80"
          - "@ MX 10 mail"
          - "mail A 10.0.0.25"
          - 'big TXT {TXT}'"""


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_dnspython_asks_netsims_server(transport, socket_calls):
    net, nodes = network(ZONE)

    async def ask():
        query = getattr(dns_asyncquery, transport)
        answers = []
        for name, kind in (("www.example.org", "A"), ("example.org", "MX"),
                           ("nothere.example.org", "A"), ("big.example.org", "TXT")):
            reply = await query(dns.message.make_query(name, kind), "10.0.0.2", timeout=5)
            answers.append((dns.rcode.to_text(reply.rcode()),
                            [r.to_text() for rrset in reply.answer for r in rrset],
                            reply.flags))
        return answers

    (www, mx, missing, big) = nodes["client"].run_async(ask())
    assert www[:2] == ("NOERROR", ["10.0.0.80"])
    assert mx[:2] == ("NOERROR", ["10 mail.example.org."])
    assert missing[0] == "NXDOMAIN"
    if transport == "udp":
        # 870 bytes of TXT do not fit 512: truncated, TC set (RFC 1035 §4.2.1, RFC 2181 §9)
        assert big[0] == "NOERROR" and big[1] == [] and big[2] & dns.flags.TC
    else:
        assert big[0] == "NOERROR" and len(big[1]) == 1 and "x" * 200 in big[1][0]
    assert socket_calls == []


def test_dnspython_falls_back_to_tcp_for_a_truncated_answer():
    net, nodes = network(ZONE)

    async def ask():
        reply, over_tcp = await dns_asyncquery.udp_with_fallback(
            dns.message.make_query("big.example.org", "TXT"), "10.0.0.2", timeout=5)
        return over_tcp, [r.to_text() for rrset in reply.answer for r in rrset]

    over_tcp, records = nodes["client"].run_async(ask())
    assert over_tcp and len(records) == 1 and records[0].count("x" * 200) == 4
