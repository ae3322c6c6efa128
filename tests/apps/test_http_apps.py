"""HTTP on the network (issue 11, first part): curl-like requests to an http-server, read
back from the capture by tshark — every request and response dissected as HTTP."""

from netsim import parse_scenario, run_scenario
from tests.conftest import host_and_name_server, tshark_fields, tshark_problems

SCENARIO = """
name: web
until: 20s
nodes:
  alice: {kind: host, ip: 10.0.1.10/24, gateway: 10.0.1.1}
  r1: {kind: router}
  web: {kind: host, ip: 10.0.2.80/24, gateway: 10.0.2.1}
links:
  - {endpoints: [alice, r1], delay: 5ms}
  - {endpoints: [r1, web], delay: 5ms}
apps:
  - node: web
    run: http-server
    keep_alive: 3s
    sites:
      "*":
        /index.html: {body: 6KiB, cache_control: max-age=60, etag: auto, last_modified: 0s}
        /old: {redirect: 301, to: /index.html}
        /big: {body: 20KiB, chunked: true}
  - {node: alice, at: 1s, run: http-get, url: http://web/index.html}
  - {node: alice, at: 2s, run: http-get, url: http://web/old, version: "1.0"}
  - {node: alice, at: 3s, run: http-get, url: http://web/big}
  - {node: alice, at: 4s, run: http-get, url: "http://web/index.html",
     headers: {If-None-Match: '"51923231ac64c9df"'}}
  - {node: alice, at: 5s, run: http-get, url: http://web/nothing}
"""


def test_requests_answers_and_what_tshark_sees(tmp_path):
    result = run_scenario(parse_scenario(SCENARIO), tmp_path)
    gets = [a for a in result.network.apps if a.name == "http-get"]
    assert [g.result()["status"] for g in gets] == [200, 301, 200, 304, 404]
    assert all(g.status == "finished" for g in gets)
    first = "\n".join(gets[0].lines)
    assert "> GET /index.html HTTP/1.1" in first and "< HTTP/1.1 200 OK" in first
    assert "< ETag: \"51923231ac64c9df\"" in first and "{ [6144 bytes data]" in first
    assert "> GET /old HTTP/1.0" in "\n".join(gets[1].lines)
    assert gets[2].result()["headers"]["Transfer-Encoding"] == "chunked"
    pcap = result.outdir / "pcap" / "alice-r1.pcap"
    rows = tshark_fields(pcap, "_ws.col.Protocol", "http.request.method", "http.response.code",
                         display_filter="http")
    assert [r[1] for r in rows if r[1]] == ["GET"] * 5
    assert [r[2] for r in rows if r[2]] == ["200", "301", "200", "304", "404"]
    assert {r[0] for r in rows} == {"HTTP"}
    assert tshark_problems(pcap) == []
    server = next(a for a in result.network.apps if a.name == "http-server").result()
    assert [r["version"] for r in server["requests"]] == ["HTTP/1.1", "HTTP/1.0", "HTTP/1.1",
                                                          "HTTP/1.1", "HTTP/1.1"]


def test_a_name_dns_does_not_know_fails_as_curl_says_it_and_ping_as_glibc_does():
    text = host_and_name_server("nxdomain", "5s", [], """\
  - {node: a, at: 1s, run: http-get, url: "http://www.nosuch.example.com/"}
  - {node: a, at: 2s, run: ping, target: www.nosuch.example.com}
""")
    result = run_scenario(parse_scenario(text))
    curl, ping = (a for a in result.network.apps if a.name in ("http-get", "ping"))
    assert curl.lines == ["* Could not resolve host: www.nosuch.example.com"]
    assert curl.status == "failed" and curl.result()["curl_exit"] == 6
    assert ping.lines == ["ping: www.nosuch.example.com: Name or service not known"]
