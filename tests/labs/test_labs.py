"""The lab set (``scenarios/labs/``): each starting scenario fails its teacher's
expectations with readable reasons, the reference solution (kept here, not beside the
lab) passes them all, and both write captures tshark reads cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest

from netsim.classroom.command import check_scenario_file
from netsim.scenario.checks import load_expect_file
from netsim.scenario import load_scenario, run_scenario
from tests.conftest import SCENARIOS, tshark_problems

LABS = sorted(p.name for p in (SCENARIOS / "labs").iterdir() if p.is_dir())
SOLUTIONS = Path(__file__).parent / "solutions"


def test_there_are_six_labs_each_with_a_task_a_start_and_expectations():
    assert LABS == ["cache-304", "dns-delegation", "ftp-firewall", "mail-mx", "secure-login",
                    "slow-page"]
    for lab in LABS:
        folder = SCENARIOS / "labs" / lab
        assert sorted(p.name for p in folder.iterdir()) == ["README.md", "expect.yaml", "start.yaml"]
        task = (folder / "README.md").read_text()
        assert f"netsim check labs/{lab}/start.yaml --expect labs/{lab}/expect.yaml" in task
        assert (SOLUTIONS / f"{lab}.yaml").exists()


@pytest.mark.parametrize("lab", LABS)
def test_the_start_fails_with_reasons_and_the_solution_passes(lab):
    expect = load_expect_file(SCENARIOS / "labs" / lab / "expect.yaml")
    start = check_scenario_file(str(SCENARIOS / "labs" / lab / "start.yaml"), expect)
    assert start.exit_code == 1, start.text()
    failed = [o for o in start.outcomes if not o.passed]
    assert failed and all(o.measured and o.wanted for o in failed)
    solved = check_scenario_file(str(SOLUTIONS / f"{lab}.yaml"), expect)
    assert solved.exit_code == 0, solved.text()


@pytest.mark.parametrize("lab", LABS)
def test_a_solution_changes_little_of_the_start(lab):
    """A solution is the start with its fault fixed, not a different network."""
    import difflib
    start = (SCENARIOS / "labs" / lab / "start.yaml").read_text().splitlines()
    solved = (SOLUTIONS / f"{lab}.yaml").read_text().splitlines()
    changed = [line for line in difflib.unified_diff(start, solved, lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert 1 <= len(changed) <= 8, changed


@pytest.mark.parametrize("which", ["start", "solution"])
@pytest.mark.parametrize("lab", LABS)
def test_captures_open_cleanly_in_tshark(lab, which, tmp_path, tshark):
    path = SCENARIOS / "labs" / lab / "start.yaml" if which == "start" else SOLUTIONS / f"{lab}.yaml"
    run_scenario(load_scenario(path), tmp_path, outputs=["pcap"])
    for pcap in sorted((tmp_path / "pcap").glob("*.pcap")):
        assert tshark_problems(pcap) == [], pcap.name
