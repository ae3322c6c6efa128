"""The textbook stack against the Mathis et al. model: NewReno's goodput at loss rate p on
a 40 ms path is MSS/RTT·√(3/2)/√p, within [0.7, 1.3] — the check that the textbook stack
behaves as the textbook says. (The Linux stack's figures, beside RFC 9438's response
function, are printed by benchmarks/loss_response.py and reported in the README.)"""

import statistics
import sys

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
from loss_response import goodput, mathis  # noqa: E402


@pytest.mark.parametrize("loss", [0.005, 0.01, 0.02])
def test_newreno_goodput_follows_the_mathis_model(loss):
    runs = [goodput("textbook", loss, seed, duration=20.0) for seed in (1, 2, 3)]
    ratio = statistics.median(runs) / mathis(loss)
    assert 0.7 <= ratio <= 1.3, (loss, ratio, runs)
