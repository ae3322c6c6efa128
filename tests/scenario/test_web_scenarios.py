"""The bundled web scenarios (issue 11), checked against their captures: what the
browser says in its output and summary, and what tshark reads on the wire."""

import json

import pytest

from netsim import load_scenario, parse_scenario, run_scenario
from netsim.errors import ScenarioError
from tests.conftest import SCENARIOS, tshark_fields

WEB = ["http-caching", "http-1.0-vs-1.1", "http-pipelining", "http-redirects", "http-cookies",
       "rest-api", "soap-weather", "httpdns", "websocket-vs-polling"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return {name: run_scenario(load_scenario(SCENARIOS / f"{name}.yaml"), tmp_path_factory.mktemp(name))
            for name in WEB}


def app(result, name, node=None):
    return next(a for a in result.summary["apps"] if a["app"] == name and node in (None, a["node"]))


def two_hosts(apps: str, until: str = "10s", a: str = "{kind: host, ip: 10.0.0.1/24}") -> str:
    """A scenario of hosts a (10.0.0.1) and b (10.0.0.2) on one link running ``apps``
    (the ``apps:`` list's lines); the first app is on line 8."""
    apps = apps.strip("\n")
    return (f"\nname: two-hosts\nnodes:\n  a: {a}\n  b: {{kind: host, ip: 10.0.0.2/24}}\n"
            f"links: [{{endpoints: [a, b]}}]\napps:\n{apps}\nuntil: {until}\n")


def requests_on_wire(pcap):
    """(time, method, uri, status) of every HTTP message in a capture."""
    rows = tshark_fields(pcap, "frame.time_epoch", "http.request.method", "http.request.uri",
                         "http.response.code", display_filter="http")
    return [(float(t), m or None, uri or None, int(code) if code else None) for t, m, uri, code in rows]


def test_caching_miss_fresh_hit_304_and_200_after_the_change(runs):
    result = runs["http-caching"]
    visits = app(result, "browser")["result"]["visits"]
    assert [v["cache"] for v in visits] == [
        {"fresh": 0, "revalidated_304": 0, "changed_200": 0, "miss": 4},
        {"fresh": 4, "revalidated_304": 0, "changed_200": 0, "miss": 0},
        {"fresh": 0, "revalidated_304": 4, "changed_200": 0, "miss": 0},
        {"fresh": 0, "revalidated_304": 3, "changed_200": 1, "miss": 0}]
    assert [v["requests"] for v in visits] == [4, 0, 4, 4]
    assert visits[1]["load_time_s"] == 0
    output = "\n".join(app(result, "browser")["output"])
    assert "GET /app.js  200 (from cache: age 4 s < max-age 10 s)" in output
    # The capture agrees (its clock is the simulated one): visit 2 (5 s) sends nothing —
    # the only TCP frames near it are the server closing the idle connections of visit 1
    # (and ARP checks its neighbours, unicast, as Linux does).
    pcap = result.outdir / "pcap" / "alice-r1.pcap"
    near_visit_2 = tshark_fields(pcap, "frame.time_epoch", "tcp.flags.fin", "tcp.len",
                                 display_filter="tcp && frame.time_epoch >= 5 && frame.time_epoch < 19.9")
    assert near_visit_2
    assert all(int(length) == 0 for _, _, length in near_visit_2)
    by_visit = {}
    for t, method, uri, code in requests_on_wire(pcap):
        by_visit.setdefault(int(t > 19) + int(t > 34) + 1, []).append(code or method)
    assert [sorted(map(str, v)) for v in by_visit.values()] == [
        ["200"] * 4 + ["GET"] * 4, ["304"] * 4 + ["GET"] * 4, ["200"] + ["304"] * 3 + ["GET"] * 4]
    heads = tshark_fields(pcap, "http.request.line", display_filter="http.request", occurrence="a")
    conditional = [h for (h,) in heads if "If-None-Match" in h or "If-Modified-Since" in h]
    assert len(conditional) == 8                                          # visits 3 and 4


def test_http_10_vs_11_load_times_and_why(runs):
    result = runs["http-1.0-vs-1.1"]
    old = app(result, "browser", "alice")["result"]["visits"][0]
    new = app(result, "browser", "bob")["result"]["visits"][0]
    assert old["requests"] == new["requests"] == 11
    assert old["connections_opened"] == 11 and new["connections_opened"] == 6
    assert new["load_time_s"] < old["load_time_s"]
    syns = tshark_fields(result.outdir / "pcap" / "sw-r1.pcap", "ip.src",
                         display_filter="tcp.flags.syn == 1 && tcp.flags.ack == 0")
    assert [s for (s,) in syns].count("10.0.1.10") == 11 and [s for (s,) in syns].count("10.0.1.11") == 6
    versions = {v for (v,) in tshark_fields(result.outdir / "pcap" / "alice-sw.pcap",
                                             "http.request.version", display_filter="http.request")}
    assert versions == {"HTTP/1.0"}
    assert (result.outdir / "waterfall.png").stat().st_size > 20_000


def test_pipelined_requests_leave_before_the_first_answer(runs):
    result = runs["http-pipelining"]
    rows = tshark_fields(result.outdir / "pcap" / "carol-sw.pcap", "frame.number",
                         "http.request.uri", "http.response.code", display_filter="http",
                         occurrence="a")
    uris = [(int(n), u, c) for n, u, c in rows]
    # One segment carries the eight image requests, before any image's answer.
    requests_after_page = [r for r in uris if r[1] and r[1] != "/gallery.html"]
    assert len({n for n, _, _ in requests_after_page}) == 1
    assert len(requests_after_page[0][1].split("|")) == 8
    carol = app(result, "browser", "carol")["result"]["visits"][0]
    bob = app(result, "browser", "bob")["result"]["visits"][0]
    assert carol["load_time_s"] < bob["load_time_s"] * 0.7


def test_redirect_methods_and_the_loop_limit(runs):
    visits = app(runs["http-redirects"], "browser")["result"]["visits"]
    chains = [[(o["method"], o["url"].rsplit("/", 1)[1], o["status"]) for o in v["objects"]]
              for v in visits]
    assert chains[0] == [("GET", "moved", 301), ("GET", "new", 200)]
    assert chains[4] == [("POST", "order", 303), ("GET", "thanks", 200)]
    assert chains[5] == [("POST", "api-old", 307), ("POST", "api", 200)]
    assert chains[6] == [("POST", "moved", 301), ("GET", "new", 200)]
    assert visits[7]["redirects"] == 20 and "ERR_TOO_MANY_REDIRECTS" in visits[7]["error"]
    # The 307 carried the body again: the server saw it.
    server = app(runs["http-redirects"], "http-server")["output"]
    assert any('"POST /api HTTP/1.1" 200' in line for line in server)


def test_cookies_session_on_the_wire(runs):
    result = runs["http-cookies"]
    visits = app(result, "browser")["result"]["visits"]
    assert [v["status"] for v in visits] == [403, 200, 200]
    rows = tshark_fields(result.outdir / "pcap" / "alice-r1.pcap", "http.request.uri",
                         "http.cookie", "http.set_cookie", display_filter="http")
    assert list(rows[0]) == ["/account", "", ""]
    set_cookie = next(s for _, _, s in rows if s)
    token = set_cookie.split(";")[0]
    later = [(uri, cookie) for uri, cookie, _ in rows if uri and uri != "/login"][1:]
    assert later and all(cookie == token for _, cookie in later)


def test_rest_soap_and_httpdns_results(runs):
    rest = app(runs["rest-api"], "rest-client")["result"]["calls"]
    assert [c["status"] for c in rest] == [200, 200, 200, 201, 200, 201, 204, 404, 405, 409, 422, 200]
    soap = app(runs["soap-weather"], "soap-client")["result"]
    assert soap["operations"] == ["GetWeather", "GetSupportCityString"]
    assert [c["status"] for c in soap["calls"]] == [200, 200, 200, 500]
    assert soap["calls"][3]["fault"]["code"] == "soap:Client"
    xml = tshark_fields(runs["soap-weather"].outdir / "pcap" / "app-r1.pcap", "frame.protocols",
                        display_filter="http.request.method == \"POST\"")
    assert xml and all(p.endswith(":xml") for (p,) in xml)          # tshark read the envelopes
    hd = runs["httpdns"]
    assert app(hd, "httpdns-lookup")["result"]["answers"] == {"www.example.com": ["10.0.2.80"]}
    hijacked, httpdns = [a["result"]["visits"][0] for a in hd.summary["apps"] if a["app"] == "browser"]
    assert hijacked["page_text"].startswith("BUY NOW") and httpdns["page_text"] == "The real www.example.com"


def test_websocket_handshake_from_the_pcap_and_push_against_polling(runs):
    result = runs["websocket-vs-polling"]
    pcap = result.outdir / "pcap" / "alice-sw.pcap"
    [(key,)] = tshark_fields(pcap, "http.sec_websocket_key", display_filter="http.request")
    [(accept,)] = tshark_fields(pcap, "http.sec_websocket_accept", display_filter="http.response.code == 101")
    assert (key, accept) == ("dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    texts = tshark_fields(pcap, "websocket.payload.text", display_filter="websocket.opcode == 1")
    assert ["hello"] in texts and ["echo: hello"] in texts
    assert tshark_fields(pcap, "websocket.opcode", display_filter="websocket.opcode == 8") == [["8"]] * 2
    ws = app(result, "websocket-client")["result"]
    poll = app(result, "poller")["result"]
    assert ws["close_code"] == 1000 and ws["pongs"] == 1
    assert ws["update_latency"]["max_ms"] < 50
    assert poll["update_latency"]["mean_ms"] > 5 * ws["update_latency"]["mean_ms"]
    assert poll["updates_missed_between_polls"] > 0
    assert ws["messages_received"] - 1 == ws["update_latency"]["count"]       # the echo aside


def test_a_server_that_does_not_speak_http_is_a_loud_failure_and_the_run_goes_on(tmp_path):
    """An FTP server on the other end: its lines never make an HTTP response head, so
    curl gives up at --max-time and says how much it got; the rest of the run goes on."""
    scenario = parse_scenario(two_hosts("""
  - {node: b, run: ftp-server, files: {f: 1KiB}}
  - {node: a, at: 1s, run: http-get, url: "http://b:21/", max_time: 3s}
  - {node: a, at: 2s, run: ping, target: b, count: 1}
""", until="10s"))
    result = run_scenario(scenario, tmp_path)
    get, ping = [a for a in result.network.apps if a.node.name == "a"]
    assert get.status == "failed" and get.error.startswith("Operation timed out after 3000 milliseconds")
    assert get.lines[-1] == f"* {get.error}"
    assert ping.status == "finished"
    assert json.loads((tmp_path / "summary.json").read_text())["apps"][1]["status"] == "failed"


@pytest.mark.parametrize("app_text,where", [
    ("{node: a, run: browser, url: 'http://b/', conections: 2}", "apps[0]"),
    ("{node: a, run: rest-client, url: 'http://b/v1', calls: [{method: GET, pth: /x}]}", "apps[0].calls[0]"),
    ("{node: a, run: browser, url: 'ftp://b/'}", "apps[0]"),
    ("{node: a, run: websocket-client, url: 'http://b/'}", "apps[0]"),
    # Sizes netsim would have to make up (the fuzzer's 2⁶⁴-byte body hung the run).
    ("{node: b, run: http-server, sites: {'*': {/x: {body: 18446744073709551616}}}}", "apps[0]"),
    ("{node: b, run: ftp-server, files: {f: 18446744073709551616}}", "apps[0]"),
    ("{node: a, run: ftp-put, server: b, file: f, size: 1TiB}", "apps[0]"),
    # What h11 refuses to write (each crashed a run before the schema knew the kinds).
    ("{node: b, run: http-server, sites: {'*': {/x: {redirect: 301, to: ' '}}}}",
     "apps[0].sites[\"*\"][\"/x\"].to: ' ' is not a URL or a path"),
    ("{node: b, run: http-server, sites: {'*': {/x: {type: \"text/html\\n\"}}}}",
     "apps[0].sites[\"*\"][\"/x\"].type: 'text/html\\n' is not a header value"),
    ("{node: b, run: http-server, sites: {'*': {/x: {embeds: [a b]}}}}", "apps[0].sites[\"*\"][\"/x\"].embeds[0]"),
    ("{node: a, run: http-get, url: 'http://b/é'}", "apps[0].url: 'http://b/é' is not an http:// or https:// URL"),
    ("{node: a, run: http-get, url: 'http://b:70000/'}", "apps[0]: 'http://b:70000/': port 70000"),
    ("{node: a, run: http-get, url: 'http://b/', headers: {X-A: \"1\\r\\nX-B: 2\"}}", "apps[0].headers.X-A"),
    ("{node: a, run: rest-client, url: 'http://b/v1', calls: [{method: GET, path: /a b}]}",
     "apps[0].calls[0].path: '/a b' is not a path"),
    ("{node: a, run: soap-client, url: 'http://b/ws', calls: [{operation: 'Get Weather'}]}",
     "apps[0].calls[0].operation"),
    ("{node: a, run: httpdns-lookup, server: b, names: ['a..b']}", "apps[0].names[0]"),
    ("{node: a, run: mail-send, from: '∞@qq.com', to: bob@163.com}", "apps[0].from"),
    ("{node: a, run: mail-send, from: a@qq.com, to: bob@163.com, subject: \"hi\\r\\nBcc: eve\"}",
     "apps[0].subject"),
])
def test_bad_web_app_keys_are_located_errors(app_text, where):
    with pytest.raises(ScenarioError) as info:
        parse_scenario(two_hosts(f"  - {app_text}")).build()
    assert f"<scenario>:8: {where}" in str(info.value)


def test_a_websocket_ping_planned_before_the_first_message_is_sent(tmp_path):
    """The fuzzer's hang: ``ping_at: [0]`` with a message at 2 s waited behind the
    message while its own deadline woke the client again at once, forever."""
    scenario = parse_scenario(two_hosts("""
  - {node: b, run: websocket-server, updates: 2}
  - {node: a, at: 1s, run: websocket-client, url: 'ws://b/ticker', duration: 4s,
     send: [{at: 2s, text: hello}], ping_at: [0, 3s]}
""", until="10s"))
    result = run_scenario(scenario, tmp_path)
    ws = app(result, "websocket-client")["result"]
    assert ws["pongs"] == 2 and ws["close_code"] == 1000
    assert [line for line in result.network.apps[1].lines if line.startswith("> ")][-4:] == \
        ["> ping", "> hello", "> ping", "> close 1000"]


def test_a_websocket_client_without_an_address_fails_loudly_and_the_run_goes_on(tmp_path):
    """The fuzzer's find: connect() with no route raised out of the simulation, and the
    command line reported it as an output folder it could not write."""
    scenario = parse_scenario(two_hosts("""
  - {node: b, run: websocket-server, updates: 2}
  - {node: a, at: 1s, run: websocket-client, url: 'ws://10.0.0.2/ticker', duration: 2s}
""", until="6s", a="{kind: host}"))
    result = run_scenario(scenario, tmp_path)
    client = result.network.apps[1]
    assert client.status == "failed"
    assert client.error == "connect to 10.0.0.2 port 80: Network is unreachable"


def test_links_and_redirects_a_browser_cannot_follow_fail_that_fetch_only(tmp_path):
    """The fuzzer's find: an embed 'alice:eth9' (a URL of scheme 'alice') raised out of
    the run. Chrome fails such a fetch with ERR_UNKNOWN_URL_SCHEME and shows the page."""
    scenario = parse_scenario(two_hosts("""
  - {node: b, run: http-server, sites: {"*": {
      /index.html: {body: 1KiB, embeds: ["mailto:x@y", /a.png, "http://b:0/x"]},
      /a.png: {body: 1KiB, type: image/png}, /r: {redirect: 302, to: "ftp://b/f"}}}}
  - {node: a, at: 1s, run: browser, url: "http://b/index.html",
     visits: [1s, {at: 3s, url: "http://b/r"}]}
""", until="6s"))
    result = run_scenario(scenario, tmp_path)
    browser = result.network.apps[1]
    lines = "\n".join(browser.lines)
    assert "GET mailto:x@y  FAILED: net::ERR_UNKNOWN_URL_SCHEME ('mailto:x@y' is not an http:// or https:// URL)" in lines
    assert "GET /a.png  200 OK" in lines
    assert "net::ERR_INVALID_URL ('http://b:0/x': port 0 is not 1–65535)" in lines
    assert "GET ftp://b/f  FAILED: net::ERR_UNKNOWN_URL_SCHEME" in lines
    assert browser.status == "failed"
