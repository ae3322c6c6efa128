"""``netsim check``: run a scenario and say which of its expectations hold.

``netsim check SCENARIO`` checks the scenario's own ``expect:``; ``--expect FILE``
checks a teacher's file of expectations instead (a student's scenario cannot change
them: its own ``expect:`` is then ignored, not even read); ``--class DIR`` checks every
scenario in a folder against ``--expect`` and writes one table for the class. Exit 0
when every expectation holds, 1 when one does not, 2 when nothing could be checked.

A class's scenarios are other people's files: each runs in a process of its own, with a
time and a memory limit, so one that crashes, loops or exhausts memory is that
student's row and never the class's run; and ``run: python`` (code of the student's
own, on the teacher's machine) runs only with ``--allow-python``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from netsim.errors import ScenarioError

if TYPE_CHECKING:
    from netsim.check.report import CheckReport

# The scenario layer and the checks load when the command runs, not when `netsim --help`
# builds its parsers.

#: A class's student may use this much memory (bytes of address space) and time.
CLASS_MEMORY = 4 << 30
CLASS_SECONDS = 300


def add_arguments(parser) -> None:
    parser.add_argument("scenario", nargs="?", help="a scenario file, or the name of a bundled one "
                        "or a lab (labs/dns-delegation)")
    parser.add_argument("--expect", metavar="FILE",
                        help="a file of expectations ('expect:' list) to check instead of the "
                             "scenario's own (labs/NAME/expect.yaml is the bundled lab's)")
    parser.add_argument("--class", dest="klass", metavar="DIR",
                        help="check every scenario in DIR (or in each of its folders) against "
                             "--expect; write one table (class.csv, class.html, class.xml)")
    parser.add_argument("--format", choices=["text", "json", "junit"], default="text")
    parser.add_argument("--seed", type=int, help="override the scenario's seed")
    parser.add_argument("--allow-python", action="store_true",
                        help="run scenarios whose apps run Python code of their own (run: python)")
    parser.add_argument("--timeout", type=float, default=CLASS_SECONDS, metavar="SECONDS",
                        help=f"--class: the longest one scenario may run (default {CLASS_SECONDS})")
    parser.add_argument("-o", "--output", metavar="PATH",
                        help="write the report to this file (--class: the folder for the "
                             "table, default out/check-class)")


def find_expect_file(name: str) -> Path:
    """A teacher's file: ``labs/NAME/expect.yaml`` is always the bundled lab's (a file of
    that name in the student's own folder does not stand in for it); others as given."""
    from netsim.scenario.bundled import bundled_dir, find_scenario
    if name.startswith("labs/") and (bundled_dir() / name).is_file():
        return bundled_dir() / name
    return find_scenario(name)


def check_scenario_file(name: str, items: list[dict] | None = None, *, seed: int | None = None,
                        allow_python: bool = False) -> CheckReport:
    """Load, run and check one scenario against ``items`` (default: its own ``expect:``,
    which with ``items`` given is left out before the file is checked)."""
    from netsim.check.report import CheckReport
    from netsim.scenario.bundled import find_scenario
    from netsim.scenario.checks import check_run
    from netsim.scenario.loader import check_scenario, read_source
    from netsim.scenario.runner import run_scenario
    from netsim.scenario.yamlpos import load_with_lines
    path = find_scenario(name)
    text = read_source(path)
    data, lines = load_with_lines(text, str(path))
    if items is not None and isinstance(data, dict):
        data.pop("expect", None)
    scenario = check_scenario(data, lines, str(path))
    scenario.text = text
    if not allow_python and any(app.get("run") == "python" for app in data.get("apps", [])):
        return CheckReport(scenario.name, scenario.seed, source=str(name), error=(
            f"{path}: the scenario runs Python code of its own (run: python); netsim check "
            "runs it only with --allow-python"))
    return check_run(run_scenario(scenario, None, seed=seed), items, source=str(name))


def check_command(args, *, check_outdir) -> int:
    from netsim.check.report import CheckReport
    from netsim.scenario.checks import load_expect_file
    items = load_expect_file(find_expect_file(args.expect)) if args.expect else None
    if args.klass:
        return _check_class(args, items, check_outdir)
    if not args.scenario:
        print("error: name a scenario to check (or --class DIR --expect FILE)", file=sys.stderr)
        return 2
    if args.output:
        _check_output_file(Path(args.output))
    try:
        report = check_scenario_file(args.scenario, items, seed=args.seed,
                                     allow_python=args.allow_python)
    except ScenarioError as exc:
        if args.format == "text":
            raise
        report = CheckReport(Path(args.scenario).stem, args.seed, error=str(exc),
                             source=args.scenario)        # an autograder still gets a file
    if report.error and args.format == "text":
        print(f"error: {report.error}", file=sys.stderr)
        return 2
    text = {"text": report.text, "json": report.json, "junit": report.junit}[args.format]()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}: {report.passed} of {len(report.outcomes)} expectations hold")
    else:
        sys.stdout.write(text)
    return report.exit_code


