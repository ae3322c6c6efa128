"""The HTTP client's engines against hostile servers, with no simulator: the client
connection fed raw bytes, and the browser's navigation and a caller's plan driven over a
fake wire by scripted servers. Every failure is worded as the real tool words it (curl
for a connection's default, Chrome for the browser), fails only its fetch, and never
raises anything but a PeerError."""

import pytest

from netsim.errors import PeerError
from netsim.proto.http.caller import Caller, Pause, PlanDone
from netsim.proto.http.client import Done, HttpClientConnection, Request
from netsim.proto.http.failures import CHROME, CURL
from netsim.proto.http.navigation import FetchDone, Lookup, Navigator, Visit, VisitDone
from netsim.proto.http.pool import Established, Finished, Kick, Open, ResponseDone
from netsim.proto.stream import Close, Failed, Send


def connection(**options):
    client = HttpClientConnection([Request("GET", "/")], host="h", **options)
    client.start(0.0)
    [sent] = client.outputs()
    assert isinstance(sent, Send)
    return client


def response(body=b"hi", *, head=b"HTTP/1.1 200 OK", extra=b""):
    return head + b"\r\nContent-Length: %d\r\n" % len(body) + extra + b"\r\n" + body


# -- one connection, raw bytes -----------------------------------------------------------

@pytest.mark.parametrize("raw,kind,curl,chrome", [
    (b"HTTP/1.1 2000 OK\r\n\r\n", "invalid", "Weird server reply", "net::ERR_INVALID_RESPONSE"),
    ("HTTP/1.1 ٢٠٠ OK\r\n\r\n".encode(), "invalid", "Weird server reply",
     "net::ERR_INVALID_RESPONSE"),                                      # Unicode digits
    (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "not_http", "Received HTTP/0.9 when not allowed",
     "net::ERR_INVALID_HTTP_RESPONSE"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", "content_length",
     "Invalid Content-Length: -5", "net::ERR_INVALID_RESPONSE"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: " + b"9" * 400 + b"\r\n\r\n", "content_length",
     "Invalid Content-Length: " + "9" * 40, "net::ERR_INVALID_RESPONSE"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nhi", "multiple_length",
     "Weird server reply", "net::ERR_RESPONSE_HEADERS_MULTIPLE_CONTENT_LENGTH"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunked",
     "Illegal or missing hexadecimal sequence in chunked-encoding",
     "net::ERR_INVALID_CHUNKED_ENCODING"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "invalid", "Weird server reply",
     "net::ERR_INVALID_RESPONSE"),
    (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "invalid", "Weird server reply",
     "net::ERR_INVALID_RESPONSE"),
])
def test_a_response_that_is_not_http_is_a_peer_error_in_the_tools_words(raw, kind, curl, chrome):
    for wording, words in ((CURL, curl), (CHROME, chrome)):
        client = connection(wording=wording)
        with pytest.raises(PeerError) as caught:
            client.receive(raw, 1.0)
        assert caught.value.message == words
        assert client.failure == kind and client.finished
        assert client.exchanges[0].error == words and client.exchanges[0].failure == kind


def test_a_head_past_the_clients_limit_is_too_big_as_curl_and_chrome_count():
    head = b"HTTP/1.1 200 OK\r\nX-Filler: " + b"a" * 150_000
    curl = connection()
    with pytest.raises(PeerError, match=r"Too large response headers: \d+ > 102400"):
        curl.receive(head, 1.0)
    chrome = connection(wording=CHROME, header_limit=256 * 1024)
    chrome.receive(head, 1.0)                          # under Chrome's 256 KiB: still reading
    with pytest.raises(PeerError, match="ERR_RESPONSE_HEADERS_TOO_BIG"):
        chrome.receive(b"a" * 150_000, 1.0)


@pytest.mark.parametrize("raw,curl,chrome", [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
     "transfer closed with 7 bytes remaining to read", "net::ERR_CONTENT_LENGTH_MISMATCH"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
     "transfer closed with outstanding read data remaining", "net::ERR_INCOMPLETE_CHUNKED_ENCODING"),
    (b"HTTP/1.1 200 OK\r\nContent-Le", "Empty reply from server", "net::ERR_RESPONSE_HEADERS_TRUNCATED"),
])
def test_a_close_in_the_middle_of_a_response_is_a_peer_error(raw, curl, chrome):
    for wording, words in ((CURL, curl), (CHROME, chrome)):
        client = connection(wording=wording)
        client.receive(raw, 1.0)
        with pytest.raises(PeerError) as caught:
            client.connection_lost(1.1)
        assert caught.value.message == words


