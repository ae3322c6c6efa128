"""Expectations: checked before a run as located errors, then judged over the run."""

from __future__ import annotations

import pytest

from netsim.errors import ScenarioError
from netsim.scenario import parse_scenario, run_scenario

#: alice pings files across a router: each echo crosses two links.
ROUTED = """
name: routed
seed: 3
until: 4s
nodes:
  alice: {kind: host, ip: 10.0.1.10/24, gateway: 10.0.1.1}
  r1:    {kind: router}
  files: {kind: host, ip: 10.0.2.20/24, gateway: 10.0.2.1}
links:
  - {endpoints: [alice, r1], rate: 10Mbps, delay: 5ms}
  - {endpoints: [r1, files], rate: 10Mbps, delay: 5ms}
apps:
  - {node: alice, at: 1s, run: ping, target: files, count: 3}
"""


def _with(expect: str) -> str:
    return ROUTED + "expect:\n" + expect


def _check(expect: str):
    scenario = parse_scenario(_with(expect))
    return run_scenario(scenario).check()


@pytest.mark.parametrize("expect, where, words", [
    ('  - {message: m, count: {filter: "icmp.tpye == 8", equals: 3}}\n',
     "expect[0].count.filter", "did you mean icmp.type"),
    ('  - {message: m, count: {filter: "icmp.type == echo", equals: 3}}\n',
     "expect[0].count.filter", "icmp.type is a number; 'echo' is not one"),
    ('  - {message: m, count: {filter: "(icmp", equals: 3}}\n',
     "expect[0].count.filter", "'(' is not closed"),
    ('  - {message: m, count: {filter: icmp, link: alice-r2, equals: 3}}\n',
     "expect[0].count.link", "no link is named 'alice-r2'"),
    ('  - {message: m, count: {filter: icmp, node: bob, equals: 3}}\n',
     "expect[0].count.node", "no node is named 'bob'"),
    ('  - {message: m, count: {filter: icmp}}\n', "expect[0].count", "say what the count must be"),
    ('  - {message: m, value: {path: "pnig@alice.received", equals: 3}}\n',
     "expect[0].value.path", "did you mean ping@alice"),
    ('  - {message: m, value: {path: "ping@files.received", equals: 3}}\n',
     "expect[0].value.path", "no application produces 'ping@files'"),
    ('  - {message: m, count: {filter: icmp, equals: 1}, value: {path: frames.sent, equals: 1}}\n',
     "expect[0]", "not count and value"),
    ('  - {message: m, count: {filter: icmp, equals: 1}, within: 1s}\n',
     "expect[0].within", "belongs to an 'order'"),
    ('  - {message: m, order: ["icmp", "arp.opcode == 3"], bogus: 1}\n', "expect[0]", "bogus"),
])
def test_what_cannot_be_checked_is_a_located_error_before_the_run(expect, where, words):
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(_with(expect))
    assert caught.value.path.startswith(where), caught.value
    assert words in str(caught.value)
    assert caught.value.line == ROUTED.count("\n") + 2      # the line of the expectation


def test_a_packet_counts_once_where_it_was_sent_and_once_on_each_link_it_crossed():
    report = _check(
        '  - {message: requests at their origin, count: {filter: "icmp.type == 8", equals: 3}}\n'
        '  - {message: on the far link, count: {filter: "icmp.type == 8", link: r1-files, equals: 3}}\n'
        '  - {message: sent by r1, count: {filter: "icmp.type == 8", node: r1, equals: 3}}\n'
        '  - {message: replies, count: {filter: "icmp.type == 0 && ip.src == 10.0.2.20", '
        'at_least: 3, at_most: 3}}\n'
        '  - {message: no reply from r1, count: {filter: "icmp && ip.src == 10.0.1.1", none: true}}\n')
    assert [o.passed for o in report.outcomes] == [True] * 5, report.text()
    assert report.exit_code == 0
    first = report.outcomes[0]
    assert first.measured == "3 frames match 'icmp.type == 8' (wanted exactly 3)".split(" (")[0]
    assert "alice-r1" in first.evidence[0] and "ICMP echo request" in first.evidence[0]


def test_a_failed_count_says_what_it_found_and_shows_the_frames():
    report = _check('  - {message: five echoes, count: {filter: "icmp.type == 8", equals: 5}}\n')
    (outcome,) = report.outcomes
    assert not outcome.passed and report.exit_code == 1
    assert outcome.measured == "3 frames match 'icmp.type == 8'" and outcome.wanted == "exactly 5"
    assert len(outcome.evidence) == 3
    assert "FAIL  five echoes" in report.text()


