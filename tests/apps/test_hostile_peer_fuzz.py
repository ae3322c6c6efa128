"""The hostile-peer fuzzer: every application protocol netsim speaks, against a peer
that replays a real exchange with grammar-aware mutations (numbers too large, negative
or in Unicode digits, nesting, junk, lines without CRLF, replies repeated, swapped,
unsolicited or cut short). Whatever the peer sends:

- no exception leaves the run (the suite's strict switch makes any exception that is
  not a peer's protocol error fail here, so the boundary cannot hide a bug);
- every client app ends ``finished`` or ``failed`` with a message, and a server keeps
  serving — its next, well-behaved client is served;
- each example is bounded in wall time (a hang fails; it does not stall CI).

``NETSIM_FUZZ_PEERS`` sets the number of examples per direction (CI: 300).
"""

from __future__ import annotations

import functools
import os
import signal

import pytest
from hypothesis import HealthCheck, given, note, settings, strategies as st

from tests.apps.hostile import Case, against_client, against_server, ended_badly, record
from tests.apps.mutations import Draw, mutate

EXAMPLES = int(os.environ.get("NETSIM_FUZZ_PEERS", "300"))
GUARD_SECONDS = 30

_SITE = {"*": {"/index.html": {"body": "3KiB", "cache_control": "max-age=60", "etag": "auto",
                               "embeds": ["/a.css", "/old"]},
               "/a.css": {"body": "1KiB", "type": "text/css"},
               "/old": {"redirect": 301, "to": "/a.css"}}}
_FILES = {"report.txt": "20KiB", "docs/readme.txt": "hello"}
_MAIL = {"run": "mail-server", "domain": "example.com", "users": {"bob": "secret", "alice": "x"}}
_LETTER = {"node": "a", "at": "1s", "run": "mail-send", "server": "b", "from": "alice@example.com",
           "to": "bob@example.com", "subject": "hi", "body": "Hello Bob", "password": "x"}

CASES = {c.name: c for c in [
    Case("http-get", {"run": "http-server", "sites": _SITE},
         {"run": "http-get", "url": "http://b/index.html"}),
    Case("browser", {"run": "http-server", "sites": _SITE},
         {"run": "browser", "url": "http://b/index.html"}),
    Case("browser-1.0", {"run": "http-server", "sites": _SITE},
         {"run": "browser", "url": "http://b/index.html", "version": "1.0"}),
    Case("rest", {"run": "rest-api", "data": {"users": [{"id": 6, "name": "alice",
                                                          "cars": [{"id": 88, "model": "3"}]}]}},
         {"run": "rest-client", "url": "http://b/v1", "calls": [
             {"method": "GET", "path": "/users/6"},
             {"method": "POST", "path": "/users", "json": {"id": 7, "name": "bob"}}]}),
    Case("soap", {"run": "soap-service", "cities": {"Beijing": {"weather": "sunny"}}},
         {"run": "soap-client", "url": "http://b/WeatherWS.asmx",
          "calls": [{"operation": "GetWeather", "args": {"theCityCode": "Beijing"}}]}),
    Case("httpdns", {"run": "httpdns-server", "records": {"www.example.com": ["10.0.2.80"]}},
         {"run": "httpdns-lookup", "server": "b", "names": ["www.example.com"]}),
    Case("websocket", {"run": "websocket-server", "every": "500ms"},
         {"run": "websocket-client", "url": "ws://b/ticker", "duration": "3s"}),
    Case("poller", {"run": "websocket-server", "every": "500ms"},
         {"run": "poller", "url": "http://b/latest", "duration": "3s"}),
    Case("ftp-passive", {"run": "ftp-server", "users": {"alice": "secret"}, "files": _FILES},
         {"run": "ftp", "server": "b", "user": "alice", "password": "secret",
          "commands": ["ls", "get report.txt", "put notes.txt 2KiB"], "mode": "passive"}),
    Case("ftp-active", {"run": "ftp-server", "users": {"alice": "secret"}, "files": _FILES},
         {"run": "ftp-get", "server": "b", "file": "report.txt", "user": "alice",
          "password": "secret", "mode": "active"}),
    Case("smtp", _MAIL, {k: v for k, v in _LETTER.items() if k not in ("node", "at")}),
    Case("pop3", _MAIL, {"run": "pop3-fetch", "server": "b", "user": "bob", "password": "secret"},
         extra=(_LETTER,), at=5.0),
    Case("imap", _MAIL, {"run": "imap-client", "server": "b", "user": "bob", "password": "secret",
                         "actions": ["list", "headers", "open 1"]},
         extra=(_LETTER,), at=5.0),
]}


@functools.cache
def recorded(name: str):
    conversations, net = record(CASES[name])
    assert conversations and any(c.turns for c in conversations), f"{name}: nothing recorded"
    clients = [a for a in net.apps if not a.SERVICE]
    assert [a.status for a in clients] == ["finished"] * len(clients), \
        [(a.label, a.status, a.error) for a in clients]
    return conversations


def _alarm(_signum, _frame):
    raise TimeoutError(f"a hostile-peer example ran past {GUARD_SECONDS} s of wall time")


def _mutated(name: str, side: str, data):
    draw = Draw(data, st)
    conversations = recorded(name)
    k = draw.index(len(conversations))
    out = []
    for j, conversation in enumerate(conversations):
        turns = conversation.turns
        if j == k:
            turns, what = mutate(turns, side, draw)
            note(f"{name}: connection {j} to port {conversation.port}: {what}")
        out.append(type(conversation)(conversation.port, turns))
    return out


def _guarded(run, *args):
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(GUARD_SECONDS)
    try:
        return run(*args)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_case_records_a_real_exchange_that_succeeds(name):
    assert recorded(name)


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(name=st.sampled_from(sorted(CASES)), data=st.data())
def test_a_client_against_a_hostile_server_ends_as_a_tool_does(name, data):
    net = _guarded(against_client, CASES[name], _mutated(name, "s", data))
    assert ended_badly(net) == []


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(name=st.sampled_from(sorted(CASES)), data=st.data())
def test_a_server_against_a_hostile_client_goes_on_serving(name, data):
    net = _guarded(against_server, CASES[name], _mutated(name, "c", data))
    assert ended_badly(net) == []
