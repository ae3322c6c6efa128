"""The HTTP server engine against real clients: the standard library's ``http.client``
over a fake socket that hands its bytes to the engine (and the engine's back), and h11's
client state machine reading what the engine writes. What nginx does where the RFCs
leave the choice: HEAD's Content-Length, ``Accept-Ranges`` and ranges, no Content-Type on
a 304, ``Connection: keep-alive`` to an HTTP/1.0 keep-alive request, ``100 Continue``,
absolute-form targets, and a request with both Content-Length and Transfer-Encoding
refused and the connection closed (RFC 9112 §6.3)."""

import http.client
import io
import re

import h11
import pytest

from netsim.proto.http import HttpServerConnection, Site, resource_from_spec
from netsim.proto.http.site import http_date
from netsim.proto.stream import Close, Send
from netsim.units import parse_size, parse_time

def sites():
    www = {"/": {"body": "hello from www", "etag": "auto", "last_modified": "0s"},
           "/bytes": {"body": "1KiB", "type": "application/octet-stream", "etag": "auto",
                      "last_modified": "0s"},
           "/form": {"body": "ok", "methods": ["GET", "POST"]},
           "/stream": {"body": "3KiB", "chunked": True}}
    other = {"/": {"body": "hello from other"}}
    return {host: Site(host, {p: resource_from_spec(p, s, parse_time, parse_size)
                              for p, s in paths.items()})
            for host, paths in (("www", www), ("other", other))}


class EngineSocket:
    """What ``http.client`` sees as its socket: each ``sendall`` goes to the engine at
    once, and its answer is what the next read finds (EOF once it closed and all is read)."""

    def __init__(self, engine):
        self.engine, self.inbox, self.closed_by_server, self.now = engine, bytearray(), False, 1.0
        self.sent = bytearray()
        engine.start(0.0)

    def sendall(self, data):
        self.sent += data
        self.engine.receive(bytes(data), self.now)
        for out in self.engine.outputs():
            if isinstance(out, Send):
                self.inbox += out.data
            elif isinstance(out, Close):
                self.closed_by_server = True

    def makefile(self, mode):
        return io.BufferedReader(_Reader(self))

    def close(self):
        pass


class _Reader(io.RawIOBase):
    def __init__(self, sock):
        self.sock = sock

    def readable(self):
        return True

    def readinto(self, buffer):
        n = min(len(buffer), len(self.sock.inbox))
        buffer[:n] = self.sock.inbox[:n]
        del self.sock.inbox[:n]
        return n


def connect(engine=None, version=11):
    """An ``http.client`` connection to a fresh engine (HTTP/1.0 if ``version`` is 10)."""
    conn = http.client.HTTPConnection("www")
    conn.sock = EngineSocket(engine or HttpServerConnection(sites()))
    if version == 10:
        conn._http_vsn, conn._http_vsn_str = 10, "HTTP/1.0"
    return conn


def test_http_client_reads_a_head_answer_by_its_framing_then_the_next_answer():
    conn = connect()
    conn.request("HEAD", "/bytes")
    head = conn.getresponse()
    assert head.status == 200 and head.read() == b""
    assert head.getheader("Content-Length") == "1024"          # the GET's (RFC 9110 §9.3.2)
    assert head.getheader("Accept-Ranges") == "bytes"
    conn.request("GET", "/bytes")                               # same connection
    got = conn.getresponse()
    assert got.status == 200 and len(got.read()) == 1024
    assert not conn.sock.closed_by_server


def test_a_range_gets_206_and_a_range_past_the_end_416():
    conn = connect()
    whole = conn.request("GET", "/bytes") or conn.getresponse().read()
    for asked, status, content_range, part in [
            ("bytes=0-99", 206, "bytes 0-99/1024", whole[:100]),
            ("bytes=1000-", 206, "bytes 1000-1023/1024", whole[1000:]),
            ("bytes=-24", 206, "bytes 1000-1023/1024", whole[1000:]),
            ("bytes=0-0,5-9", 200, None, whole),                # several: the whole body
            ("bytes=9-2", 200, None, whole),                    # invalid: ignored
            ("bytes=1024-", 416, "bytes */1024", None)]:
        conn.request("GET", "/bytes", headers={"Range": asked})
        answer = conn.getresponse()
        body = answer.read()
        assert (answer.status, answer.getheader("Content-Range")) == (status, content_range)
        if part is not None:
            assert body == part and answer.getheader("Content-Length") == str(len(part))


