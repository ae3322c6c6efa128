"""A streaming run writes, as it goes, exactly what a run kept in memory writes at the end."""

import json

import pytest

from netsim import load_scenario, run_scenario
from netsim.trace import stream
from tests.conftest import SCENARIOS


@pytest.mark.parametrize("name, flush_every", [("tcp-lossy", 20_000), ("bottleneck", 64),
                                               ("mail-relay", 50), ("dhcp-relay", 10)])
def test_streamed_outputs_are_the_in_memory_ones_byte_for_byte(tmp_path, monkeypatch, name,
                                                               flush_every):
    """Small buffers make records stamped ahead of the clock (frames queued on a slow
    link) wait across many flushes, and frames' bytes be forgotten and brought back."""
    monkeypatch.setattr(stream, "FLUSH_EVERY", flush_every)
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    kept = run_scenario(scenario, tmp_path / "kept", outputs=["pcap", "jsonl", "summary"])
    streamed = run_scenario(scenario, tmp_path / "streamed", outputs=["pcap", "jsonl", "summary"],
                            stream=True)
    pcaps = sorted(p.name for p in (tmp_path / "kept" / "pcap").iterdir())
    assert pcaps == sorted(p.name for p in (tmp_path / "streamed" / "pcap").iterdir())
    for pcap in pcaps:
        assert (tmp_path / "kept" / "pcap" / pcap).read_bytes() == \
            (tmp_path / "streamed" / "pcap" / pcap).read_bytes(), pcap
    assert (tmp_path / "kept" / "trace.jsonl").read_text() == \
        (tmp_path / "streamed" / "trace.jsonl").read_text()
    assert json.loads((tmp_path / "kept" / "summary.json").read_text()) == \
        json.loads((tmp_path / "streamed" / "summary.json").read_text())
    assert kept.summary == streamed.summary
    trace = streamed.trace
    assert not trace._live and not trace._refs and len(trace) == len(kept.trace)


def test_a_streaming_run_says_what_it_did_not_draw_and_keeps_no_records(tmp_path, capsys):
    from netsim.cli import main
    assert main(["run", "router-chain", "--stream", "-o", str(tmp_path)]) == 0
    assert "(not drawn in a streaming run: sequence, timeline" in capsys.readouterr().out
    assert (tmp_path / "topology.png").exists() and not (tmp_path / "sequence.svg").exists()
    assert sorted(p.name for p in (tmp_path / "pcap").iterdir()) == \
        ["alice-r1.pcap", "r1-r2.pcap", "r2-r3.pcap", "r3-files.pcap"]
    result = run_scenario(load_scenario(SCENARIOS / "router-chain.yaml"), tmp_path / "api",
                          stream=True)
    with pytest.raises(RuntimeError, match="trace.jsonl"):
        list(result.trace.records())
    # …and netsim diagram draws the sequence from the streamed trace.jsonl.
    assert main(["diagram", str(tmp_path), "--format", "mermaid"]) == 0
    assert "UDP probe TTL=1" in (tmp_path / "diagram.mmd").read_text()
