"""The application-level diagram inside TLS (netsim.viz.tls_stream): what the engines
wrote through their TLS layers, drawn as the conversation it was and marked [TLS]."""

import pytest

from netsim import load_scenario, run_scenario
from netsim.viz import messages
from tests.conftest import SCENARIOS


@pytest.fixture(scope="module")
def mail():
    return run_scenario(load_scenario(SCENARIOS / "mail-tls.yaml")).trace


@pytest.fixture(scope="module")
def https():
    return run_scenario(load_scenario(SCENARIOS / "https.yaml")).trace


def labels(found, src, dst):
    return [m.label for m in found if m.src == src and m.dst == dst or m.src == dst and m.dst == src]


def test_https_requests_and_responses_are_drawn_inside_tls(https):
    found = [m for m in messages(https, level="app", nodes={"alice"}) if m.kind != "open"]
    talk = labels(found, "alice", "web")
    assert talk[:6] == ["[TLS] GET /index.html HTTP/1.1", "[TLS] HTTP/1.1 200 OK",
                        "[TLS] GET /style.css HTTP/1.1", "[TLS] HTTP/1.1 200 OK",
                        "[TLS] GET /logo.png HTTP/1.1", "[TLS] HTTP/1.1 200 OK"]
    tls = [m for m in found if m.label.startswith("[TLS]")]
    assert {m.protocol for m in tls} == {"HTTP"}
    # Each arrow leaves with the record that carried it and lands when the peer's TLS
    # layer handed the last byte over.
    for m in tls:
        assert "Application Data" in https.describe(m.frame).label
        assert m.received is not None and m.received > m.sent


def test_starttls_shows_where_the_cleartext_ends(mail):
    found = messages(mail, level="app", nodes={"mailqq"})
    relay = labels(found, "mailqq", "mail163")
    at = relay.index("220 2.0.0 Ready to start TLS")
    assert relay[at - 1] == "STARTTLS" and not any(label.startswith("[TLS]") for label in relay[:at])
    assert relay[at + 1] == "[TLS] EHLO mail.qq.com" and relay[at + 2].startswith("[TLS] 250-mail.163.com (+")
    # alice's submission is TLS from the start: her AUTH PLAIN is drawn, as protected.
    submitted = labels(messages(mail, level="app", nodes={"alice"}), "alice", "mailqq")
    assert any(label.startswith("[TLS] AUTH PLAIN") for label in submitted)
    assert not any(label.startswith("AUTH") for label in submitted)