def test_a_close_before_any_byte_is_an_empty_reply_that_a_browser_may_retry():
    client = connection(wording=CHROME)
    client.connection_lost(1.0)                        # no PeerError: the idle-timeout race
    assert client.outputs() == [Failed("net::ERR_EMPTY_RESPONSE")]
    assert client.exchanges[0].failure == "empty"


def test_a_reason_phrase_with_obs_text_is_read_not_a_unicode_error():
    client = connection()
    client.receive(response(head=b"HTTP/1.1 200 \xff\xfeOK"), 1.0)
    assert client.exchanges[0].status == 200 and client.exchanges[0].reason == "\xff\xfeOK"


def test_an_unsolicited_second_response_on_an_idle_connection_drops_it_quietly():
    """Issue 19: an IndexError in _drain. Chrome drops an idle socket with data to read."""
    client = HttpClientConnection(host="h", keep_open=True)
    client.start(0.0)
    client.submit(Request("GET", "/"), 0.0)
    client.outputs()
    client.receive(response(), 1.0)
    assert client.exchanges[0].status == 200 and not client.finished
    client.receive(response(b"nobody asked"), 2.0)
    assert client.unsolicited and client.finished and client.error is None
    assert client.outputs() == [Close(), Done()]


@pytest.mark.parametrize("after", [b"junk after the body", response(b"a second answer")])
def test_bytes_after_the_answer_in_the_same_read_make_the_connection_unusable(after):
    client = HttpClientConnection(host="h", keep_open=True)
    client.start(0.0)
    client.submit(Request("GET", "/"), 0.0)
    client.outputs()
    client.receive(response() + after, 1.0)
    assert client.exchanges[0].body == b"hi" and client.exchanges[0].error is None
    assert client.unsolicited and client.finished


def test_a_body_to_head_is_not_the_next_answer():
    client = HttpClientConnection(host="h", keep_open=True)
    client.start(0.0)
    client.submit(Request("HEAD", "/"), 0.0)
    client.outputs()
    client.receive(response(b"a body HEAD must not have"), 1.0)
    assert client.exchanges[0].status == 200 and client.exchanges[0].body == b""
    assert client.finished                              # not reused for the next request


def test_max_time_is_the_engines_timer_and_resets_the_connection():
    client = connection(max_time=3.0, since=1.0)
    assert client.get_timer() == 4.0
    client.receive(b"HTTP/1.1 200 OK\r\n", 2.0)
    client.handle_timer(4.0)
    [failed] = client.outputs()
    assert failed == Failed("Operation timed out after 3000 milliseconds with 17 bytes received",
                            reset=True)
    assert client.get_timer() is None and client.exchanges[0].failure == "timeout"


def test_a_value_the_server_gave_goes_back_as_its_octets():
    """A cookie or ETag with obs-text: h11 would encode a str as ASCII and raise."""
    client = HttpClientConnection([Request("GET", "/", [("Cookie", "a=caf\xe9")])], host="h")
    client.start(0.0)
    [sent] = client.outputs()
    assert b"Cookie: a=caf\xe9\r\n" in sent.data


# -- the browser's navigation over a fake wire ---------------------------------------------

