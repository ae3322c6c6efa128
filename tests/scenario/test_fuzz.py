"""A scenario fuzzer: random edits of the bundled scenarios either give a located error
(exit 2, file and line named, no traceback) or a run that finishes — never a crash,
never a hang. What ``netsim validate`` accepts, ``netsim run`` runs.

``NETSIM_FUZZ_SCENARIOS`` sets the number of examples (CI: at least 300).
"""

import contextlib
import copy
import io
import math
import os
import re
import signal
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, event, given, settings, strategies as st

from netsim.cli import main
from tests.conftest import SCENARIOS

EXAMPLES = int(os.environ.get("NETSIM_FUZZ_SCENARIOS", "300"))
BUNDLED = {p.stem: yaml.safe_load(p.read_text()) for p in sorted(SCENARIOS.glob("*.yaml"))}
GUARD_SECONDS = 60          # a wall-clock guard per example: a hang fails, it does not stall CI


def paths(value, prefix=()):
    """Every key path in a document."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, prefix + (key,))
    elif isinstance(value, list):
        for k, item in enumerate(value):
            yield from paths(item, prefix + (k,))


NASTY = [None, True, False, 0, -1, 1, 2**64, -(2**63), 1e300, -1e-300, math.nan, math.inf, -math.inf,
         "", " ", "x", "r9", "10.0.0.1", "10.0.0.0/33", "300.1.1.1", "0s", "-1ms", "1e999s",
         "5 parsecs", "100Mbps", "0bps", "1%", "150%", "0B", "64KiB", "1e12s", "nan", "∞", "../..",
         "a" * 300, "alice:eth9", [], [1, 2], {}, {"kind": "host"}, {"x": None}, "..", "/etc/passwd",
         # What h11, the mail composer and the DNS codec refuse to write (spaces in a
         # path, line breaks in a header, non-ASCII in a URL, an empty label).
         "a b", "x\r\ny", "text/html\n", "é", "a..b"]


@st.composite
def edited_scenario(draw):
    name = draw(st.sampled_from(sorted(BUNDLED)))
    data = copy.deepcopy(BUNDLED[name])
    data.pop("outputs", None)
    data["sequence"] = {"limit": 5}
    for _ in range(draw(st.integers(1, 3))):
        every = list(paths(data))
        path = draw(st.sampled_from(every))
        action = draw(st.sampled_from(["replace", "delete", "add", "duplicate", "rename"]))
        if not path:
            continue
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        # A copy of the nasty value: a later edit of this example may change it in place
        # ({} gains a key, [1, 2] an item), which must not reach the next example.
        if action == "replace":
            parent[last] = copy.deepcopy(draw(st.sampled_from(NASTY)))
        elif action == "delete":
            del parent[last]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["bogus", "rate", "ip", "stp", "until", "loss", "x-note"]))] = \
                copy.deepcopy(draw(st.sampled_from(NASTY)))
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[last]))
        elif action == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["n1", "alice", "r1", "sw", "x" * 130]))] = parent.pop(last)
    return name, data


class Hang(Exception):
    pass


def _alarm(_signum, _frame):
    raise Hang(f"no answer within {GUARD_SECONDS} s")


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(edited_scenario())
def test_an_edited_scenario_is_a_located_error_or_a_run(case):
    with tempfile.TemporaryDirectory() as folder:
        check(*case, Path(folder))


def check(name, data, folder):
    source = folder / f"{name}.yaml"
    try:
        source.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    except (yaml.YAMLError, ValueError):
        return
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(GUARD_SECONDS)
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
            code = main(["run", str(source), "-o", str(folder / "out"), "-q", "--until", "2s",
                         "--outputs", "pcap,summary"])
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    err = errors.getvalue()
    assert code in (0, 2), err
    event("ran" if code == 0 else "located error")
    if code == 2:
        assert "Traceback" not in err
        assert re.match(rf"error: {re.escape(str(source))}:\d+: ", err), err
    else:
        assert (folder / "out" / "summary.json").exists()


def test_the_fuzzer_edits_reach_every_bundled_scenario():
    assert len(BUNDLED) >= 11 and all("nodes" in d for d in BUNDLED.values())
