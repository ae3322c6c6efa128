"""HTTP/2 on the network (issue 22): a browser's page as streams of one connection per
origin — over TLS by ALPN h2, in cleartext with prior knowledge (h2c) — read back by
tshark with the run's key log; a server that chose http/1.1 by ALPN gets HTTP/1.1."""

from netsim import load_scenario, parse_scenario, run_scenario
from tests.conftest import SCENARIOS, tshark_fields, tshark_problems

def scenario(server_tls: str, url: str, version: str = "2") -> str:
    return f"""
name: h2
until: 5s
nodes:
  alice: {{kind: host, ip: 10.0.1.10/24, gateway: 10.0.1.1}}
  r1: {{kind: router}}
  web: {{kind: host, ip: 10.0.2.80/24, gateway: 10.0.2.1}}
links:
  - {{endpoints: [alice, r1], delay: 10ms}}
  - {{endpoints: [r1, web], delay: 10ms}}
apps:
  - node: web
    run: http-server
    {server_tls}
    sites:
      "*":
        /index.html: {{body: 2KiB, embeds: [/a.css, /b.js, /c.png, /d.png, /e.png]}}
        /a.css: {{body: 3KiB, type: text/css}}
        /b.js: {{body: 30KiB, type: application/javascript}}
        /c.png: {{body: 4KiB, type: image/png}}
        /d.png: {{body: 4KiB, type: image/png}}
        /e.png: {{body: 100KiB, type: image/png}}
  - {{node: alice, at: 1s, run: browser, url: "{url}", version: "{version}"}}
"""


def decrypted(pcap, _keys, *fields, display_filter=None) -> list[list[str]]:
    """tshark's fields with the run's key log beside the captures (all occurrences)."""
    return tshark_fields(pcap, *fields, display_filter=display_filter, occurrence="a",
                         decrypt=True)


def browser(result):
    return next(a for a in result.network.apps if a.name == "browser")


def test_a_page_over_h2_is_six_streams_on_one_tls_connection(tmp_path):
    result = run_scenario(parse_scenario(scenario("tls: true", "https://web/index.html")), tmp_path)
    (visit,) = browser(result).visits
    assert visit["requests"] == 6 and "error" not in visit
    assert visit["connections_opened"] == 1 and visit["http_versions"] == ["2"]
    (handshake,) = browser(result).handshakes
    assert handshake["alpn"] == "h2"
    server = next(a for a in result.network.apps if a.name == "http-server").result()
    assert server["connections"] == 1
    assert {r["version"] for r in server["requests"]} == {"HTTP/2.0"}
    pcap = result.outdir / "pcap" / "alice-r1.pcap"
    keys = result.outdir / "keys.log"
    rows = decrypted(pcap, keys, "http2.streamid", "http2.header.value",
                     display_filter="http2.type == 1")
    streams = {int(s) for row in rows for s in row[0].split("|")}
    assert streams == {1, 3, 5, 7, 9, 11}
    # The five objects go out together, before the first of their answers comes.
    requests = decrypted(pcap, keys, "frame.number", "http2.streamid",
                         display_filter="http2.type == 1 && ip.src == 10.0.1.10")
    assert "|".join(r[1] for r in requests[1:]).split("|") == ["3", "5", "7", "9", "11"]
    assert len(requests) == 2                   # one segment for /index.html, one for the rest
    assert tshark_problems(pcap) == []
    text = "\n".join(browser(result).lines)
    assert "ALPN h2" in text and "(HPACK)" in text


def test_h2c_with_prior_knowledge_in_cleartext(tmp_path):
    result = run_scenario(parse_scenario(scenario("", "http://web/index.html")), tmp_path)
    (visit,) = browser(result).visits
    assert visit["http_versions"] == ["2"] and visit["connections_opened"] == 1
    pcap = result.outdir / "pcap" / "alice-r1.pcap"
    rows = decrypted(pcap, None, "_ws.col.Protocol", "http2.type",
                     display_filter="http2")
    assert rows and {r[0] for r in rows} == {"HTTP2"}
    assert tshark_problems(pcap) == []


def test_a_server_that_chooses_http11_by_alpn_gets_http11(tmp_path):
    text = scenario("tls: {alpn: [http/1.1]}", "https://web/index.html")
    result = run_scenario(parse_scenario(text), tmp_path)
    (visit,) = browser(result).visits
    assert visit["http_versions"] == ["1.1"] and "error" not in visit
    assert 1 < visit["connections_opened"] <= 6             # six of HTTP/1.1's, not one
    assert browser(result).handshakes[0]["alpn"] == "http/1.1"


def test_hpack_sends_less_header_than_http11_for_the_same_page(tmp_path):
    one = run_scenario(parse_scenario(scenario("tls: true", "https://web/index.html", "1.1")),
                       tmp_path / "1")
    two = run_scenario(parse_scenario(scenario("tls: true", "https://web/index.html", "2")),
                       tmp_path / "2")
    (h1,), (h2,) = browser(one).visits, browser(two).visits
    assert h2["header_bytes"]["sent"] < h1["header_bytes"]["sent"] / 2
    assert h2["header_bytes"]["received"] < h1["header_bytes"]["received"] / 2
    assert h2["header_bytes"]["sent"] > 0


def test_the_bundled_http2_scenario_decrypts_and_its_diagram_draws_the_streams(tmp_path):
    result = run_scenario(load_scenario(SCENARIOS / "http2.yaml"), tmp_path)
    keys = result.outdir / "keys.log"
    rows = decrypted(result.outdir / "pcap" / "bob-sw.pcap", keys, "_ws.col.Protocol",
                     display_filter="http2")
    assert rows and all(r[0] == "HTTP2" for r in rows)
    diagram = (result.outdir / "sequence.mmd").read_text()
    assert "HEADERS[3]: GET /site.css" in diagram and "DATA[3] 4,096 B" in diagram
    assert "HEADERS[1]: 200 OK" in diagram
