"""The HTTP/1.x engines in pairs over a fake stream: validators and 304s, versions that
change, redirects and error routes, keep-alive, pipelining answered in order, HTTP/1.0
closing after one answer, chunked bodies, and a request h11 cannot parse."""

import pytest

from netsim.errors import PeerError
from netsim.proto.http import HttpServerConnection, Site, http_date, resource_from_spec
from netsim.proto.http.client import HttpClientConnection, Request
from netsim.proto.stream import Close, Send
from netsim.units import parse_size, parse_time

SPEC = {
    "/index.html": {"body": "2KiB", "etag": "auto", "cache_control": "max-age=60",
                    "last_modified": "0s", "changes_at": ["100s"]},
    "/text": {"body": "hello", "type": "text/plain"},
    "/old": {"redirect": 301, "to": "/index.html"},
    "/see": {"redirect": 303, "to": "/text"},
    "/broken": {"status": 500},
    "/big": {"body": "10KiB", "chunked": True},
    "/form": {"body": "ok", "methods": ["POST"]},
}
SITE = Site("www.example.com", {p: resource_from_spec(p, s, parse_time, parse_size)
                                for p, s in SPEC.items()})


def talk(requests, *, version="1.1", pipeline=False, now=0.0, raw=None):
    server = HttpServerConnection({"www.example.com": SITE})
    client = HttpClientConnection(requests, host="www.example.com", version=version,
                                  pipeline=pipeline)
    client.start(now)
    wire = []
    for _ in range(100):
        moved = False
        for out in client.outputs():
            moved = True
            if isinstance(out, Send):
                wire.append(out.data)
                server.receive(raw if raw is not None else out.data, now)
            elif isinstance(out, Close):
                server.connection_lost(now)
        for out in server.outputs():
            moved = True
            if isinstance(out, Send):
                client.receive(out.data, now)
            elif isinstance(out, Close):
                client.connection_lost(now)
        if not moved:
            break
    return client, server, wire


def statuses(client):
    return [e.status for e in client.exchanges]


def test_etag_and_last_modified_answer_304_until_the_content_changes():
    client, *_ = talk([Request(target="/index.html")])
    first = client.exchanges[0]
    assert first.status == 200 and len(first.body) == 2048
    etag, modified = first.header("ETag"), first.header("Last-Modified")
    assert first.header("Cache-Control") == "max-age=60" and modified == http_date(0)
    assert statuses(talk([Request(target="/index.html", headers=[("If-None-Match", etag)])])[0]) == [304]
    assert statuses(talk([Request(target="/index.html",
                                  headers=[("If-Modified-Since", modified)])])[0]) == [304]
    later, *_ = talk([Request(target="/index.html", headers=[("If-None-Match", etag)])], now=150)
    assert statuses(later) == [200] and later.exchanges[0].body != first.body
    assert later.exchanges[0].header("Last-Modified") == http_date(100)
    # If-None-Match decides alone when both are sent (RFC 9110 §13.2.2).
    both, *_ = talk([Request(target="/index.html", headers=[("If-None-Match", '"other"'),
                                                            ("If-Modified-Since", modified)])])
    assert statuses(both) == [200]


def test_redirects_errors_and_methods():
    client, *_ = talk([Request(target=t) for t in ("/old", "/see", "/broken", "/nope")]
                      + [Request(method="DELETE", target="/text")], pipeline=True)
    assert statuses(client) == [301, 303, 500, 404, 405]
    assert client.exchanges[0].header("Location") == "/index.html"
    assert client.exchanges[4].header("Allow") == "GET, HEAD"
    head, *_ = talk([Request(method="HEAD", target="/text")])
    assert head.exchanges[0].status == 200 and head.exchanges[0].body == b""
    post, *_ = talk([Request(method="POST", target="/form", body=b"a=1")])
    assert statuses(post) == [200]


def test_keep_alive_serves_several_requests_on_one_connection_in_order():
    client, server, wire = talk([Request(target="/text"), Request(target="/old"),
                                 Request(target="/index.html")])
    assert statuses(client) == [200, 301, 200] and client.error is None
    assert len(wire) == 3 and len(server.log) == 3     # one request per turn, one connection


def test_pipelined_requests_go_out_together_and_are_answered_in_order():
    client, server, wire = talk([Request(target="/index.html"), Request(target="/text"),
                                 Request(target="/nope")], pipeline=True)
    assert len(wire) == 3 and all(w.startswith(b"GET ") for w in wire)
    assert [entry.target for entry in server.log] == ["/index.html", "/text", "/nope"]
    assert statuses(client) == [200, 200, 404]
    assert client.exchanges[1].body == b"hello"


def test_http_1_0_gets_one_answer_then_a_close():
    client, server, wire = talk([Request(target="/text"), Request(target="/old")], version="1.0")
    assert wire[0].startswith(b"GET /text HTTP/1.0\r\n") and b"onnection" not in wire[0]
    assert statuses(client) == [200, None] and server.closed
    assert "new one" in client.error


def test_chunked_bodies_and_garbage():
    client, _server, _wire = talk([Request(target="/big")])
    big = client.exchanges[0]
    assert big.header("Transfer-Encoding") == "chunked" and len(big.body) == 10240
    client, server, _wire = talk([Request(target="/text")], raw=b"NOT HTTP AT ALL\r\n\r\n")
    assert statuses(client) == [400] and server.closed
    assert server.log[-1].status == 400


def test_a_body_is_a_size_or_the_text_itself():
    assert resource_from_spec("/x", {"body": "3 parsecs"}, parse_time, parse_size).content(0) \
        == b"3 parsecs"
    assert len(resource_from_spec("/x", {"body": "3KiB"}, parse_time, parse_size).content(0)) == 3072


def test_a_response_that_does_not_parse_is_the_clients_error():
    client = HttpClientConnection([Request("GET", "/")], host="h")
    client.start(0.0)
    client.outputs()
    with pytest.raises(PeerError, match="Received HTTP/0.9 when not allowed"):   # curl's words
        client.receive(b"220 ftp.example.com FTP server ready\r\nWhat?\r\n\r\n", 1.0)
    assert client.finished and client.failure == "not_http"
    assert client.exchanges[0].error == client.error and client.exchanges[0].status is None
