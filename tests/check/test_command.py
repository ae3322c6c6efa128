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


def test_a_teachers_file_is_checked_against_the_students_scenario(write, capsys):
    student = write("student.yaml", ROUTED)
    teacher = write("teacher.yaml", "expect:\n  - message: m\n    count: {filter: icmp, "
                    "link: alice-r9, equals: 1}\n")
    assert main(["check", student, "--expect", teacher]) == 2
    err = capsys.readouterr().err
    assert "teacher.yaml:3: expect[0].count.link: no link is named 'alice-r9'" in err
    assert main(["check", student, "--expect", write("t2.yaml", "name: x\nexpect: []\n")]) == 2
    assert "holds only 'expect' and 'description'" in capsys.readouterr().err


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
    assert rows[1][:5] == ["ada", "2", "2", "PASS", "PASS"]
    assert rows[2][:5] == ["bo", "0", "2", "FAIL", "FAIL"]
    assert "2 frames match 'icmp.type == 8' (wanted exactly 3)" in rows[2][5]
    assert rows[3][0] == "cy" and "nowhere" in rows[3][5]
    page = (out / "class.html").read_text()
    assert "<th>three echoes</th>" in page and "1 of 3 scenarios meet every expectation" in page
    assert ET.fromstring((out / "class.xml").read_text()).get("errors") == "1"


def test_class_needs_the_teachers_expectations(tmp_path, capsys):
    assert main(["check", "--class", str(tmp_path)]) == 2
    assert "--expect" in capsys.readouterr().err
