"""Sweeps run: the bundled example on this machine's cores, the same on a Dask cluster
of real scheduler and worker processes, a failed run reported without stopping the rest."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import netsim
from netsim.cli import main
from netsim.viz.sweep_plot import mathis
from tests.conftest import TWO_HOSTS_PING as TINY


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    """`netsim sweep tcp-goodput-vs-loss`: 3 loss rates × 10 seeds, on every core."""
    out = tmp_path_factory.mktemp("sweep")
    code = main(["sweep", "tcp-goodput-vs-loss", "-o", str(out)])
    return code, out


def test_the_bundled_sweep_writes_its_table_and_plot(bundled):
    code, out = bundled
    assert code == 0
    table = pd.read_csv(out / "sweep.csv")
    assert len(table) == 30 and set(table["status"]) == {"ok"}
    assert list(table.columns[:5]) == ["run", "links[1].loss", "seed", "status", "error"]
    parquet = pd.read_parquet(out / "sweep.parquet")
    assert list(parquet.columns) == list(table.columns)
    assert parquet["tcp-source@a.goodput_bps"].tolist() == \
        pytest.approx(table["tcp-source@a.goodput_bps"].tolist(), rel=1e-12)
    assert (out / "sweep-tcp-source-goodput-loss.png").stat().st_size > 10_000
    assert sorted(p.name for p in (out / "runs").iterdir()) == [f"{i:04d}" for i in range(30)]
    assert (out / "runs" / "0007" / "summary.json").exists()
    # NewReno against Mathis et al. on this 40 ms path: within [0.7, 1.3] at each rate.
    for loss, group in table.groupby("links[1].loss"):
        model = mathis(float(loss.rstrip("%")) / 100, mss=1460, rtt=0.040)
        assert 0.7 <= group["tcp-source@a.goodput_bps"].median() / model <= 1.3, loss


@pytest.mark.loopback_cluster
def test_the_same_sweep_on_a_dask_cluster_gives_the_same_rows(bundled, tmp_path):
    """A real `dask scheduler` and two `dask worker` processes on this machine."""
    dask = shutil.which("dask", path=os.path.dirname(sys.executable)) or shutil.which("dask")
    assert dask, "the dev extra installs dask[distributed]"
    address_file = tmp_path / "scheduler.json"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(address_file)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)]
    try:
        for _ in range(300):
            if address_file.exists() and address_file.stat().st_size:
                break
            time.sleep(0.1)
        import json
        address = json.loads(address_file.read_text())["address"]
        for _ in range(2):
            procs.append(subprocess.Popen([dask, "worker", address, "--nthreads", "1",
                                           "--no-dashboard", "--local-directory", str(tmp_path)],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                          env=env))
        from distributed import Client
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        remote = netsim.sweep("tcp-goodput-vs-loss", scheduler=address)
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
    _, out = bundled
    local = pd.read_parquet(out / "sweep.parquet")
    pd.testing.assert_frame_equal(remote.reset_index(drop=True), local, check_dtype=False)


def test_a_failed_run_is_reported_and_the_sweep_goes_on(tmp_path, monkeypatch, capsys):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY)
    from netsim.sweeps import worker
    real = worker.run_scenario

    def flaky(scenario, outdir=None, *, seed=None, **kw):
        if seed == 6:
            raise RuntimeError("the simulated disk caught fire")
        return real(scenario, outdir, seed=seed, **kw)

    monkeypatch.setattr(worker, "run_scenario", flaky)
    code = main(["sweep", str(scenario), "--vary", "links[0].delay=5ms,20ms", "--seeds", "3",
                 "--workers", "1", "-o", str(tmp_path / "out"), "--plot", "avg_ms~delay"])
    assert code == 1                                   # loud: a run failed
    out = capsys.readouterr().out
    assert "6 runs on this machine" in out and "2 FAILED" in out
    assert "failed: RuntimeError: the simulated disk caught fire" in out
    table = pd.read_csv(tmp_path / "out" / "sweep.csv")
    assert list(table["status"]) == ["ok", "failed", "ok"] * 2
    assert table.loc[table["status"] == "ok", "ping@a.received"].tolist() == [2] * 4


def test_bad_vary_and_plot_arguments_exit_2_naming_them(tmp_path, capsys):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY)
    assert main(["sweep", str(scenario), "--vary", "links[0].rate=fast"]) == 2
    assert "links[0].rate" in capsys.readouterr().err
    assert main(["sweep", str(scenario), "--vary", "links[0].rate=1Mbps", "--seeds", "1",
                 "-o", str(tmp_path / "o"), "--plot", "nonsense~rate", "-q"]) == 2
    assert "--plot" in capsys.readouterr().err
    assert main(["sweep", str(scenario), "--vary", "links[0].rate=1Mbps", "--workers", "0"]) == 2
    assert "--workers" in capsys.readouterr().err


def test_the_python_api_returns_the_table(tmp_path):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY)
    frame = netsim.sweep(str(scenario), vary={"links[0].delay": ["5ms", "20ms"]}, seeds=2, workers=1)
    assert list(frame["links[0].delay"]) == ["5ms", "5ms", "20ms", "20ms"]
    assert frame["ping@a.avg_ms"].tolist()[0] < frame["ping@a.avg_ms"].tolist()[-1]
    assert Path(scenario).exists()



# -- a peer that is no scheduler, and cells a spreadsheet would run (issue 20) --------------

@pytest.mark.loopback_cluster
def test_a_scheduler_address_where_nothing_answers_the_handshake_is_a_clear_error(
        tmp_path, capsys, monkeypatch):
    """A loopback listener that accepts and says nothing (no Dask scheduler): the sweep
    used to hang in Client(); now it gives up after the handshake timeout, exit 2."""
    import socket
    import threading

    from netsim.sweeps import execute

    monkeypatch.setattr(execute, "SCHEDULER_TIMEOUT", 1.0)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    accepted = []

    def accept():
        try:
            while True:
                accepted.append(listener.accept()[0])     # and never a byte back
        except OSError:
            return

    threading.Thread(target=accept, daemon=True).start()
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY)
    address = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    started = time.monotonic()
    try:
        code = main(["sweep", str(scenario), "--vary", "links[0].delay=5ms", "--scheduler",
                     address, "-o", str(tmp_path / "out"), "-q"])
    finally:
        listener.close()
        for conn in accepted:
            conn.close()
    assert code == 2 and time.monotonic() - started < 30
    err = capsys.readouterr().err
    assert f"no Dask scheduler at {address}: nothing answered Dask's handshake within 1 s" in err
    assert accepted                                        # it did connect, and waited


def test_csv_cells_a_spreadsheet_would_take_for_formulas_are_prefixed():
    """OWASP's CSV Injection advice: a text cell starting = + - @ tab or CR gets a '."""
    from netsim.sweeps.table import csv_frame, to_frame
    frame = to_frame([{"run": 0, "v": "=HYPERLINK(\"http://x\")", "n": -3, "error": "+1"},
                      {"run": 1, "v": "@SUM(A1)", "n": 2.5, "error": "-2"},
                      {"run": 2, "v": "\tx", "n": 0, "error": "\rcmd"},
                      {"run": 3, "v": "ok", "n": -0.5, "error": ""}], ["v"])
    safe = csv_frame(frame)
    assert list(safe["v"]) == ["'=HYPERLINK(\"http://x\")", "'@SUM(A1)", "'\tx", "ok"]
    assert list(safe["error"]) == ["'+1", "'-2", "'\rcmd", ""]
    assert list(safe["n"]) == [-3, 2.5, 0, -0.5]            # numbers stay numbers
    assert list(frame["v"])[0] == "=HYPERLINK(\"http://x\")"   # the frame itself untouched


def test_the_written_csv_has_the_cells_defused_and_the_parquet_the_values(tmp_path):
    from netsim.sweeps.table import to_frame, write_table
    frame = to_frame([{"run": 0, "links[0].delay": "=1+2", "error": "@x"},
                      {"run": 1, "links[0].delay": "5ms", "error": ""}], ["links[0].delay"])
    csv, parquet = write_table(frame, tmp_path / "out")
    table = pd.read_csv(csv, keep_default_na=False)
    assert list(table["links[0].delay"]) == ["'=1+2", "5ms"] and list(table["error"]) == ["'@x", ""]
    assert list(pd.read_parquet(parquet)["links[0].delay"]) == ["=1+2", "5ms"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["sweep.csv", "sweep.parquet"]


def test_page_load_time_against_loss_for_http_1_0_and_1_1_from_the_command_line(tmp_path, capsys):
    """``load_time`` names both browsers' load time: one line each on the plot."""
    out = tmp_path / "sweep"
    assert main(["sweep", "http-1.0-vs-1.1", "--vary", "links[3].loss=0%,3%", "--seeds", "2",
                 "--plot", "load_time~loss", "-o", str(out), "--outputs", "summary",
                 "--workers", "1"]) == 0
    printed = capsys.readouterr().out
    assert "browser@alice.load_time_s by links[3].loss" in printed
    assert "browser@bob.load_time_s by links[3].loss" in printed
    table = pd.read_csv(out / "sweep.csv")
    assert table["browser@alice.visits[0].load_time_s"].notna().all()
    assert (out / "sweep-load_time-loss.png").stat().st_size > 10_000


def test_a_plot_column_no_run_has_stops_the_sweep_after_its_first_run(tmp_path, capsys):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY)
    assert main(["sweep", str(scenario), "--vary", "links[0].delay=5ms,10ms,20ms", "--seeds", "3",
                 "-o", str(tmp_path / "o"), "--plot", "goodput~delay", "-q"]) == 2
    err = capsys.readouterr().err
    assert "'goodput'" in err and "first run" in err
    assert len(list((tmp_path / "o" / "runs").iterdir())) == 1      # not nine
    assert main(["sweep", str(scenario), "--vary", "links[0].delay=5ms", "-o", str(tmp_path / "p"),
                 "--plot", "avg~rate", "-q"]) == 2                  # rate is not varied
    assert "links[0].delay" in capsys.readouterr().err
    assert not (tmp_path / "p" / "runs").exists()