def test_values_of_the_summary_and_the_scenario_as_written():
    report = _check(
        '  - {message: all back, value: {path: ping@alice.received, equals: 3}}\n'
        '  - {message: quick, value: {path: ping@alice.avg_ms, below: 100, above: 10}}\n'
        '  - {message: no drops, value: {path: frames.dropped, equals: 0}}\n'
        '  - {message: link lost none, value: {path: links.alice-r1.lost, at_most: 0}}\n'
        '  - {message: the delay stays, value: {path: "config.links[0].delay", equals: 5ms}}\n'
        '  - {message: absent, value: {path: ping@alice.nothing_here, exists: false}}\n'
        '  - {message: too slow, value: {path: ping@alice.avg_ms, below: 1}}\n'
        '  - {message: missing, value: {path: ping@alice.nothing_here, equals: 1}}\n')
    assert [o.passed for o in report.outcomes] == [True] * 6 + [False, False], report.text()
    assert report.outcomes[-1].measured.startswith(
        "ping@alice.nothing_here is absent: ping@alice has no 'nothing_here' (it has target, "
        "address, sent, received")
    assert report.outcomes[-2].wanted == "below 1"


def test_an_order_holds_when_each_comes_after_the_one_before():
    report = _check(
        '  - message: ARP before the first echo, and a reply within 50 ms\n'
        '    order: ["arp.opcode == 1", "icmp.type == 8", "icmp.type == 0"]\n'
        '    within: 50ms\n'
        '  - message: a reply cannot come before any request\n'
        '    order: ["icmp.type == 0", "arp.opcode == 1"]\n'
        '  - message: too tight\n'
        '    order: ["icmp.type == 8", "icmp.type == 0"]\n'
        '    within: 1ms\n')
    ok, late, tight = report.outcomes
    assert ok.passed, ok
    assert not late.passed and "never came after" in late.measured
    assert not tight.passed and tight.measured.startswith("in order but over 0.0")


def test_drops_are_counted_by_reason():
    scenario = parse_scenario(ROUTED.replace("delay: 5ms}\n  - {endpoints: [r1, files]",
                                             "delay: 5ms, loss: 100%}\n  - {endpoints: [r1, files]")
                              + "expect:\n"
                                "  - {message: lost, count: {filter: arp.opcode == 1, dropped: loss, "
                                "at_least: 3}}\n"
                                "  - {message: any, count: {filter: arp, dropped: true, at_least: 3}}\n"
                                "  - {message: fw, count: {filter: arp, dropped: firewall, none: true}}\n"
                                "  - {message: sent, count: {filter: arp, node: alice, equals: 3}}\n"
                                "  - {message: at origin, count: {filter: arp, equals: 3}}\n"
                                "  - {message: captured, count: {filter: arp, link: alice-r1, "
                                "none: true}}\n")
    report = run_scenario(scenario).check()
    # Every ARP request was lost on the wire, and no echo could follow. A lost frame
    # was sent (by alice, at its origin) but is in no capture: not on the link's.
    assert [o.passed for o in report.outcomes] == [True] * 6, report.text()
    assert "✗ loss at alice" in report.outcomes[0].evidence[0]


def test_no_expectations_is_exit_2():
    report = run_scenario(parse_scenario(ROUTED)).check()
    assert report.exit_code == 2 and "no expectations" in report.text()


def test_a_nodes_state_at_the_end_arp_entries_and_routes():
    report = _check(
        '  - {message: alice knows her router, value: {path: \'nodes.alice.arp["10.0.1.1"].state\', '
        'equals: REACHABLE}}\n'
        '  - {message: a default route, value: {path: \'nodes.alice.routes["0.0.0.0/0"]\', '
        'contains: via 10.0.1.1}}\n'
        '  - {message: r1 reaches both nets, value: {path: nodes.r1.routes, length: 2}}\n'
        '  - {message: no entry for files, value: {path: \'nodes.alice.arp["10.0.2.20"]\', '
        'exists: false}}\n')
    assert [o.passed for o in report.outcomes] == [True] * 4, report.text()
    with pytest.raises(ScenarioError, match="no node is named 'bob'"):
        parse_scenario(_with('  - {message: m, value: {path: nodes.bob.arp, length: 1}}\n'))