def test_if_range_with_an_old_validator_gets_the_whole_body():
    conn = connect()
    conn.request("GET", "/bytes")
    first = conn.getresponse()
    first.read()
    etag, modified = first.getheader("ETag"), first.getheader("Last-Modified")
    for validator, status in ((etag, 206), (modified, 206), ('"old"', 200),
                              (http_date(3600), 200)):
        conn.request("GET", "/bytes", headers={"Range": "bytes=0-9", "If-Range": validator})
        answer = conn.getresponse()
        answer.read()
        assert answer.status == status, validator


def test_a_chunked_answer_has_no_accept_ranges_and_ignores_a_range():
    conn = connect()
    conn.request("GET", "/stream", headers={"Range": "bytes=0-9"})
    answer = conn.getresponse()
    assert answer.status == 200 and answer.getheader("Accept-Ranges") is None
    assert answer.getheader("Transfer-Encoding") == "chunked" and len(answer.read()) == 3072


def test_a_304_has_the_validators_and_no_content_type():
    conn = connect()
    conn.request("GET", "/")
    first = conn.getresponse()
    etag = first.getheader("ETag")
    first.read()
    conn.request("GET", "/", headers={"If-None-Match": etag})
    answer = conn.getresponse()
    assert answer.status == 304 and answer.read() == b""
    assert answer.getheader("ETag") == etag and answer.getheader("Last-Modified")
    assert answer.getheader("Content-Type") is None            # nginx's not-modified filter
    assert answer.getheader("Content-Length") is None and answer.getheader("Accept-Ranges") is None


def test_an_http_1_0_keep_alive_request_is_answered_keep_alive_and_the_connection_kept():
    conn = connect(version=10)
    sock = conn.sock
    conn.request("GET", "/", headers={"Connection": "keep-alive"})
    answer = conn.getresponse()
    assert answer.version == 11 and answer.getheader("Connection") == "keep-alive"
    assert answer.read() == b"hello from www" and not conn.sock.closed_by_server
    conn.request("HEAD", "/", headers={"Connection": "keep-alive"})     # and again
    answer = conn.getresponse()
    assert answer.getheader("Content-Length") == "14" and answer.read() == b""
    conn.request("GET", "/")                                            # no keep-alive
    answer = conn.getresponse()
    assert answer.getheader("Connection") == "close" and answer.read() == b"hello from www"
    assert sock.closed_by_server


def test_expect_100_continue_gets_100_continue_before_the_answer():
    engine = HttpServerConnection(sites())
    sock = EngineSocket(engine)
    sock.sendall(b"POST /form HTTP/1.1\r\nHost: www\r\nContent-Length: 3\r\n"
                 b"Expect: 100-continue\r\n\r\n")
    assert bytes(sock.inbox) == b"HTTP/1.1 100 Continue\r\n\r\n"     # at once, nothing else
    sock.sendall(b"a=1")
    reader = h11.Connection(h11.CLIENT)                                   # h11 reads them
    reader.send(h11.Request(method="POST", target="/form",
                            headers=[("Host", "www"), ("Content-Length", "3"),
                                     ("Expect", "100-continue")]))
    reader.send(h11.Data(data=b"a=1"))
    reader.send(h11.EndOfMessage())
    reader.receive_data(bytes(sock.inbox))
    first, second = reader.next_event(), reader.next_event()
    assert isinstance(first, h11.InformationalResponse) and first.status_code == 100
    assert isinstance(second, h11.Response) and second.status_code == 200
    conn = connect()                                 # http.client skips the 100 itself
    conn.request("POST", "/form", body=b"a=1", headers={"Expect": "100-continue"})
    assert conn.getresponse().status == 200 and conn.sock.inbox == b""


@pytest.mark.parametrize("head", [
    b"GET /form HTTP/1.1\r\nHost: www\r\nExpect: 100-continue\r\n\r\n",           # no body
    b"POST /form HTTP/1.0\r\nHost: www\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n",
    b"POST /form HTTP/1.1\r\nHost: www\r\nContent-Length: 9999999\r\n"
    b"Expect: 100-continue\r\n\r\n",                                              # 413 first
])
def test_no_100_continue_without_a_body_in_http_1_0_or_for_a_body_refused(head):
    sock = EngineSocket(HttpServerConnection(sites()))
    sock.sendall(head)
    assert b"100 Continue" not in sock.inbox


