"""A check's outcome as a person reads it, as JSON, as JUnit XML (what autograders and
classroom tools read), and a class's outcomes as one table (CSV and an HTML page)."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from html import escape
from xml.sax.saxutils import quoteattr

from netsim.check.expect import Outcome


@dataclass
class CheckReport:
    """The outcomes of one scenario's expectations (``error``: why none could run)."""
    scenario: str
    seed: int | None
    outcomes: list[Outcome] = field(default_factory=list)
    error: str = ""
    source: str = ""
    stopped: str = ""          # why the run ended early (a frame budget), if it did

    @classmethod
    def from_dict(cls, data: dict) -> CheckReport:
        """The report :meth:`as_dict` wrote (a class's student checked in a process of
        its own sends it back this way)."""
        return cls(data["scenario"], data["seed"], [
            Outcome(e["message"], e["kind"], e["passed"], e["measured"], e["wanted"],
                    list(e["evidence"])) for e in data["expectations"]],
            error=data.get("error") or "", source=data.get("source") or "",
            stopped=data.get("stopped") or "")

    @property
    def passed(self) -> int:
        return sum(o.passed for o in self.outcomes)

    @property
    def exit_code(self) -> int:
        """0: every expectation holds; 1: one does not; 2: nothing was checked (netlab's
        ``validate`` convention)."""
        if self.error or not self.outcomes:
            return 2
        return 0 if self.passed == len(self.outcomes) else 1

    def text(self) -> str:
        head = f"== check {self.scenario}" + (f" (seed {self.seed})" if self.seed is not None else "")
        if self.error:
            return f"{head}\n{self.error}\n"
        if not self.outcomes:
            return f"{head}\nno expectations to check (add 'expect:' to the scenario, or --expect FILE)\n"
        lines = [f"{head}: {self.passed} of {len(self.outcomes)} expectations hold", ""]
        if self.stopped:
            lines[1:1] = [f"the run stopped early: {self.stopped}"]
        for o in self.outcomes:
            lines.append(f"{'PASS' if o.passed else 'FAIL'}  {o.message}")
            lines.append(f"      {o.measured} (wanted {o.wanted})")
            for e in o.evidence:
                lines.append(f"        {e}")
        return "\n".join(lines) + "\n"

    def as_dict(self) -> dict:
        return {"scenario": self.scenario, "seed": self.seed, "source": self.source,
                "error": self.error or None, "stopped": self.stopped or None,
                "passed": self.passed,
                "failed": len(self.outcomes) - self.passed,
                "expectations": [{"message": o.message, "kind": o.kind, "passed": o.passed,
                                  "measured": o.measured, "wanted": o.wanted,
                                  "evidence": o.evidence} for o in self.outcomes]}

    def json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False) + "\n"

    def junit(self) -> str:
        """JUnit XML: one ``testsuite`` for the scenario, one ``testcase`` an expectation;
        a scenario that could not run is one ``testcase`` with an ``error``."""
        return junit([self])

    def _repr_html_(self) -> str:
        if self.error:
            return f"<b>check {escape(self.scenario)}</b>: <pre>{escape(self.error)}</pre>"
        rows = "".join(
            f"<tr><td style='color:{'#1a7f37' if o.passed else '#cf222e'}'><b>"
            f"{'PASS' if o.passed else 'FAIL'}</b></td><td>{escape(o.message)}</td>"
            f"<td>{escape(o.measured)}</td><td>{escape(o.wanted)}</td>"
            f"<td><pre style='margin:0'>{escape(chr(10).join(o.evidence))}</pre></td></tr>"
            for o in self.outcomes)
        return (f"<b>check {escape(self.scenario)}</b>: {self.passed} of {len(self.outcomes)} "
                "expectations hold<table><tr><th></th><th>expectation</th><th>the run showed"
                f"</th><th>wanted</th><th>evidence</th></tr>{rows}</table>")

    def __repr__(self) -> str:
        return self.text()


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(text: str) -> str:
    """Text XML 1.0 can hold: a control character (a student's file name, a frame's
    label) becomes U+FFFD, or one submission would make the class's file unreadable."""
    return _NOT_XML.sub("\ufffd", text)


