"""``netsim check``: run a scenario and say which of its expectations hold.

``netsim check SCENARIO`` checks the scenario's own ``expect:``; ``--expect FILE``
checks a teacher's file of expectations instead (a student's scenario cannot change
them: its own ``expect:`` is then ignored); ``--class DIR`` checks every scenario in a
folder against ``--expect`` and writes one table for the class. Exit 0 when every
expectation holds, 1 when one does not, 2 when nothing could be checked.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from netsim.errors import ScenarioError

if TYPE_CHECKING:
    from netsim.check.report import CheckReport

# The scenario layer and the checks load when the command runs, not when `netsim --help`
# builds its parsers.


def add_arguments(parser) -> None:
    parser.add_argument("scenario", nargs="?", help="a scenario file, or the name of a bundled one "
                        "or a lab (labs/dns-delegation)")
    parser.add_argument("--expect", metavar="FILE",
                        help="a file of expectations ('expect:' list) to check instead of the "
                             "scenario's own")
    parser.add_argument("--class", dest="klass", metavar="DIR",
                        help="check every scenario in DIR against --expect; write one table "
                             "(class.csv and class.html)")
    parser.add_argument("--format", choices=["text", "json", "junit"], default="text")
    parser.add_argument("--seed", type=int, help="override the scenario's seed")
    parser.add_argument("-o", "--output", metavar="PATH",
                        help="write the report to this file (--class: the folder for the "
                             "table, default out/check-class)")


def check_scenario_file(name: str, expect: str | None = None, *, seed: int | None = None) -> CheckReport:
    """Load, run and check one scenario. A scenario error is the report's error."""
    from netsim.scenario.bundled import find_scenario
    from netsim.scenario.checks import check_run, load_expect_file
    from netsim.scenario.loader import load_scenario
    from netsim.scenario.runner import run_scenario
    scenario = load_scenario(find_scenario(name))
    items = load_expect_file(find_scenario(expect), scenario) if expect else \
        scenario.data.get("expect", [])
    return check_run(run_scenario(scenario, None, seed=seed), items, source=str(name))


def check_command(args, *, check_outdir) -> int:
    if args.klass:
        return _check_class(args, check_outdir)
    if not args.scenario:
        print("error: name a scenario to check (or --class DIR --expect FILE)", file=sys.stderr)
        return 2
    report = check_scenario_file(args.scenario, args.expect, seed=args.seed)
    text = {"text": report.text, "json": report.json, "junit": report.junit}[args.format]()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}: {report.passed} of {len(report.outcomes)} expectations hold")
    else:
        sys.stdout.write(text)
    return report.exit_code


def _check_class(args, check_outdir) -> int:
    from netsim.check.report import CheckReport, class_table, junit  # noqa: F811
    if not args.expect:
        print("error: --class checks every scenario against the teacher's --expect FILE",
              file=sys.stderr)
        return 2
    folder = Path(args.klass)
    students = sorted(p for p in folder.glob("*.y*ml") if p.is_file()) if folder.is_dir() else []
    if not students:
        print(f"error: no scenario files (*.yaml) in {folder}", file=sys.stderr)
        return 2
    reports: dict[str, CheckReport] = {}
    messages: list[str] = []
    for path in students:
        try:
            report = check_scenario_file(str(path), args.expect, seed=args.seed)
        except ScenarioError as exc:
            report = CheckReport(path.stem, None, error=str(exc), source=str(path))
        reports[path.stem] = report
        for o in report.outcomes:
            if o.message not in messages:
                messages.append(o.message)
        status = "error" if report.error else f"{report.passed} of {len(report.outcomes)}"
        print(f"{path.name}: {status}")
    outdir = Path(args.output) if args.output else Path("out") / "check-class"
    check_outdir(outdir)
    table, page = class_table(reports, messages, against=args.expect)
    (outdir / "class.csv").write_text(table, encoding="utf-8")
    (outdir / "class.html").write_text(page, encoding="utf-8")
    (outdir / "class.xml").write_text(junit(list(reports.values())), encoding="utf-8")
    print(f"wrote {outdir / 'class.csv'}, {outdir / 'class.html'} and {outdir / 'class.xml'}")
    return max(r.exit_code for r in reports.values())
