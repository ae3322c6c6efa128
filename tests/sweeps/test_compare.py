"""A sweep's comparison table and plot (sweep: compare), and `netsim run` of a scenario
whose sweep is the lesson (sweep: always) — the hol-blocking scenario of issue 22."""

import pandas as pd
import pytest

from netsim.cli import main
from netsim.errors import ScenarioError
from netsim.sweeps.compare import compare_table, series


def frame():
    rows = []
    for loss, base in (("0%", 1.0), ("2%", 2.0)):
        for seed, extra in enumerate((0.0, 0.5, 1.0)):
            rows.append({"status": "ok", "seed": seed, "links[1].loss": loss,
                         "browser@h1-many.load_time_s": base + extra,
                         "browser@h2-many.load_time_s": base / 2 + extra,
                         "browser@h1-few.load_time_s": base * 3,
                         # A visit's own figure, flattened from the result's list.
                         "browser@h1-few.visits[0].load_time_s": base * 3})
    f = pd.DataFrame(rows)
    f.attrs["varied"] = ["links[1].loss"]
    return f


def test_the_table_has_a_row_per_node_grouped_by_page_and_medians_with_ranges():
    text = compare_table(frame(), "browser@*.load_time_s~links[1].loss")
    lines = text.splitlines()
    assert "median [min–max] over 3 seeds" in lines[0]
    assert lines[1].split() == ["0%", "2%"]
    rows = [line.split()[0] for line in lines[2:] if line.strip()]
    assert rows == ["h1-few", "h1-many", "h2-many"]      # not "h1-few.visits[0]"
    h1 = next(line for line in lines if line.startswith("h1-many"))
    assert "1.500 [1.000–2.000]" in h1 and "2.500 [2.000–3.000]" in h1


def test_a_pattern_without_a_star_or_matching_nothing_is_a_scenario_error():
    with pytest.raises(ScenarioError):
        series(frame(), "browser@h1-many.load_time_s~links[1].loss")
    with pytest.raises(ScenarioError, match="no run has"):
        series(frame(), "ping@*.rtt~links[1].loss")


def test_netsim_run_hol_blocking_sweeps_prints_the_table_and_draws_the_plot(tmp_path, capsys):
    assert main(["run", "hol-blocking", "-o", str(tmp_path / "hol")]) == 0
    out = capsys.readouterr().out
    assert "load_time_s by links[7].loss: median [min–max] over 10 seeds" in out
    for node in ("h1-many", "h2-many", "h3-many", "h1-few", "h2-few", "h3-few"):
        assert node in out
    assert (tmp_path / "hol" / "compare-load_time_s-links-7--loss.png").stat().st_size > 10_000
    table = pd.read_csv(tmp_path / "hol" / "sweep.csv")
    assert len(table) == 40 and set(table["status"]) == {"ok"}
    assert (table["browser@h3-many.failed"] == 0).all()
