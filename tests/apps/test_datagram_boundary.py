"""The error boundary for applications fed by datagrams (DNS, ping, traceroute) and for
a name server's TCP queries: a bug in the engine that takes a peer's message propagates
under the strict switch, and outside it fails only that application — or, for a
server, only that query — with an ``app-error`` note, while every other application
runs on."""

import pytest

from netsim import UdpEcho, UdpEchoServer, line
from netsim.apps.dig import Dig
from netsim.apps.dns_server import DnsServer
from netsim.apps.ping import Ping
from netsim.apps.traceroute import Traceroute
from netsim.proto.dns.authority import Authority
from netsim.proto.dns.dig import DigEngine
from netsim.proto.ping import PingEngine
from netsim.proto.traceroute import TracerouteEngine

ZONE = [{"origin": "163.com", "records": ["@ SOA ns1 admin 1 7200 900 1209600 300", "@ NS ns1",
                                          "ns1 A 10.0.2.2", "www A 10.3.0.80"]}]


def broken(*_args, **_kwargs):
    raise ZeroDivisionError("a bug")


CASES = {
    "ping": (PingEngine, "receive_reply", lambda a, b: Ping(a, target=b.ip, count=2, at=1.0)),
    "traceroute": (TracerouteEngine, "receive_icmp",
                   lambda a, b: Traceroute(a, target=b.ip, at=1.0, wait=1.0)),
    "dig": (DigEngine, "receive", lambda a, b: Dig(a, query="www.163.com", server=b.ip, at=1.0)),
    "dns-server": (Authority, "respond",
                   lambda a, b: Dig(a, query="www.163.com", server=b.ip, at=1.0, timeout=1.0,
                                    tries=1)),
    "dns-server over tcp": (Authority, "respond",
                            lambda a, b: Dig(a, query="www.163.com", server=b.ip, tcp=True,
                                             at=1.0, timeout=1.0)),
}


def run(case, monkeypatch):
    cls, method, make = CASES[case]
    monkeypatch.setattr(cls, method, broken)
    net, (a, _r, b) = line(["a", "r", "b"], delay="1ms")
    DnsServer(b, zones=ZONE)
    UdpEchoServer(b)
    app = make(a, b)
    echo = UdpEcho(a, target=b.ip, count=2, interval=1.0, at=1.5)
    net.run(8)
    return net, app, echo


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bug_taking_a_datagram_propagates_under_the_strict_switch(case, monkeypatch):
    with pytest.raises(ZeroDivisionError):
        run(case, monkeypatch)


@pytest.mark.parametrize("case", sorted(CASES))
def test_outside_strict_mode_it_fails_only_that_app_or_query_loudly(case, monkeypatch):
    monkeypatch.setenv("NETSIM_STRICT", "0")
    net, app, echo = run(case, monkeypatch)
    notes = [n.detail for n in net.trace.notes if n.what == "app-error"]
    assert notes and {n["cause"] for n in notes} == {"bug"}
    assert notes[0]["error"] == "internal error: ZeroDivisionError: a bug"
    if case.startswith("dns-server"):
        # The server goes on serving: only the query failed, and dig heard nothing.
        assert notes[0]["app"] == "dns-server"
        assert app.error in ("no servers could be reached",
                             "communications error to 10.0.2.2#53: timed out")
    else:
        assert notes[0]["app"] == app.name and app.status == "failed"
        assert app.error.startswith("internal error: ZeroDivisionError")
    assert echo.status == "finished" and len(echo.rtts) == 2       # the run went on
