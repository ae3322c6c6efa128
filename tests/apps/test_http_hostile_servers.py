"""netsim's HTTP clients against hostile servers on a simulated network (issue 19): a
scripted raw-TCP server on node b — a real peer's own program, written with the socket
API — answers the browser, http-get and the web-service callers badly. Each time only
the affected fetch or app fails, worded as Chrome or curl words it, and the run goes on
(a ping after it finishes); nothing but a PeerError leaves an engine (the suite is
strict)."""

import pytest

from netsim import line, parse_scenario
from netsim.apps.browser import Browser
from netsim.apps.http import HttpGet
from netsim.apps.ping import Ping
from netsim.apps.web_clients import HttpDnsLookup, Poller, RestClient, SoapClient
from netsim.errors import ScenarioError


def response(body=b"", *, head=b"HTTP/1.1 200 OK", extra=b"Content-Type: text/html\r\n"):
    return head + b"\r\n" + extra + b"Content-Length: %d\r\n\r\n" % len(body) + body


def page(*embeds):
    return response(b"<html><body>" + b"".join(b'<img src="%s">' % e for e in embeds)
                    + b"</body></html>")


class ScriptedServer:
    """Listens on b:80; every request is answered with ``answer(target, head)``: bytes
    to send, or None to close the connection instead. ``later`` are (delay, bytes)
    pushed on the first connection after its first answer, asked for or not."""

    def __init__(self, net, node, answer, later=()):
        self.env, self.answer, self.later = net.env, answer, list(later)
        self.heads: list[bytes] = []
        self.connections = 0
        listener = node.tcp_listen(80)
        self.env.process(self._accept(listener))

    def _accept(self, listener):
        while True:
            sock = yield listener.accept()
            self.connections += 1
            self.env.process(self._serve(sock, self.connections))

    def _serve(self, sock, number):
        buffer = b""
        while True:
            data = yield sock.recv()
            if not data:
                sock.close()
                return
            buffer += data
            while b"\r\n\r\n" in buffer:
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                self.heads.append(head)
                target = head.split(b" ")[1].decode()
                answer = self.answer(target, head)
                if answer is None:
                    sock.close()
                    return
                yield sock.send(answer)
                if number == 1 and self.later:
                    for delay, extra in self.later:
                        yield self.env.timeout(delay)
                        yield sock.send(extra)
                    self.later = []


def run(make_client, answer, *, later=(), until=10.0):
    net, (a, b) = line(["a", "b"], delay="1ms")
    server = ScriptedServer(net, b, answer, later)
    client = make_client(a)
    ping = Ping(a, target="b", count=1, at=until - 2)
    net.run(until)
    assert ping.status == "finished"                  # the run went on
    return net, client, server


def peer_notes(net):
    return [n.detail for n in net.trace.notes if n.what == "app-error"]


# -- the browser -------------------------------------------------------------------------------

def test_a_400_digit_max_age_is_a_cookie_for_400_days_and_it_is_sent_back():
    """Issue 19: OverflowError out of the run."""
    def answer(target, head):
        cookie = b"Set-Cookie: s=1; Max-Age=" + b"9" * 400 + b"\r\n" if target == "/login" else b""
        return response(b"<html>hi</html>", extra=b"Content-Type: text/html\r\n" + cookie)

    _net, browser, server = run(lambda a: Browser(
        a, url="http://b/login", visits=[1.0, {"at": 2.0, "url": "http://b/account"}]), answer)
    assert browser.status == "finished"
    assert browser.result()["cookies"] == ["s@b/"]
    assert b"Cookie: s=1" in server.heads[-1]


def test_a_location_that_is_no_url_fails_that_visit_as_chrome_does():
    """Issue 19: ValueError ('Invalid IPv6 URL') out of the run."""
    def answer(target, head):
        if target == "/moved":
            return response(head=b"HTTP/1.1 302 Found", extra=b"Location: http://[bad/\r\n")
        return page()

    _net, browser, _server = run(lambda a: Browser(
        a, url="http://b/moved", visits=[1.0, {"at": 2.0, "url": "http://b/ok"}]), answer)
    first, second = browser.result()["visits"]
    assert first["error"] == "net::ERR_INVALID_REDIRECT ('http://[bad/': Invalid IPv6 URL)"
    assert second["status"] == 200
    assert "  GET /moved  302 Found  FAILED: net::ERR_INVALID_REDIRECT" in "\n".join(browser.lines)


