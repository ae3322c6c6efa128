"""What a sweep will run, decided (and checked) before anything runs."""

import pytest

from netsim.errors import ScenarioError
from netsim.sweeps.flatten import flatten_summary
from netsim.sweeps.plan import parse_vary, plan, resolve_path

TEXT = """
name: tiny
seed: 5
until: 3s
nodes:
  a: {kind: host, ip: 10.0.0.1/24}
  ns.example: {kind: host, ip: 10.0.0.2/24}
links:
  - {endpoints: [a, ns.example], rate: 10Mbps}
apps:
  - {node: a, at: 1s, run: ping, target: 10.0.0.2, count: 2}
"""


def test_vary_values_are_read_as_yaml_reads_them():
    assert parse_vary("links[0].loss=0%,1%, 2%") == ("links[0].loss", ["0%", "1%", "2%"])
    assert parse_vary("links[0].queue=10,50") == ("links[0].queue", [10, 50])
    with pytest.raises(ScenarioError, match="PATH=VALUE"):
        parse_vary("links[0].loss")


def test_paths_are_the_error_messages_paths_with_dotted_names_kept_whole():
    data = {"nodes": {"ns.example": {"kind": "host"}}, "links": [{"rate": "1Mbps"}]}
    assert resolve_path(data, "links[0].rate") == ("links", 0, "rate")
    assert resolve_path(data, "nodes.ns.example.stack") == ("nodes", "ns.example", "stack")
    assert resolve_path(data, 'nodes["ns.example"].stack') == ("nodes", "ns.example", "stack")


def test_the_product_of_the_values_times_the_seeds_in_a_stable_order():
    variations, jobs = plan(TEXT, "tiny.yaml", {"links[0].loss": ["0%", "1%"],
                                                "nodes.ns.example.stack": ["linux", "textbook"]}, 3)
    # A dotted node name is one key: the table names it unambiguously, in brackets.
    assert [v.name for v in variations] == ["links[0].loss", 'nodes["ns.example"].stack']
    assert len(jobs) == 2 * 2 * 3 and [j.index for j in jobs] == list(range(12))
    assert [j.seed for j in jobs[:3]] == [5, 6, 7]                 # from the scenario's seed
    assert jobs[3].columns == {"links[0].loss": "0%", 'nodes["ns.example"].stack': "textbook"}


def test_a_value_the_schema_refuses_stops_the_sweep_before_anything_runs():
    with pytest.raises(ScenarioError) as caught:
        plan(TEXT, "tiny.yaml", {"links[0].loss": ["1%", "lots"]}, 2)
    error = caught.value
    assert error.path == "links[0].loss" and error.line == 9 and "lots" in str(error)
    assert "(with links[0].loss=lots)" in str(error)
    with pytest.raises(ScenarioError, match="no links\\[4\\]"):
        plan(TEXT, "tiny.yaml", {"links[4].loss": ["1%"]}, 1)


def test_a_summary_flattens_to_named_numbers():
    summary = {"end_time": 3.0, "frames": {"transmitted": 10, "dropped": 1},
               "drops": {"queue-full": 1}, "links": {"a-b": {"lost": 0}},
               "apps": [{"app": "ping", "node": "a", "status": "finished",
                         "result": {"received": 2, "rtt_ms": {"avg": 1.5}, "ok": True,
                                    "target": "b", "rtts": [1, 2]}},
                        {"app": "ping", "node": "a", "status": "failed", "result": {"received": 0}}]}
    row = flatten_summary(summary)
    assert row["frames.dropped"] == 1 and row["drops.queue-full"] == 1 and row["links.a-b.lost"] == 0
    assert row["ping@a.received"] == 2 and row["ping@a.rtt_ms.avg"] == 1.5 and row["ping@a.ok"] == 1
    assert row["ping@a#2.received"] == 0 and row["apps_failed"] == 1
    assert "ping@a.target" not in row
    assert row["ping@a.rtts[0]"] == 1 and row["ping@a.rtts[1]"] == 2      # lists by index


def test_a_list_of_visits_flattens_by_index():
    summary = {"apps": [{"app": "browser", "node": "alice", "result": {
        "url": "http://web/", "load_time_s": 0.5,
        "visits": [{"visit": 1, "load_time_s": 0.5, "cache": {"miss": 3}},
                   {"visit": 2, "load_time_s": 0.1, "cache": {"miss": 0}}]}}]}
    row = flatten_summary(summary)
    assert row["browser@alice.visits[0].load_time_s"] == 0.5
    assert row["browser@alice.visits[1].load_time_s"] == 0.1
    assert row["browser@alice.visits[1].cache.miss"] == 0 and "browser@alice.url" not in row