class FakeWire:
    """Runs a pool client with no simulator: connections come up at once, every request
    is answered by ``server(method, target, headers)`` → bytes (or None: close instead),
    names resolve from ``dns``; time only moves to the engine's next deadline."""

    def __init__(self, engine, server, dns=None):
        self.engine, self.server, self.dns = engine, server, dns or {}
        self.now = 0.0
        self.outputs, self.lookups, self.connections, self.requests = [], [], [], []
        self._deliver = []

    def run(self, until=100.0):
        while True:
            self._settle()
            deadline = self.engine.get_timer()
            if deadline is None or deadline > until:
                return self
            self.now = max(self.now, deadline)
            self.engine.handle_timer(self.now)

    def _settle(self):
        while True:
            outs = self.engine.outputs()
            for out in outs:
                if isinstance(out, Open):
                    self.connections.append(out.connection)
                    out.connection.start(self.now)
                    self._flush(out.connection)
                elif isinstance(out, Kick):
                    self._flush(out.connection)
                elif isinstance(out, Lookup):
                    self.lookups.append(out.host)
                    address = self.dns.get(out.host)
                    self.engine.resolved(out.host, [address] if address else [],
                                         None if address else "Name or service not known", self.now)
                else:
                    self.outputs.append(out)
            if not outs and not self._deliver:
                return
            while self._deliver:
                conn, data = self._deliver.pop(0)
                if conn.closed:
                    continue
                try:
                    if data is None:
                        conn.connection_lost(self.now)
                    else:
                        conn.receive(data, self.now)
                except PeerError as exc:
                    self._flush(conn)
                    self.engine.connection_ended(conn, refused=None, failure=exc.message,
                                                 now=self.now)
                    continue
                self._flush(conn)

    def _flush(self, conn):
        for out in conn.outputs():
            if isinstance(out, Send):
                for method, target, headers in _requests(out.data):
                    self.requests.append((conn.number, method, target, headers))
                    self._deliver.append((conn, self.server(method, target, headers)))
            elif isinstance(out, Failed):
                self.engine.connection_ended(conn, refused=None, failure=out.message, now=self.now)
            elif isinstance(out, (Established, ResponseDone, Finished)):
                self.engine.connection_event(out, self.now)

    def fetches(self):
        return [o.fetch for o in self.outputs if isinstance(o, FetchDone)]


def _requests(data):
    out = []
    while data:
        head, _, data = data.partition(b"\r\n\r\n")
        line, *fields = head.decode("latin-1").split("\r\n")
        method, target, _version = line.split(" ")
        headers = dict(f.split(": ", 1) for f in fields)
        length = int(headers.get("Content-Length", 0))
        data = data[length:]
        out.append((method, target, headers))
    return out


def page(*embeds, extra=b""):
    body = b"<html><body>" + b"".join(b'<img src="%s">' % e for e in embeds) + b"</body></html>"
    return response(body, extra=b"Content-Type: text/html\r\n" + extra)


def browse(server, *visits, **options):
    plan = [Visit(n, at, url) for n, (at, url) in enumerate(visits, 1)]
    nav = Navigator(plan, hosts=lambda name: "10.0.0.2" if name == "web" else None, **options)
    wire = FakeWire(nav, server).run()
    assert nav.done
    return nav, wire


def test_a_cookie_with_a_400_digit_max_age_lives_400_days_and_is_sent_back():
    """Issue 19: OverflowError (an int of 400 digits added to a float)."""
    def server(method, target, headers):
        if target == "/login":
            return page(extra=b"Set-Cookie: s=1; Max-Age=" + b"9" * 400 + b"\r\n")
        return page()

    nav, wire = browse(server, (1.0, "http://web/login"), (2.0, "http://web/next"))
    [cookie] = nav.jar.cookies.values()
    assert cookie.expires == 1.0 + 400 * 24 * 3600
    assert wire.requests[-1][3]["Cookie"] == "s=1"


def test_a_location_that_is_no_url_is_an_invalid_redirect_and_the_next_visit_goes_on():
    """Issue 19: ValueError from urljoin ('Invalid IPv6 URL')."""
    def server(method, target, headers):
        if target == "/moved":
            return b"HTTP/1.1 302 Found\r\nLocation: http://[bad/\r\nContent-Length: 0\r\n\r\n"
        return page()

    nav, _wire = browse(server, (1.0, "http://web/moved"), (2.0, "http://web/ok"))
    first, second = nav.visits
    assert first.record["error"].startswith("net::ERR_INVALID_REDIRECT")
    assert second.record["status"] == 200 and "error" not in second.record


def test_a_redirect_to_a_70_letter_label_is_not_resolved_and_nothing_is_asked():
    """Issue 19: dns.name.LabelTooLong from the stub resolver."""
    long_host = "a" * 70 + ".example"

    def server(method, target, headers):
        return (b"HTTP/1.1 302 Found\r\nLocation: http://%s/\r\nContent-Length: 0\r\n\r\n"
                % long_host.encode())

    nav, wire = browse(server, (1.0, "http://web/"))
    assert wire.lookups == []
    assert nav.visits[0].record["error"] == \
        "net::ERR_NAME_NOT_RESOLVED (a label of 70 characters (at most 63))"