def test_an_unsolicited_response_on_an_idle_keep_alive_connection_is_dropped_with_it():
    """Issue 19: IndexError in HttpClientConnection._drain. Chrome drops the socket."""
    _net, browser, server = run(lambda a: Browser(a, url="http://b/", visits=[1.0, 4.0]),
                                lambda target, head: page(), later=[(0.5, page())])
    assert browser.status == "finished"
    assert [v["status"] for v in browser.result()["visits"]] == [200, 200]
    assert server.connections == 2                    # the second visit on a new connection
    assert "  GET /  200 OK  90 B  4.1 ms  conn #2 to 10.0.1.2" in browser.lines


def test_a_redirect_to_a_70_letter_label_is_not_resolved():
    """Issue 19: dns.name.LabelTooLong out of the run."""
    location = b"Location: http://" + b"a" * 70 + b".example/\r\n"
    net, browser, _server = run(lambda a: Browser(a, url="http://b/", at=1.0), lambda target, head:
                                response(head=b"HTTP/1.1 301 Moved", extra=location))
    assert browser.status == "failed"
    assert browser.error == "net::ERR_NAME_NOT_RESOLVED (a label of 70 characters (at most 63))"
    assert not [r for r in net.trace.records() if r.kind == "tx" and r.protocol == "DNS"]


@pytest.mark.parametrize("bad,words", [
    (b"HTTP/1.1 2000 OK\r\n\r\n", "net::ERR_INVALID_RESPONSE"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", "net::ERR_INVALID_RESPONSE"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx",
     "net::ERR_RESPONSE_HEADERS_MULTIPLE_CONTENT_LENGTH"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", "net::ERR_INVALID_CHUNKED_ENCODING"),
    (b"HTTP/1.1 200 OK\r\nX: " + b"a" * 300_000 + b"\r\n\r\n", "net::ERR_RESPONSE_HEADERS_TOO_BIG"),
])
def test_an_object_with_a_bad_answer_fails_alone_and_the_page_loads(bad, words):
    def answer(target, head):
        return {"/": page(b"/bad.png", b"/ok.png"), "/bad.png": bad}.get(target, response(b"png"))

    net, browser, _server = run(lambda a: Browser(a, url="http://b/", at=1.0), answer)
    objects = {o["url"]: o for o in browser.result()["visits"][0]["objects"]}
    assert objects["http://b/bad.png"]["error"] == words
    assert objects["http://b/ok.png"]["status"] == 200 and objects["http://b/"]["status"] == 200
    assert browser.status == "finished"               # the page loaded; one object did not
    assert peer_notes(net) == [{"app": "browser", "error": words, "cause": "peer"}]


def test_an_embed_that_is_no_url_fails_alone():
    _net, browser, _server = run(lambda a: Browser(a, url="http://b/", at=1.0), lambda target, head:
                                 page(b"http://[bad/", b"/ok.png") if target == "/" else response())
    lines = "\n".join(browser.lines)
    assert "  GET http://[bad/  FAILED: net::ERR_INVALID_URL ('http://[bad/': Invalid IPv6 URL)" in lines
    assert "  GET /ok.png  200 OK" in lines


def test_a_scenario_embedding_a_url_that_is_none_is_refused_when_it_loads():
    """Issue 19: embeds: ['http://[bad/'] validated and then crashed the run."""
    text = """
name: bad-embed
nodes: {a: {kind: host, ip: 10.0.0.1/24}, b: {kind: host, ip: 10.0.0.2/24}}
links: [{endpoints: [a, b]}]
apps:
  - {node: b, run: http-server, sites: {"*": {/: {body: 1KiB, embeds: ["http://[bad/"]}}}}
  - {node: a, at: 1s, run: browser, url: "http://b/"}
"""
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text)
    # The host and path in brackets: "*" and "/" read as keys of their own, not dots.
    assert caught.value.path == 'apps[0].sites["*"]["/"].embeds[0]' and caught.value.line == 6


# -- http-get, as curl -----------------------------------------------------------------------

