"""The dns-poisoning lesson end to end: an off-path host's forged answers poison the
1990s resolver (counted IDs, one port) and send alice to the attacker; against the
resolver of today (RFC 5452) every guess misses and bob reaches the bank."""

import dns.name
import pytest

from netsim import load_scenario, run_scenario
from netsim.scenario.loader import parse_scenario
from tests.conftest import SCENARIOS


@pytest.fixture(scope="module")
def poisoning(tmp_path_factory):
    return run_scenario(load_scenario(SCENARIOS / "dns-poisoning.yaml"),
                        tmp_path_factory.mktemp("poison"))


def test_the_counting_resolver_is_poisoned_and_the_random_one_is_not(poisoning):
    attack = poisoning.app("dns-poison")
    assert attack.status == "finished"
    old, new = attack.result()["resolvers"]
    assert (old["resolver"], old["counting"], old["poisoned"], old["possibilities"]) == \
        ("10.0.0.53", True, True, 1)
    assert old["probes"][0]["port"] == old["probes"][1]["port"]
    assert old["probes"][1]["id"] == (old["probes"][0]["id"] + 1) % 65536
    assert (new["resolver"], new["counting"], new["poisoned"], new["answer"]) == \
        ("10.0.0.54", False, False, "10.3.0.80")
    assert new["possibilities"] == 65536 * 64512 and 100 < new["guesses_sent"] <= 500
    assert any("not poisoned" in line and "against 4,227,858,432 possibilities" in line
               for line in attack.lines)
    assert any("POISONED" in line for line in attack.lines)


def test_alice_goes_to_the_attacker_and_bob_to_the_bank(poisoning):
    alice, bob = [a for a in poisoning.network.apps if a.name == "browser"]
    assert "conn #1 to 10.0.0.66" in "\n".join(alice.lines)
    assert "conn #1 to 10.3.0.80" in "\n".join(bob.lines)
    resolvers = {a.node.name: a for a in poisoning.network.apps if a.name == "dns-resolver"}
    assert resolvers["resolver90"].engine.unwanted > 0          # the misses on its one port
    cached = {(n, t) for n, t, _left in resolvers["resolver90"].engine.cache_entries(3.0)}
    assert ("www.bank.test.", "A") in cached
    real = resolvers["resolver"].engine.cache.get(dns.name.from_text("www.bank.test"), 1, 3.0)
    assert [rd.address for rd in real] == ["10.3.0.80"]


def test_with_the_defaults_both_resolvers_hold():
    text = (SCENARIOS / "dns-poisoning.yaml").read_text().replace(
        "    randomize: false ", "    randomize: true  ")
    result = run_scenario(parse_scenario(text))
    attack = result.app("dns-poison").result()
    assert [r["poisoned"] for r in attack["resolvers"]] == [False, False]
    alice, bob = [a for a in result.network.apps if a.name == "browser"]
    assert "conn #1 to 10.3.0.80" in "\n".join(alice.lines)


def test_an_attacker_off_the_resolvers_link_is_told_so():
    text = (SCENARIOS / "dns-poisoning.yaml").read_text().replace(
        "resolvers: [resolver90, resolver]", "resolvers: [root]")
    result = run_scenario(parse_scenario(text))
    attack = result.app("dns-poison")
    assert attack.status == "failed" and "is not on a link of mallory" in attack.error