def _cell(text: str) -> str:
    """A CSV cell a spreadsheet shows as text: one that starts with = + - @ (a formula
    to Excel and LibreOffice) gets a ' first, as OWASP advises."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def junit(reports: list[CheckReport]) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<testsuites name="netsim check" tests="{sum(max(len(r.outcomes), 1) for r in reports)}" '
           f'failures="{sum(len(r.outcomes) - r.passed for r in reports)}" '
           f'errors="{sum(1 for r in reports if r.error or not r.outcomes)}">']
    for r in reports:
        tests = max(len(r.outcomes), 1)
        out.append(f'  <testsuite name={quoteattr(r.scenario)} tests="{tests}" '
                   f'failures="{len(r.outcomes) - r.passed}" '
                   f'errors="{1 if r.error or not r.outcomes else 0}">')
        if r.error or not r.outcomes:
            why = r.error or "no expectations to check"
            out.append(f'    <testcase classname={quoteattr(r.scenario)} name="runs">'
                       f'<error message={quoteattr(why)}/></testcase>')
        for o in r.outcomes:
            out.append(f'    <testcase classname={quoteattr(r.scenario)} name={quoteattr(o.message)}>')
            if not o.passed:
                body = escape("\n".join([f"{o.measured} (wanted {o.wanted})", *o.evidence]))
                out.append(f'      <failure message={quoteattr(o.measured)}>{body}</failure>')
            out.append("    </testcase>")
        out.append("  </testsuite>")
    out.append("</testsuites>")
    return _xml("\n".join(out)) + "\n"


def class_table(reports: dict[str, CheckReport], messages: list[str],
                against: str = "") -> tuple[str, str]:
    """(CSV, HTML) of a class: one row a student, one column an expectation, and the
    reason beside each failure — Kathará's per-class sheet, in one file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_cell(x) for x in ["student", "passed", "of", *messages, "reasons"]])
    rows_html = []
    for student, r in reports.items():
        # The k-th outcome is the k-th expectation: every student meets the same list
        # (two expectations may share a message).
        marks, reasons, cells = [], [], []
        for k, m in enumerate(messages):
            o = r.outcomes[k] if k < len(r.outcomes) else None
            mark = "error" if r.error or o is None else ("PASS" if o.passed else "FAIL")
            marks.append(mark)
            if o is not None and not o.passed:
                reasons.append(f"{m}: {o.measured} (wanted {o.wanted})")
            colour = {"PASS": "#dafbe1", "FAIL": "#ffebe9"}.get(mark, "#fff8c5")
            cells.append(f"<td style='background:{colour}'>{mark}</td>")
        if r.error:
            reasons = [r.error]
        if r.stopped:
            reasons.insert(0, f"the run stopped early: {r.stopped}")
        writer.writerow([_cell(str(x)) for x in [student, r.passed, len(messages), *marks,
                                                 "; ".join(reasons)]])
        rows_html.append(f"<tr><th style='text-align:left'>{escape(student)}</th>"
                         f"<td>{r.passed} / {len(messages)}</td>{''.join(cells)}"
                         f"<td style='text-align:left'>{'<br>'.join(escape(x) for x in reasons)}</td></tr>")
    head = "".join(f"<th>{escape(m)}</th>" for m in messages)
    html = ("<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>netsim check: class"
            "</title><style>body{font-family:sans-serif}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:4px 8px;text-align:center;vertical-align:top}"
            "</style></head><body><h1>netsim check: class</h1>"
            + (f"<p>Against <code>{escape(against)}</code>.</p>" if against else "") +
            f"<p>{sum(r.exit_code == 0 for r in reports.values())} of {len(reports)} "
            "scenarios meet every expectation.</p>"
            f"<table><tr><th>student</th><th>passed</th>{head}<th>reasons</th></tr>"
            f"{''.join(rows_html)}</table></body></html>\n")
    return buffer.getvalue(), html
