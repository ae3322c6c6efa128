"""SHA-256 of every bundled scenario's captures and trace, to hold a speed change to
"byte-identical to before".

Runs each scenario under ``scenarios/`` (the labs' ``start.yaml`` too) with ``netsim run
--outputs pcap,jsonl`` in a process of its own, two at a time, and prints one line per
file: digest, scenario, file. Run it on the code before a change and after, and compare:

    python benchmarks/capture_digests.py --repeat 2 > before.txt     # on the old commit
    python benchmarks/capture_digests.py --compare before.txt        # on the new one

TLS and QUIC ciphertext differs from run to run by design (the keys are fresh); run the
old commit twice to see which lines those are (``--repeat 2`` marks them ``varies``).
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def scenarios() -> list[Path]:
    found = sorted((ROOT / "scenarios").glob("*.yaml"))
    found += sorted((ROOT / "scenarios" / "labs").glob("*/start.yaml"))
    return found


def digests(scenario: Path) -> dict[str, str]:
    """{file relative to the output folder: digest} of one run."""
    with tempfile.TemporaryDirectory(prefix="netsim-digest-") as out:
        done = subprocess.run([sys.executable, "-m", "netsim.cli", "run", str(scenario), "-o", out,
                               "--outputs", "pcap,jsonl", "-q"], capture_output=True, text=True)
        if done.returncode != 0:
            return {"(exit status)": f"{done.returncode}: {done.stderr.strip()[-200:]}"}
        return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(Path(out).rglob("*")) if p.is_file()}


def name(scenario: Path) -> str:
    rel = scenario.relative_to(ROOT / "scenarios")
    return str(rel.parent if rel.name == "start.yaml" else rel.with_suffix(""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of each scenario; files whose digests differ are marked 'varies'")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--compare", metavar="BEFORE",
                        help="a file this script printed before: say which files changed; exit 1 if any")
    args = parser.parse_args()
    todo = scenarios()
    with ThreadPoolExecutor(args.jobs) as pool:
        runs = [list(pool.map(digests, todo)) for _ in range(args.repeat)]
    lines = []
    for i, scenario in enumerate(todo):
        first = runs[0][i]
        for file, digest in first.items():
            varies = any(run[i].get(file) != digest for run in runs[1:])
            lines.append((("varies" if varies else digest[:16]), name(scenario), file))
    if args.compare:
        sys.exit(compare(Path(args.compare), lines))
    for digest, scenario, file in lines:
        print(f"{digest}  {scenario}  {file}")


def compare(before_file: Path, lines) -> int:
    before = {}
    for line in before_file.read_text().splitlines():
        digest, scenario, file = line.split(None, 2)
        before[scenario, file] = digest
    now = {(scenario, file): digest for digest, scenario, file in lines}
    changed = [key for key, digest in now.items()
               if before.get(key) not in ("varies", digest)]
    missing = [key for key in before if key not in now]
    for scenario, file in changed:
        print(f"changed  {scenario}  {file}")
    for scenario, file in missing:
        print(f"missing  {scenario}  {file}")
    held = sum(1 for key in now if before.get(key) not in (None, "varies")) - len(changed)
    print(f"{held} files byte-identical, {len(changed)} changed, {len(missing)} missing; "
          f"{sum(1 for d in before.values() if d == 'varies')} vary from run to run (TLS/QUIC)")
    return 1 if changed or missing else 0


if __name__ == "__main__":
    main()