def test_an_embed_that_is_no_url_fails_alone_and_the_page_loads():
    """Issue 19: a page with embeds: ['http://[bad/'] crashed the run."""
    def server(method, target, headers):
        return page(b"http://[bad/", b"/ok.png") if target == "/" else response(b"png")

    nav, wire = browse(server, (1.0, "http://web/"))
    objects = nav.visits[0].record["objects"]
    assert [(o["url"], o["status"]) for o in objects] == [
        ("http://web/", 200), ("http://[bad/", None), ("http://web/ok.png", 200)]
    assert objects[1]["error"] == "net::ERR_INVALID_URL ('http://[bad/': Invalid IPv6 URL)"


def test_an_unsolicited_response_on_an_idle_connection_costs_only_that_connection():
    """Issue 19: IndexError in HttpClientConnection._drain; a second visit goes on."""
    nav = Navigator([Visit(1, 1.0, "http://web/"), Visit(2, 5.0, "http://web/")],
                    hosts=lambda name: "10.0.0.2")
    wire = FakeWire(nav, lambda *_: page())
    wire.run(until=2.0)
    # Between the visits the server sends an answer nobody asked for on connection #1.
    [conn] = wire.connections
    conn.receive(page(), 3.0)
    wire._flush(conn)
    wire.run()
    assert [v.record["status"] for v in nav.visits] == [200, 200]
    assert [number for number, *_ in wire.requests] == [1, 2]       # a new connection