def _check_output_file(path: Path) -> None:
    """A file the report can be written to, or a clear error before the run."""
    if path.is_dir():
        raise ScenarioError(f"{path} is a folder; -o names the report's file",
                            path="-o", source="command line")
    if not path.parent.is_dir():
        raise ScenarioError(f"{path.parent} does not exist", path="-o", source="command line")


def students_in(folder: Path) -> dict[str, Path]:
    """A class folder's scenarios by student: each scenario file in it, and each folder
    in it that holds one (a repository per student, as GitHub Classroom makes). A link
    that leads out of the folder is not followed."""
    root = folder.resolve()
    found: dict[str, Path] = {}
    for entry in sorted(folder.iterdir()):
        if not entry.resolve().is_relative_to(root):
            continue
        if entry.is_file() and entry.suffix in (".yaml", ".yml"):
            found[entry.name] = entry
        elif entry.is_dir():
            inside = sorted(p for p in entry.glob("*.y*ml") if p.is_file() and p.suffix in
                            (".yaml", ".yml") and p.resolve().is_relative_to(root))
            if len(inside) == 1:
                found[entry.name] = inside[0]
    return found


def _check_class(args, items, check_outdir) -> int:
    from netsim.check.report import class_table, junit
    if items is None:
        print("error: --class checks every scenario against the teacher's --expect FILE",
              file=sys.stderr)
        return 2
    folder = Path(args.klass)
    if not folder.is_dir():
        print(f"error: --class {folder}: not a folder of scenarios", file=sys.stderr)
        return 2
    if args.scenario:
        print("error: give a scenario or --class DIR, not both", file=sys.stderr)
        return 2
    students = students_in(folder)
    if not students:
        print(f"error: no scenario files (*.yaml) in {folder} or its folders", file=sys.stderr)
        return 2
    outdir = Path(args.output) if args.output else Path("out") / "check-class"
    check_outdir(outdir)
    reports = {}
    for student, path in students.items():
        reports[student] = report = _check_apart(path, args)
        status = "error" if report.error else f"{report.passed} of {len(report.outcomes)}"
        print(f"{student}: {status}")
    table, page = class_table(reports, [item["message"] for item in items], against=args.expect)
    (outdir / "class.csv").write_text(table, encoding="utf-8")
    (outdir / "class.html").write_text(page, encoding="utf-8")
    (outdir / "class.xml").write_text(junit(list(reports.values())), encoding="utf-8")
    print(f"wrote {outdir / 'class.csv'}, {outdir / 'class.html'} and {outdir / 'class.xml'}")
    return max(r.exit_code for r in reports.values())


def _check_apart(path: Path, args) -> CheckReport:
    """One student's check, in a process of its own under the class's limits."""
    from netsim.check.report import CheckReport
    command = [sys.executable, "-c", "from netsim.cli import entry; entry()", "check",
               str(path.resolve()), "--expect", str(find_expect_file(args.expect).resolve()),
               "--format", "json"]
    if args.seed is not None:
        command += ["--seed", str(args.seed)]
    if args.allow_python:
        command.append("--allow-python")
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout,
                              preexec_fn=_limits)
    except subprocess.TimeoutExpired:
        return CheckReport(path.stem, None, source=str(path),
                           error=f"the run did not finish within {args.timeout:g} s")
    try:
        return CheckReport.from_dict(json.loads(done.stdout))
    except (ValueError, KeyError, TypeError):
        last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        return CheckReport(path.stem, None, source=str(path),
                           error=f"the check ended without a report: {last[:300]}")


def _limits() -> None:
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (CLASS_MEMORY, CLASS_MEMORY))
