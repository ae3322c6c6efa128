"""``netsim check``: exit codes, the three formats, a teacher's file, a class table."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET

import pytest

from netsim.cli import main
from tests.check.test_expect import ROUTED

HOLDS = '  - {message: three echoes, count: {filter: "icmp.type == 8", equals: 3}}\n'
FAILS = '  - {message: five echoes, count: {filter: "icmp.type == 8", equals: 5}}\n'


@pytest.fixture
def write(tmp_path):
    def write(name: str, text: str):
        path = tmp_path / name
        path.write_text(text)
        return str(path)
    return write


def test_exit_0_when_all_hold_1_when_one_fails_2_when_none_could_run(write, capsys):
    assert main(["check", write("ok.yaml", ROUTED + "expect:\n" + HOLDS)]) == 0
    assert "PASS  three echoes" in capsys.readouterr().out
    assert main(["check", write("bad.yaml", ROUTED + "expect:\n" + HOLDS + FAILS)]) == 1
    out = capsys.readouterr().out
    assert "1 of 2 expectations hold" in out and "FAIL  five echoes" in out
    assert "3 frames match 'icmp.type == 8' (wanted exactly 5)" in out
    assert main(["check", write("none.yaml", ROUTED)]) == 2
    assert main(["check", write("wrong.yaml", ROUTED + "expect:\n  - {message: m, count: "
                                "{filter: 'dns.qry.nam', at_least: 1}}\n")]) == 2
    err = capsys.readouterr().err
    assert "wrong.yaml:" in err and "expect[0].count.filter" in err and "Traceback" not in err


def test_json_and_junit_say_the_same(write, capsys):
    scenario = write("s.yaml", ROUTED + "expect:\n" + HOLDS + FAILS)
    assert main(["check", scenario, "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["passed"], report["failed"]) == (1, 1)
    assert [e["passed"] for e in report["expectations"]] == [True, False]
    assert main(["check", scenario, "--format", "junit"]) == 1
    suite = ET.fromstring(capsys.readouterr().out).find("testsuite")
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["three echoes", "five echoes"]
    assert cases[0].find("failure") is None
    assert "wanted exactly 5" in cases[1].find("failure").text


def test_the_teachers_file_decides_and_the_students_own_is_ignored(write, capsys):
    student = write("student.yaml", ROUTED + "expect:\n  - {message: anything, value: "
                    "{path: frames.sent, at_least: 0}}\n")
    teacher = write("teacher.yaml", "description: the lab\nexpect:\n" + FAILS)
    assert main(["check", student]) == 0
    capsys.readouterr()
    assert main(["check", student, "--expect", teacher]) == 1
    out = capsys.readouterr().out
    assert "five echoes" in out and "anything" not in out


def test_a_teachers_file_is_checked_alone_then_against_each_scenario(write, capsys):
    student = write("student.yaml", ROUTED)
    teacher = write("teacher.yaml", "expect:\n  - message: m\n    count: {filter: icmp, "
                    "link: alice-r9, equals: 1}\n" + HOLDS)
    # What the teacher names that this scenario lacks fails that expectation, saying so;
    # the rest are judged.
    assert main(["check", student, "--expect", teacher]) == 1
    out = capsys.readouterr().out
    assert "FAIL  m\n      no link is named 'alice-r9' (links: alice-r1, r1-files)" in out
    assert "PASS  three echoes" in out
    # What is wrong in the teacher's file itself is the teacher's error, before any run.
    bad = write("t1.yaml", "expect:\n  - {message: m, count: {filter: 'tcp.srcprot == 20', "
                "equals: 1}}\n")
    assert main(["check", student, "--expect", bad]) == 2
    assert "t1.yaml:2: expect[0].count.filter" in capsys.readouterr().err
    assert main(["check", student, "--expect", write("t2.yaml", "name: x\nexpect: []\n")]) == 2
    assert "holds only 'expect' and 'description'" in capsys.readouterr().err


def test_json_and_junit_carry_an_error_for_a_scenario_that_does_not_load(write, capsys):
    broken = write("broken.yaml", "name: b\nnodes: {a: {kind: hots}}\n")
    teacher = write("teacher.yaml", "expect:\n" + HOLDS)
    assert main(["check", broken, "--expect", teacher, "--format", "json"]) == 2
    assert "hots" in json.loads(capsys.readouterr().out)["error"]
    assert main(["check", broken, "--expect", teacher, "--format", "junit"]) == 2
    suite = ET.fromstring(capsys.readouterr().out).find("testsuite")
    assert suite.get("errors") == "1" and suite.find("testcase/error") is not None


def test_a_students_own_expectations_are_not_even_read_under_a_teachers(write, capsys):
    student = write("student.yaml", ROUTED + "expect:\n  - {message: mine, count: "
                    "{filter: 'no.such.field', equals: 0}}\n")
    assert main(["check", student]) == 2                      # its own: a located error
    capsys.readouterr()
    assert main(["check", student, "--expect", write("t.yaml", "expect:\n" + HOLDS)]) == 0


def test_python_of_the_scenarios_own_runs_only_when_allowed(write, tmp_path, capsys):
    (tmp_path / "mine.py").write_text("async def main(host):\n    pass\n")
    student = write("student.yaml", ROUTED + "  - {node: alice, at: 2s, run: python, "
                    "module: mine.py}\nexpect:\n" + HOLDS)
    assert main(["check", student]) == 2
    assert "runs it only with --allow-python" in capsys.readouterr().err
    assert main(["check", student, "--allow-python"]) == 0


def test_a_class_table_has_a_row_a_student_and_the_reason_beside_each_failure(tmp_path, capsys):
    students = tmp_path / "class"
    students.mkdir()
    (students / "ada.yaml").write_text(ROUTED)
    (students / "bo.yaml").write_text(ROUTED.replace("count: 3", "count: 2"))
    (students / "cy.yaml").write_text(ROUTED.replace("target: files", "target: nowhere"))
    teacher = tmp_path / "teacher.yaml"
    teacher.write_text("expect:\n" + HOLDS
                       + "  - {message: all answered, value: {path: ping@alice.received, "
                         "at_least: 3}}\n")
    out = tmp_path / "table"
    code = main(["check", "--class", str(students), "--expect", str(teacher), "-o", str(out)])
    assert code == 2                                  # cy's scenario does not load
    printed = capsys.readouterr().out
    assert "ada.yaml: 2 of 2" in printed and "bo.yaml: 0 of 2" in printed
    rows = list(csv.reader((out / "class.csv").open()))
    assert rows[0] == ["student", "passed", "of", "three echoes", "all answered", "reasons"]
    assert rows[1][:5] == ["ada.yaml", "2", "2", "PASS", "PASS"]
    assert rows[2][:5] == ["bo.yaml", "0", "2", "FAIL", "FAIL"]
    assert "2 frames match 'icmp.type == 8' (wanted exactly 3)" in rows[2][5]
    assert rows[3][0] == "cy.yaml" and "nowhere" in rows[3][5]
    page = (out / "class.html").read_text()
    assert "<th>three echoes</th>" in page and "1 of 3 scenarios meet every expectation" in page
    assert ET.fromstring((out / "class.xml").read_text()).get("errors") == "1"


def test_class_needs_the_teachers_expectations(tmp_path, capsys):
    assert main(["check", "--class", str(tmp_path)]) == 2
    assert "--expect" in capsys.readouterr().err


def test_one_students_endless_or_crashing_run_is_that_students_row(tmp_path, capsys):
    students = tmp_path / "class"
    (students / "eve").mkdir(parents=True)
    (students / "ada.yaml").write_text(ROUTED)
    # A run that would take hours: ended by the class's time limit.
    (students / "eve" / "scenario.yaml").write_text(
        ROUTED.replace("until: 4s", "until: 100000s").replace("count: 3", "count: 60000, "
                                                               "interval: 1ms"))
    (students / "=cmd.yaml").write_text(ROUTED)               # a name a spreadsheet would run
    teacher = tmp_path / "teacher.yaml"
    teacher.write_text("expect:\n" + HOLDS)
    out = tmp_path / "table"
    code = main(["check", "--class", str(students), "--expect", str(teacher), "-o", str(out),
                 "--timeout", "3"])
    assert code == 2
    printed = capsys.readouterr().out
    assert "ada.yaml: 1 of 1" in printed and "eve: error" in printed
    rows = {row[0]: row for row in csv.reader((out / "class.csv").open())}
    assert "did not finish within 3 s" in rows["eve"][-1]
    assert "'=cmd.yaml" in rows                               # shown as text, not run
