"""The HTTP server apps on a simulated network against scripted raw-TCP clients: a
hostile connection gets what nginx gives it (400 and a close) and the server goes on
serving the next; the keep-alive timer closes an idle connection on time, but not
while an answer is still being written."""

import json

from netsim import line
from netsim.apps.http import HttpServer
from netsim.apps.web_services import HttpDnsServer, RestApiApp, SoapServiceApp
from netsim.proto.http.soap import NAMESPACE, call_envelope

SERVER = "10.0.1.2"


def raw_client(net, node, at, *script, log):
    """At ``at``: connect to the server's port 80, send each bytes piece of the script
    (a number waits that long first), read to the end, and log (bytes, time of EOF)."""
    env = net.env

    def run():
        yield env.timeout(at)
        sock = node.tcp_connect(SERVER, 80)
        yield sock.connected
        for piece in script:
            if isinstance(piece, (int, float)):
                yield env.timeout(piece)
            else:
                yield sock.send(piece)
        got = b""
        while True:
            data = yield sock.recv()
            if not data:
                break
            got += data
        log.append((got, env.now))
        sock.close()

    env.process(run())


def statuses(got: bytes) -> list[bytes]:
    return [got[i + 9:i + 12] for i in range(len(got)) if got.startswith(b"HTTP/1.1 ", i)]


def get(target="/index.html", extra=b""):
    return b"GET " + target.encode() + b" HTTP/1.1\r\nHost: web\r\n" + extra + b"\r\n"


def network(**link):
    return line(["alice", "web"], delay="1ms", **link)


def test_hostile_connections_get_400_and_a_close_and_the_server_serves_on():
    net, (alice, web) = network()
    server = HttpServer(web, sites={"*": {"/index.html": {"body": "1KiB"}}}, keep_alive=1.0)
    log = []
    hostile = [b"POST / HTTP/1.1\r\nHost: web\r\nContent-Length: -1\r\n\r\n",
               b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\n\r\n",       # many segments
               b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n",
               bytes(range(256)) * 8]
    for k, data in enumerate(hostile):
        raw_client(net, alice, 1.0 + k, data, log=log)
    raw_client(net, alice, 6.0, get(extra=b"Connection: close\r\n"), log=log)
    net.run(10)
    assert [statuses(got) for got, _t in log] == [[b"400"]] * 4 + [[b"200"]]
    assert all(got.rstrip().endswith(b"</html>") for got, _t in log[:4])    # then EOF
    assert [r["status"] for r in server.result()["requests"]] == [400] * 4 + [200]
    assert server.connections == 5 and server.status == "serving"
    assert [n for n in net.trace.notes if n.what == "app-error"] == []


def test_the_keep_alive_timer_closes_an_idle_connection_keep_alive_seconds_later():
    net, (alice, web) = network()
    server = HttpServer(web, sites={"*": {"/index.html": {"body": "1KiB"}}}, keep_alive=2.0)
    log = []
    raw_client(net, alice, 1.0, get(), 1.0, get(), log=log)
    net.run(10)
    (got, eof), = log
    assert statuses(got) == [b"200", b"200"]
    # The second request reached the server about 2.003 s in; idle from then, 2 s.
    second = server.result()["requests"][1]["t"]
    assert 2.0 < second < 2.01 and second + 2.0 <= eof < second + 2.0 + 0.005


def test_a_connection_still_sending_a_big_answer_is_not_idle():
    # 3 MiB at 10 Mbit/s takes 2.5 s to send, far past the 0.5 s keep-alive. The second
    # request, sent while the first answer is still being written, waits in the receive
    # buffer: with the idle timer running during the write the server would close on
    # it, unanswered.
    net, (alice, web) = network(rate="10Mbps")
    HttpServer(web, sites={"*": {"/big": {"body": "3MiB", "type": "image/png"},
                                 "/index.html": {"body": "1KiB"}}}, keep_alive=0.5)
    log = []
    raw_client(net, alice, 1.0, get("/big"), 0.3, get(), log=log)
    net.run(10)
    (got, eof), = log
    assert statuses(got) == [b"200", b"200"]
    assert eof > 3.5                                   # the answer took 2.5 s, then idle


def test_rest_soap_and_httpdns_answer_hostile_bodies_and_serve_on():
    bodies = {
        "rest": b'{"name":' + b"[" * 50_000,
        "soap": (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
                 + b"".join(b'<!ENTITY a%d "%s">' % (i, b"&a;" * 10) for i in range(9))
                 + b"]><l>&a8;</l>"),
        "httpdns": b"",
    }
    targets = {"rest": "/v1/users", "soap": "/WeatherWS.asmx", "httpdns": "/d?dn=%ff%00" + "a" * 3000}
    for kind, app in (("rest", lambda n: RestApiApp(n, data={"users": [{"id": 1, "name": "a"}]})),
                      ("soap", lambda n: SoapServiceApp(n, cities={"Beijing": {"weather": "sun"}})),
                      ("httpdns", lambda n: HttpDnsServer(n, records={"a.example": ["10.0.0.1"]}))):
        net, (alice, web) = network()
        server = app(web)
        body = bodies[kind]
        method = b"POST" if body else b"GET"
        hostile = (method + b" " + targets[kind].encode() + b" HTTP/1.1\r\nHost: web\r\n"
                   + b'SOAPAction: "' + NAMESPACE.encode() + b'/GetWeather"\r\n'
                   + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        good = {"rest": b"GET /v1/users/1 HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n",
                "httpdns": b"GET /d?dn=a.example HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n"}
        envelope = call_envelope(NAMESPACE, "GetWeather", {"theCityCode": "Beijing"})
        good["soap"] = (b'POST /WeatherWS.asmx HTTP/1.1\r\nHost: web\r\nSOAPAction: "'
                        + NAMESPACE.encode() + b'/GetWeather"\r\nConnection: close\r\n'
                        + b"Content-Length: %d\r\n\r\n" % len(envelope) + envelope)
        log = []
        raw_client(net, alice, 1.0, hostile, log=log)
        raw_client(net, alice, 2.0, good[kind], log=log)
        net.run(5)
        (bad, _t), (fine, _t2) = log
        expected = {"rest": [b"422"], "soap": [b"500"], "httpdns": [b"200"]}[kind]
        assert statuses(bad) == expected, kind
        assert statuses(fine) == [b"200"], kind
        if kind == "rest":
            assert json.loads(fine.partition(b"\r\n\r\n")[2]) == {"id": 1, "name": "a"}
        if kind == "soap":
            assert b"a DTD is prohibited" in bad and b"<city>Beijing</city>" in fine
        assert server.status == "serving"
