"""The label carries the header the lesson is about: the cookie handed out and sent
back, where a redirect leads, what a revalidation asks, which SOAP operation, the
HTTPDNS answer — and the DNS flags that tell recursion from iteration."""

import pytest

from netsim import load_scenario, parse_scenario, run_scenario
from netsim.viz import messages, sequence_diagram
from tests.conftest import SCENARIOS


@pytest.fixture(scope="module")
def app_labels():
    def labels(name, **options):
        result = run_scenario(load_scenario(SCENARIOS / f"{name}.yaml"))
        return [m.label for m in messages(result.trace, level="app", **options)]
    return labels


def test_cookies_are_shown_handed_out_and_sent_back(app_labels):
    labels = app_labels("http-cookies")
    handed = next(l for l in labels if "Set-Cookie:" in l)
    assert handed.startswith("HTTP/1.1 303 See Other") and "Location: /account" in handed
    cookie = handed.split("Set-Cookie: ")[1].split(" ·")[0]
    assert ";" not in cookie                          # the cookie, not its attributes
    assert f"GET /account HTTP/1.1 · Cookie: {cookie}" in labels


def test_a_revalidation_shows_its_validators_and_each_answer_its_object(app_labels):
    labels = app_labels("http-caching")
    assert any(l.startswith('GET /index.html HTTP/1.1 · If-None-Match: "') for l in labels)
    assert "HTTP/1.1 304 Not Modified (/index.html)" in labels


def test_redirects_show_where_they_lead(app_labels):
    labels = app_labels("http-redirects")
    assert "HTTP/1.1 301 Moved Permanently (/moved) · Location: /new" in labels


def test_soap_calls_name_their_operation_and_httpdns_its_answer(app_labels):
    assert "POST /WeatherWS.asmx HTTP/1.1 · SOAPAction: GetWeather" in app_labels("soap-weather")
    assert any(' · body "10.0.2.80' in l for l in app_labels("httpdns"))


def test_a_scenario_chooses_more_headers_to_show():
    text = (SCENARIOS / "http-caching.yaml").read_text()
    result = run_scenario(parse_scenario(text))
    default = sequence_diagram(result.trace, level="app")
    more = sequence_diagram(result.trace, level="app", headers=["Cache-Control"])
    assert not any("Cache-Control" in m.label for m in default.messages)
    assert any("· Cache-Control: max-age=" in m.label for m in more.messages)


def test_dns_labels_carry_the_flag_that_tells_recursion_from_iteration(app_labels):
    iterative, recursive = app_labels("dns-iterative"), app_labels("dns-recursive")
    # The root is asked without RD by an iterative resolver, with RD in the recursive chain.
    assert iterative[1] == "DNS query A www.163.com [RD=0]"
    assert recursive[1] == "DNS query A www.163.com [RD=1]"
    assert any(l.endswith("[AA RA=0]") for l in iterative)   # the authority's answer


def test_the_client_lane_is_on_the_left_though_the_server_speaks_first():
    """FTP and SMTP servers greet first (220); the client opened the connection."""
    result = run_scenario(load_scenario(SCENARIOS / "ftp-passive.yaml"))
    diagram = sequence_diagram(result.trace, level="app")
    said = [m for m in diagram.messages if m.kind != "open"]
    assert said[0].label.startswith("220") and diagram.lanes == ["alice", "server"]