def test_an_absolute_form_target_is_for_the_host_it_names_not_the_host_header():
    engine = HttpServerConnection(sites())
    sock = EngineSocket(engine)
    sock.sendall(b"GET http://OTHER:80 HTTP/1.1\r\nHost: www\r\n\r\n"
                 b"GET http://www/bytes?x=1 HTTP/1.1\r\nHost: other\r\n\r\n")
    reader = h11.Connection(h11.CLIENT)
    reader.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
    reader.send(h11.EndOfMessage())
    reader.receive_data(bytes(sock.inbox))
    assert reader.next_event().status_code == 200
    assert reader.next_event().data == b"hello from other"
    assert [e.target for e in engine.log] == ["http://OTHER:80", "http://www/bytes?x=1"]
    assert [e.status for e in engine.log] == [200, 200]


@pytest.mark.parametrize("head,why", [
    (b"POST /form HTTP/1.1\r\nHost: www\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n",
     b'client sent "Content-Length" and "Transfer-Encoding" headers at the same time'),
    (b"POST /form HTTP/1.0\r\nHost: www\r\nTransfer-Encoding: chunked\r\n",
     b'client sent HTTP/1.0 request with "Transfer-Encoding" header'),
])
def test_a_request_framed_two_ways_is_refused_and_the_connection_closed(head, why):
    # RFC 9112 §6.3: a request smuggled inside the chunked body must not be served.
    smuggled = b"GET /bytes HTTP/1.1\r\nHost: www\r\n\r\n"
    sock = EngineSocket(HttpServerConnection(sites()))
    sock.sendall(head + b"\r\n0\r\n\r\n" + smuggled)
    answers = re.findall(rb"HTTP/1\.1 [0-9]{3}", bytes(sock.inbox))
    assert answers == [b"HTTP/1.1 400"] and why in sock.inbox and sock.closed_by_server


def test_a_transfer_coding_it_does_not_know_is_501_and_a_close():
    sock = EngineSocket(HttpServerConnection(sites()))
    sock.sendall(b"POST /form HTTP/1.1\r\nHost: www\r\nTransfer-Encoding: gzip\r\n\r\n")
    assert sock.inbox.startswith(b"HTTP/1.1 501 Not Implemented\r\n") and sock.closed_by_server
    assert sock.engine.log[-1].status == 501 and sock.engine.log[-1].method == "?"


def test_h11_reads_every_answer_the_site_gives_as_well_formed():
    """h11 as the client: each answer's framing agrees with the request it answers."""
    engine = HttpServerConnection(sites())
    sock = EngineSocket(engine)
    asked = [("GET", "/"), ("HEAD", "/bytes"), ("GET", "/stream"), ("GET", "/nope"),
             ("HEAD", "/nope"), ("POST", "/form"), ("GET", "/bytes")]
    reader = h11.Connection(h11.CLIENT)
    for method, target in asked:
        sock.sendall(f"{method} {target} HTTP/1.1\r\nHost: www\r\n"
                     f"{'Content-Length: 0' + chr(13) + chr(10) if method == 'POST' else ''}"
                     "\r\n".encode())
    statuses, bodies = [], []
    reader.receive_data(bytes(sock.inbox))
    for method, target in asked:
        reader.send(h11.Request(method=method, target=target, headers=[("Host", "www")]))
        reader.send(h11.EndOfMessage())
        body = b""
        while True:
            event = reader.next_event()
            if isinstance(event, h11.Response):
                statuses.append(event.status_code)
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
        bodies.append(len(body))
        reader.start_next_cycle()
    assert statuses == [200, 200, 200, 404, 404, 200, 200]
    assert bodies[1] == bodies[4] == 0 and bodies[2] == 3072 and bodies[6] == 1024


def test_pipelined_http_1_0_keep_alive_requests_are_each_answered_and_the_last_closes():
    sock = EngineSocket(HttpServerConnection(sites()))
    keep = b"GET / HTTP/1.0\r\nHost: www\r\nConnection: keep-alive\r\n\r\n"
    sock.sendall(keep + keep.replace(b"GET", b"HEAD") + b"GET /bytes HTTP/1.0\r\nHost: www\r\n\r\n")
    heads = re.findall(rb"HTTP/1\.1 200 OK\r\n(?:[^\r]+\r\n)*\r\n", bytes(sock.inbox))
    assert [b"Connection: keep-alive" in h for h in heads] == [True, True, False]
    assert b"Connection: close" in heads[2] and sock.closed_by_server
    assert [e.version for e in sock.engine.log] == ["1.0", "1.0", "1.0"]
    assert b"Content-Length: 1024" in heads[2]
