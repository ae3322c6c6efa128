"""The README stands alone: every file it links or shows exists in the repository, and it
names nothing outside it (a user's clone has only the repository)."""

import re

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_linked_file_is_in_the_repository():
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README)
    local = [t for t in targets if not re.match(r"[a-z]+://", t)]
    assert local, "the README links its figures and the ns-3 notes"
    missing = [t for t in local if not (ROOT / t).resolve().is_relative_to(ROOT)
               or not (ROOT / t).exists()]
    assert missing == []


def test_no_path_leaves_the_repository():
    assert re.findall(r"\.\./[\w./-]+", README) == []


def test_every_benchmark_it_names_exists():
    named = set(re.findall(r"benchmarks/[\w/]+\.py", README))
    assert "benchmarks/ns3/ns3_line.py" in named
    assert [n for n in sorted(named) if not (ROOT / n).exists()] == []