def test_a_bad_answer_fails_that_object_and_the_rest_of_the_page_loads_elsewhere():
    def server(method, target, headers):
        return {"/": page(b"/x.png", b"/ok.png"),
                "/x.png": b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n"}.get(target, response())

    nav, wire = browse(server, (1.0, "http://web/"))
    objects = {o["url"]: o for o in nav.visits[0].record["objects"]}
    assert objects["http://web/x.png"]["error"] == "net::ERR_INVALID_RESPONSE"
    assert objects["http://web/ok.png"]["status"] == 200


def test_a_request_lost_before_any_byte_goes_again_once_on_a_new_connection():
    answers = iter([page(), None, response(b"second try")])

    def server(method, target, headers):
        return next(answers)

    nav, wire = browse(server, (1.0, "http://web/"), (2.0, "http://web/again"))
    assert nav.visits[1].record["status"] == 200
    assert [(n, t) for n, _m, t, _h in wire.requests] == [(1, "/"), (1, "/again"), (2, "/again")]


def test_a_location_with_spaces_and_non_ascii_is_percent_encoded_on_the_wire():
    def server(method, target, headers):
        if target == "/moved":
            return ("HTTP/1.1 301 Moved\r\nLocation: /caf\xe9 menu\r\n"
                    "Content-Length: 0\r\n\r\n").encode("latin-1")
        return page()

    _nav, wire = browse(server, (1.0, "http://web/moved"))
    assert [t for _n, _m, t, _h in wire.requests] == ["/moved", "/caf%C3%A9%20menu"]


def test_a_visit_done_carries_its_summary():
    nav, wire = browse(lambda *_: page(), (1.0, "http://web/"))
    [done] = [o for o in wire.outputs if isinstance(o, VisitDone)]
    assert done.visit.record["requests"] == 1 and done.visit.start == 1.0


# -- a caller's plan -------------------------------------------------------------------------

def test_a_callers_pause_is_its_timer_and_the_plan_ends_with_the_connection_closed():
    asked = []

    def step(previous, now):
        asked.append((now, previous.status if previous else None))
        if previous is None:
            return Request("GET", "/latest") if now < 3.0 else None
        return Pause(now + 1.0)

    caller = Caller("web", "10.0.0.2", 80, step, user_agent="t")
    caller.start(0.0)
    wire = FakeWire(caller, lambda *_: response()).run()
    assert asked == [(0.0, None), (0.0, 200), (1.0, None), (1.0, 200), (2.0, None), (2.0, 200),
                     (3.0, None)]
    assert any(isinstance(o, PlanDone) for o in wire.outputs)
    assert [n for n, *_ in wire.requests] == [1, 1, 1]
    assert wire.connections[0].http.finished                        # closed at the end


def test_a_body_is_gathered_in_linear_time():
    # 4 MiB in 1 KiB pieces: appending each to a bytes body copied all of it every time
    # (about 8 GB of copying, seconds); gathered in a bytearray it is milliseconds.
    import time

    client = connection()
    size = 4 << 20
    client.receive(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size, 0.0)
    piece = bytes(range(256)) * 4
    started = time.perf_counter()
    for _ in range(size // len(piece)):
        client.receive(piece, 0.0)
    assert time.perf_counter() - started < 1.0
    [exchange] = client.exchanges
    assert exchange.body == piece * (size // len(piece)) and type(exchange.body) is bytes


def test_a_body_cut_short_by_the_close_or_the_timer_keeps_what_came():
    client = connection(max_time=5.0)
    client.receive(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 1.0)
    client.handle_timer(5.0)
    assert client.exchanges[0].body == b"abc" and client.failure == "timeout"
    client = connection()
    client.receive(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabcd", 1.0)
    with pytest.raises(PeerError):
        client.connection_lost(2.0)
    assert client.exchanges[0].body == b"abcd"
    client = connection()
    client.receive(b"HTTP/1.1 200 OK\r\n\r\nclose-delimited", 1.0)        # RFC 9112 §6.3 item 8
    client.connection_lost(2.0)
    assert client.exchanges[0].body == b"close-delimited" and client.error is None


def test_the_browser_cache_obeys_every_cache_control_line_and_vary_cookie():
    """RFC 9110 §5.3 and RFC 9111 §4.1 in the browser: a page with max-age=3600 on one
    line and no-cache on another is revalidated; a page that varies by Cookie is not
    shown to the visit after a login from the copy before it."""
    def server(method, target, headers):
        if target == "/login":
            return page(extra=b"Set-Cookie: s=alice; Path=/\r\n")
        if target == "/news":
            return page(extra=b"Cache-Control: max-age=3600\r\nCache-Control: no-cache\r\n"
                              b'ETag: "n1"\r\n')
        return page(extra=b'Cache-Control: max-age=3600\r\nVary: Cookie\r\nETag: "m1"\r\n')

    nav, wire = browse(server, (1.0, "http://web/news"), (2.0, "http://web/news"),
                       (3.0, "http://web/me"), (4.0, "http://web/login"), (5.0, "http://web/me"),
                       (6.0, "http://web/me"))
    asked = [(target, headers.get("If-None-Match"), headers.get("Cookie"))
             for _n, _m, target, headers in wire.requests]
    assert asked == [("/news", None, None), ("/news", '"n1"', None),     # no-cache obeyed
                     ("/me", None, None), ("/login", None, None),
                     ("/me", '"m1"', "s=alice")]                         # another variant
    assert [f.source for f in wire.fetches()][-1] == "cache"             # visit 6: fresh


@pytest.mark.parametrize("pipeline", [False, True])
def test_a_head_answer_is_framed_by_its_request_not_its_content_length(pipeline):
    """RFC 9112 §6.3: a HEAD's answer ends with its head whatever Content-Length says;
    h11 as the server answers a HEAD and a GET on one connection."""
    import h11

    client = HttpClientConnection([Request("HEAD", "/big"), Request("GET", "/small")], host="h",
                                  pipeline=pipeline)
    server = h11.Connection(h11.SERVER)
    client.start(0.0)
    for step in range(2):
        server.receive_data(b"".join(o.data for o in client.outputs() if isinstance(o, Send)))
        request = server.next_event()
        assert server.next_event() == h11.EndOfMessage()
        body = b"" if request.method == b"HEAD" else b"small"
        answer = server.send(h11.Response(status_code=200, headers=[
            ("Content-Length", "100000" if request.method == b"HEAD" else "5")]))
        answer += server.send(h11.Data(data=body)) if body else b""
        answer += server.send(h11.EndOfMessage())
        server.start_next_cycle()
        client.receive(answer, 1.0 + step)
    head, get = client.exchanges
    assert (head.status, head.header("Content-Length"), head.body) == (200, "100000", b"")
    assert (get.status, get.body) == (200, b"small")
    assert not client.unsolicited and client.error is None and client.finished
