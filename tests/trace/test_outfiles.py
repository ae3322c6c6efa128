"""Nothing under ``-o DIR`` is written through a symbolic link planted there: a link at
``DIR/pcap``, at a capture, at ``summary.json`` or a picture is refused (exit 2, the
link named, nothing written where it points), and a link swapped in after the check
is refused or replaced by the writers, never followed (issue 20)."""

from __future__ import annotations

import os

import pytest

from netsim.cli import main
from netsim.errors import ScenarioError
from netsim.trace.outfiles import make_folder, open_new, refuse_links, write_into_place
from tests.conftest import TWO_HOSTS_PING


@pytest.fixture
def scenario(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TWO_HOSTS_PING)
    return path


@pytest.mark.parametrize("planted", ["pcap", "pcap/a-b.pcap", "summary.json", "trace.jsonl",
                                     "sequence.svg", "timeline.png"])
def test_a_link_planted_in_the_output_folder_is_refused_and_nothing_written_through_it(
        tmp_path, scenario, capsys, planted):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious").write_text("keep me")
    link = out / planted
    link.parent.mkdir(parents=True, exist_ok=True)
    # A link to a folder where netsim makes one, to a file where it writes one.
    link.symlink_to(elsewhere if planted == "pcap" else elsewhere / "precious")
    code = main(["run", str(scenario), "-o", str(out), "-q",
                 "--outputs", "pcap,jsonl,sequence,timeline,summary"])
    assert code == 2
    err = capsys.readouterr().err
    assert f"{link} is a symbolic link" in err and "Traceback" not in err
    assert sorted(p.name for p in elsewhere.iterdir()) == ["precious"]
    assert (elsewhere / "precious").read_text() == "keep me"
    written = [p for p in out.rglob("*") if p.is_file() and not p.is_symlink()]
    assert written == []                          # refused before anything was written


def test_a_streaming_run_refuses_a_planted_pcap_link_too(tmp_path, scenario, capsys):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "pcap").symlink_to(elsewhere)
    assert main(["run", str(scenario), "-o", str(out), "-q", "--stream"]) == 2
    assert "is a symbolic link" in capsys.readouterr().err
    assert list(elsewhere.iterdir()) == []


def test_the_output_folder_itself_may_be_the_users_link(tmp_path, scenario):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "out").symlink_to(real)
    assert main(["run", str(scenario), "-o", str(tmp_path / "out"), "-q",
                 "--outputs", "pcap,summary"]) == 0
    assert (real / "summary.json").is_file() and (real / "pcap" / "a-b.pcap").is_file()


def test_open_new_refuses_a_link_at_the_file_or_at_a_folder_on_the_way(tmp_path):
    """What the writers do when a link appears after the check (a race): O_NOFOLLOW at
    each component from the root."""
    target = tmp_path / "target"
    target.mkdir()
    root = tmp_path / "out"
    make_folder(root / "pcap", root)
    (root / "pcap" / "x.pcap").symlink_to(target / "x")
    with pytest.raises(ScenarioError, match="x.pcap is a symbolic link"):
        open_new(root / "pcap" / "x.pcap", root=root)
    os.unlink(root / "pcap" / "x.pcap")
    os.rmdir(root / "pcap")
    (root / "pcap").symlink_to(target)
    with pytest.raises(ScenarioError, match="pcap is a symbolic link"):
        open_new(root / "pcap" / "y.pcap", root=root)
    with pytest.raises(ScenarioError, match="pcap is a symbolic link"):
        refuse_links(root, ["pcap/y.pcap"])
    assert list(target.iterdir()) == []
    with open_new(root / "plain.txt", "w") as out:        # and a plain file is written
        out.write("ok")
    assert (root / "plain.txt").read_text() == "ok"


def test_write_into_place_replaces_a_link_planted_meanwhile_never_writes_through_it(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    final = tmp_path / "sequence.svg"

    def writer(part):
        assert part.suffix == ".svg" and part.name.startswith(".sequence.")
        final.symlink_to(victim)                  # planted between the check and the rename
        part.write_text("<svg/>")

    write_into_place(final, writer)
    assert not final.is_symlink() and final.read_text() == "<svg/>"
    assert victim.read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
