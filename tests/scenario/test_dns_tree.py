"""The scenario's ``dns:`` section: zones and their servers in, a working hierarchy out."""

import pytest

from netsim import parse_scenario, run_scenario
from netsim.errors import ScenarioError

TEXT = """
name: tree
until: 5s
nodes:
  alice: {kind: host, ip: 10.0.0.10/24, dns: 10.0.0.53}
  local: {kind: host, ip: 10.0.0.53/24}
  root:  {kind: host, ip: 10.0.0.1/24}
  tld:   {kind: host, ip: 10.0.0.2/24}
  ns:    {kind: host, ip: 10.0.0.3/24}
  sub:   {kind: host, ip: 10.0.0.4/24}
  sw:    {kind: switch}
links:
  - {endpoints: [alice, sw]}
  - {endpoints: [local, sw]}
  - {endpoints: [root, sw]}
  - {endpoints: [tld, sw]}
  - {endpoints: [ns, sw]}
  - {endpoints: [sub, sw]}
dns:
  root: root
  zones: {org: tld, example.org: ns, lab.example.org: sub}
apps:
  - {node: local, run: dns-resolver}
  - node: sub
    run: dns-server
    zones: [{origin: lab.example.org, records: ["www A 10.0.0.80"]}]
  - {node: alice, at: 1s, run: dig, query: www.lab.example.org}
"""


def test_the_tree_is_filled_in_and_resolves(tmp_path):
    scenario = parse_scenario(TEXT)
    apps = scenario.data["apps"]
    servers = {a["node"]: a for a in apps if a["run"] == "dns-server"}
    assert set(servers) == {"root", "tld", "ns", "sub"}
    root = servers["root"]["zones"][0]["records"]
    assert "org. NS ns.org." in root and "ns.org. A 10.0.0.2" in root
    # example.org is delegated by org, and lab.example.org by example.org (its closest parent).
    assert "example.org. NS ns.example.org." in servers["tld"]["zones"][0]["records"]
    assert "lab.example.org. NS ns.lab.example.org." in servers["ns"]["zones"][0]["records"]
    sub = servers["sub"]["zones"][0]["records"]
    assert sub[0].startswith("@ SOA ns.lab.example.org.") and sub[-1] == "www A 10.0.0.80"
    resolver = next(a for a in apps if a["run"] == "dns-resolver")
    assert resolver["root_hints"] == [{"name": "a.root-servers.net", "address": "10.0.0.1"}]
    result = run_scenario(scenario, tmp_path)
    assert result.app("dig").result()["answer"] == ["www.lab.example.org. 3600 IN A 10.0.0.80"]


def test_a_server_without_an_address_of_its_own_is_refused():
    bad = TEXT.replace("  tld:   {kind: host, ip: 10.0.0.2/24}", "  tld:   {kind: host, ip: dhcp}")
    with pytest.raises(ScenarioError, match=r"dns\.zones\.org: tld serves org and needs an address"):
        parse_scenario(bad)
    bad = TEXT.replace("zones: {org: tld,", "zones: {org: tlx,")
    with pytest.raises(ScenarioError, match="node 'tlx' is not defined"):
        parse_scenario(bad)