@pytest.mark.parametrize("answer,error,code", [
    (b"HTTP/1.1 2000 OK\r\n\r\n", "Weird server reply", 8),
    (b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", "Invalid Content-Length: -5", 8),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
     "Illegal or missing hexadecimal sequence in chunked-encoding", 56),
    (b"HTTP/1.1 200 OK\r\nX: " + b"a" * 200_000 + b"\r\n\r\n",
     "Too large response headers: 102808 > 102400", 56),      # what had come when it gave up
])
def test_http_get_says_what_curl_says_of_a_response_that_is_not_http(answer, error, code):
    net, get, _server = run(lambda a: HttpGet(a, url="http://b/", at=1.0), lambda t, h: answer)
    assert get.status == "failed" and get.error == error
    assert get.lines[-1] == f"* {error}" and get.result()["curl_exit"] == code
    assert peer_notes(net) == [{"app": "http-get", "error": error, "cause": "peer"}]


@pytest.mark.parametrize("answer,error,code", [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "transfer closed with 7 bytes remaining to read", 18),
    (b"", "Empty reply from server", 52),
])
def test_http_get_says_what_curl_says_of_a_close_mid_answer(answer, error, code):
    net, (a, b) = line(["a", "b"], delay="1ms")
    listener = b.tcp_listen(80)

    def answer_then_close():
        sock = yield listener.accept()
        yield sock.recv()
        if answer:
            yield sock.send(answer)
        sock.close()

    net.env.process(answer_then_close())
    get = HttpGet(a, url="http://b/", at=1.0)
    net.run(5)
    assert get.status == "failed" and get.error == error
    assert get.result()["curl_exit"] == code


def test_max_time_is_curls_and_resets_the_connection():
    net, get, _server = run(lambda a: HttpGet(a, url="http://b/", at=1.0, max_time=2.0),
                            lambda target, head: b"HTTP/1.1 200 OK\r\n")   # and then nothing
    assert get.error == "Operation timed out after 2000 milliseconds with 17 bytes received"
    assert get.result()["curl_exit"] == 28
    resets = [r.time for r in net.trace.records() if r.kind == "tx" and r.node == "a"
              and r.label.startswith("TCP RST")]
    assert resets == [3.0]                            # curl gives up at --max-time: RST


# -- the web-service callers -------------------------------------------------------------------

def test_a_rest_client_stops_at_a_bad_answer_in_curls_words():
    _net, client, _server = run(lambda a: RestClient(
        a, url="http://b/v1", calls=[{"method": "GET", "path": "/x"}, {"method": "GET", "path": "/y"}],
        at=1.0), lambda target, head: response(b"[" * 100_000, extra=b"Content-Type: application/json\r\n")
        if target == "/v1/x" else b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n")
    first, second = client.result()["calls"]
    assert first["status"] == 200 and first["body"].startswith("[[[")   # too deep for JSON
    assert second["error"] == "Invalid Content-Length: x" and client.status == "failed"


def test_a_poller_takes_an_update_with_no_time_in_it_as_nothing_new():
    _net, poller, _server = run(lambda a: Poller(a, url="http://b/latest", every=1.0, duration=2.0,
                                                 at=1.0),
                                lambda target, head: response(b"#1 @1.2.3 AAPL 100"))
    assert poller.status == "finished" and poller.result()["updates_seen"] == 0


def test_an_httpdns_answer_that_is_no_answer_is_no_address():
    _net, lookup, _server = run(lambda a: HttpDnsLookup(a, server="10.0.1.2", names=["w.example"],
                                                        json=True, at=1.0),
                                lambda target, head: response(b'{"ips": [7, "999.1.1.1", "10.0.0.9"], '
                                                              b'"ttl": "soon"}',
                                                              extra=b"Content-Type: application/json\r\n"))
    assert lookup.result()["answers"] == {"w.example": ["10.0.0.9"]}


def test_a_wsdl_whose_soap_action_cannot_go_in_a_header_uses_the_default():
    wsdl = (b'<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" '
            b'xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" targetNamespace="http://t/">'
            b'<binding><operation name="Op"><soap:operation soapAction="a&#10;X-Evil: 1"/>'
            b'</operation></binding></definitions>')

    def answer(target, head):
        if target.endswith("?wsdl"):
            return response(wsdl, extra=b"Content-Type: text/xml\r\n")
        return response(b'<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Body>'
                        b'<OpResponse><r>1</r></OpResponse></Body></Envelope>',
                        extra=b"Content-Type: text/xml\r\n")

    _net, client, server = run(lambda a: SoapClient(a, url="http://b/ws", calls=[{"operation": "Op"}],
                                                    at=1.0), answer)
    assert client.status == "finished"
    assert b'SOAPAction: "http://t//Op"' in server.heads[-1] and b"X-Evil" not in server.heads[-1]
