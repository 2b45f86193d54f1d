"""Sweeps: designs, validation, identical results on every executor, and safe resumption."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import BASELINE, FUNNELSIM, ROOT

from funnelsim.cli import main
from funnelsim.config.errors import ParameterError
from funnelsim.experiments.execution import ResumeMismatch, run_sweep, run_sweep_into
from funnelsim.experiments.results import DamagedResults, ResultStore, load_results
from funnelsim.experiments.sweeps import load_sweep



def small_base(folder: Path, horizon: int = 60) -> Path:
    path = folder / "small.yaml"
    path.write_text(
        f"extends: {BASELINE}\n"
        f"simulation: {{horizon_days: {horizon}, warmup_days: 10}}\n"
        "channels:\n"
        "  paid_search: {leads_per_week: 120}\n"
        "  inbound_content: {leads_per_week: 100}\n"
    )
    return path


def write_sweep(folder: Path, body: str, name: str = "sweep.yaml") -> Path:
    small_base(folder)
    path = folder / name
    path.write_text(body)
    return path


FACTORIAL = """
name: grid
design: full_factorial
base: small.yaml
factors:
  sdr_team.reps: {low: 2, high: 6, levels: 3}
  follow_up.follow_up_rate: [0.6, 0.9]
replications: 2
seed: 9
"""


def test_full_factorial_is_every_combination(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, FACTORIAL))
    combos = [(p.factors["sdr_team.reps"], p.factors["follow_up.follow_up_rate"]) for p in sweep.points]
    assert combos == list(itertools.product([2, 4, 6], [0.6, 0.9]))
    assert all(isinstance(r, int) for r, _ in combos)  # reps are whole numbers
    assert [p.scenario.sdr_team.reps for p in sweep.points] == [c[0] for c in combos]
    assert sweep.runs == 12


def test_fractional_factorial_is_balanced_and_orthogonal(tmp_path):
    factors = "\n".join(f"  {k}: [{lo}, {hi}]" for k, lo, hi in [
        ("sdr_team.reps", 3, 8),
        ("follow_up.follow_up_rate", 0.6, 0.95),
        ("sales_acceptance.threshold", 78, 64),
        ("opportunity.message_consistency", 0.3, 1.0),
        ("opportunity.content_coverage", 0.2, 0.9),
    ])
    path = write_sweep(tmp_path, f"design: fractional_factorial\nresolution: 3\nbase: small.yaml\nfactors:\n{factors}\n")
    sweep = load_sweep(path)
    assert len(sweep.points) == 8  # 2^(5-2) instead of 32
    levels = pd.DataFrame([p.factors for p in sweep.points])
    assert all(levels[c].nunique() == 2 and levels[c].value_counts().eq(4).all() for c in levels)
    coded = np.column_stack([np.where(levels[c] == levels[c].iloc[0], -1, 1) for c in levels])
    assert np.allclose(coded.T @ coded, 8 * np.eye(5))  # main effects estimable independently


def test_latin_hypercube_fills_every_stratum(tmp_path):
    body = (
        "design: latin_hypercube\npoints: 10\nbase: small.yaml\nseed: 4\nfactors:\n"
        "  follow_up.follow_up_rate: {low: 0.5, high: 1.0}\n"
        "  scoring.noise_sd: {low: 5, high: 25}\n"
    )
    sweep = load_sweep(write_sweep(tmp_path, body))
    rates = np.array([p.factors["follow_up.follow_up_rate"] for p in sweep.points])
    noise = np.array([p.factors["scoring.noise_sd"] for p in sweep.points])
    assert sorted(np.floor((rates - 0.5) / 0.05).astype(int)) == list(range(10))
    assert sorted(np.floor((noise - 5) / 2).astype(int)) == list(range(10))


def test_scenario_list_design(tmp_path):
    body = "design: scenarios\nscenarios:\n" + "".join(
        f"  - {ROOT / 'params' / p}\n" for p in ("baseline.yaml", "scenarios/closed-loop.yaml")
    )
    sweep = load_sweep(write_sweep(tmp_path, body))
    assert [p.factors["scenario"] for p in sweep.points] == ["baseline", "closed-loop"]
    assert sweep.points[1].scenario.closed_loop.enabled


@pytest.mark.parametrize(
    "body, expected",
    [
        ("design: full_factorial\nbase: small.yaml\nfactors:\n  sdr_team.reps: [0, 3]\n", "sdr_team.reps: 0"),
        ("design: full_factorial\nbase: small.yaml\nfactors:\n  sdr_team.repz: [2, 3]\n", "sdr_team.repz: unknown key"),
        ("design: full_factorial\nbase: missing.yaml\nfactors:\n  sdr_team.reps: [2]\n", "base: 'missing.yaml': no such file"),
        ("design: latin_hypercube\nbase: small.yaml\nfactors:\n  sdr_team.reps: {low: 2, high: 5}\n", "needs 'points'"),
        ("design: full_factorial\nbase: small.yaml\nfactors:\n  sdr_team.reps: {low: 5, high: 2}\n", "must be below"),
        ("design: grid\nbase: small.yaml\n", "design: 'grid'"),
        ("design: full_factorial\nbase: small.yaml\nfactors: {}\nreplicatons: 3\n", "replicatons: unknown key"),
        ("design: scenarios\nscenarios: [nope.yaml]\n", "scenarios[0]: 'nope.yaml': no such file"),
        ("design: full_factorial\nbase: small.yaml\nfactors: {sdr_team.reps: [2]}\nseed: 9223372036854775808\n", "seed: 9223372036854775808"),
    ],
)
def test_bad_sweep_files_get_clear_errors(tmp_path, body, expected):
    path = write_sweep(tmp_path, body)
    with pytest.raises(ParameterError) as caught:
        load_sweep(path)
    text = "\n".join(caught.value.lines)
    assert str(path) in text and expected in text, text
    result = CliRunner().invoke(main, ["sweep", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "Traceback" not in result.output


def _runs(folder: Path) -> pd.DataFrame:
    return load_results(folder).runs.drop(columns="seconds")


def test_every_executor_gives_identical_results(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, FACTORIAL))
    for executor in ("serial", "processes", "dask"):
        run_sweep(sweep, ResultStore(tmp_path / executor), executor=executor, workers=2, progress=False)
    serial = _runs(tmp_path / "serial")
    assert len(serial) == 12 and not serial.duplicated(["point", "replication"]).any()
    assert {"sdr_team.reps", "follow_up.follow_up_rate", "revenue", "scenario"} <= set(serial.columns)
    for executor in ("processes", "dask"):
        pd.testing.assert_frame_equal(serial, _runs(tmp_path / executor))
    daily = load_results(tmp_path / "dask").daily
    assert len(daily) == 12 * 60


def test_common_random_numbers_can_be_switched_off(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, FACTORIAL))
    shared = {sweep.seed_for(p, 1).spawn_key for p in range(3)}
    assert len(shared) == 1
    independent = sweep.with_options(common_random_numbers=False)
    assert len({independent.seed_for(p, 1).spawn_key for p in range(3)}) == 3


def test_existing_results_need_resume_and_the_same_sweep(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, FACTORIAL))
    store = ResultStore(tmp_path / "out")
    run_sweep(sweep, store, executor="serial", progress=False)
    with pytest.raises(ResumeMismatch, match="--resume"):
        run_sweep(sweep, store, executor="serial", progress=False)
    assert run_sweep(sweep, store, executor="serial", resume=True, progress=False) == 0
    with pytest.raises(ResumeMismatch, match="different sweep"):
        run_sweep(sweep.with_options(seed=10), store, executor="serial", resume=True, progress=False)


def test_a_study_sweep_runs_into_its_folder_and_a_second_call_runs_only_what_is_missing(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, FACTORIAL)).with_options(replications=1)
    first = run_sweep_into(sweep, tmp_path / "report", "grid", executor="serial")
    store = ResultStore(tmp_path / "report" / "grid")
    assert len(first.runs) == 6 and first.factors == ["sdr_team.reps", "follow_up.follow_up_rate"]
    again = run_sweep_into(sweep, tmp_path / "report", "grid", executor="serial")
    pd.testing.assert_frame_equal(again.runs, first.runs)
    assert [session["runs"] for session in store.read_manifest()["sessions"]] == [6, 0]
    with pytest.raises(ResumeMismatch, match="--resume"):
        run_sweep_into(sweep, tmp_path / "report", "grid", executor="serial", resume=False)
    elsewhere = run_sweep_into(sweep, "", "grid", executor="serial")  # no folder: a temporary one
    pd.testing.assert_frame_equal(elsewhere.runs.drop(columns="seconds"), first.runs.drop(columns="seconds"))


def test_large_sweeps_ask_for_yes(tmp_path):
    body = FACTORIAL.replace("replications: 2", "replications: 40")
    result = CliRunner().invoke(main, ["sweep", str(write_sweep(tmp_path, body)), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "240 runs" in result.output and "--yes" in result.output
    assert not (tmp_path / "o").exists()


def _ctrl_c_as_in_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


KILLED = FACTORIAL.replace("replications: 2", "replications: 8")  # 48 runs: still running when two are saved


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> pd.DataFrame:
    """The runs of the KILLED sweep run once without interruption (every killed sweep must match them)."""
    folder = tmp_path_factory.mktemp("uninterrupted")
    run_sweep(load_sweep(write_sweep(folder, KILLED)), ResultStore(folder / "runs"), executor="processes", workers=2,
              progress=False)
    return _runs(folder / "runs")


@pytest.mark.parametrize("executor, how", [("serial", signal.SIGKILL), ("processes", signal.SIGINT)])
def test_a_killed_sweep_resumes_without_losing_or_duplicating_runs(tmp_path, executor, how, uninterrupted):
    path = write_sweep(tmp_path, KILLED)
    total = load_sweep(path).runs
    out = tmp_path / "killed"
    command = [FUNNELSIM, "sweep", str(path), "--out", str(out), "--executor", executor,
               "--workers", "2", "--no-progress"]
    # Ctrl-C as in a terminal: a suite started in the background by a shell inherits SIGINT
    # ignored (as every background job does), and so would the sweep, which then runs to the end
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                               preexec_fn=_ctrl_c_as_in_a_terminal)
    deadline = time.time() + 120
    # interrupt as soon as two runs are saved: on a loaded machine, reading the store lags the sweep,
    # and waiting for more once let it finish before the signal came (exit 0 instead of 130)
    while len(ResultStore(out).finished()) < 2 and time.time() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert process.poll() is None, "the sweep finished before it could be interrupted"
    os.killpg(process.pid, how)
    _, err = process.communicate(timeout=60)
    if how == signal.SIGINT:
        assert process.returncode == 130 and b"--resume" in err and b"Traceback" not in err
    saved = ResultStore(out).finished()
    assert 2 <= len(saved) < total

    resumed = subprocess.run(command + ["--resume"], capture_output=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr.decode()
    assert f"{total - len(saved)} runs done".encode() in resumed.stdout

    pd.testing.assert_frame_equal(uninterrupted, _runs(out))
    leftovers = [p for p in out.rglob("*") if p.name.startswith(".") and p.name.endswith(".tmp")]
    # A run killed mid-write may leave a hidden temporary file; it is never read as a result.
    assert all(p.parent.name.startswith("replication=") for p in leftovers)


# --- one writer, damaged folders, dying parents, schedulers that are not -----------------------

TINY = FACTORIAL.replace("base: small.yaml", "base: tiny.yaml")


def write_tiny_sweep(folder: Path, body: str = TINY) -> Path:
    (folder / "tiny.yaml").write_text(
        f"extends: {BASELINE}\nsimulation: {{horizon_days: 20, warmup_days: 5}}\n"
        "channels:\n  paid_search: {leads_per_week: 60}\n  inbound_content: {leads_per_week: 50}\n"
    )
    path = folder / "sweep.yaml"
    path.write_text(body)
    return path


def test_two_sweeps_on_one_folder_one_writes_the_other_is_refused(tmp_path):
    """Started together with different seeds: one finishes, the other exits 2; one seed in the folder."""
    path = write_tiny_sweep(tmp_path, TINY.replace("replications: 2", "replications: 4"))
    out = tmp_path / "shared"
    commands = [[FUNNELSIM, "sweep", str(path), "--out", str(out), "--executor", "serial", "--no-progress", "--seed", str(seed)]
                for seed in (9, 10)]
    processes = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c in commands]
    outcomes = [(p.wait(timeout=300), p.communicate()[1]) for p in processes]
    assert sorted(code for code, _ in outcomes) == [0, 2], outcomes
    winner = next(i for i, (code, _) in enumerate(outcomes) if code == 0)
    refusal = outcomes[1 - winner][1]
    assert "another funnelsim is writing here" in refusal or "already holds results" in refusal, refusal
    assert "Traceback" not in refusal
    manifest = ResultStore(out).read_manifest()
    assert manifest["seed"] == (9, 10)[winner] and len(manifest["sessions"]) == 1 and manifest["sessions"][0]["runs"] == 24
    assert len(ResultStore(out).finished()) == 24 and not [p for p in out.rglob("*.tmp")]


def test_a_second_writer_is_refused_while_the_first_holds_the_folder(tmp_path):
    from funnelsim.config.files import folder_lock

    path = write_tiny_sweep(tmp_path)
    with folder_lock(tmp_path / "held"):
        result = CliRunner().invoke(main, ["sweep", str(path), "--out", str(tmp_path / "held"), "--executor", "serial", "--no-progress"])
    assert result.exit_code == 2 and "another funnelsim is writing here" in result.output
    assert not ResultStore(tmp_path / "held").exists()


def test_pool_workers_end_when_the_sweep_is_killed(tmp_path):
    import psutil

    path = write_tiny_sweep(tmp_path, TINY.replace("replications: 2", "replications: 40"))
    out = tmp_path / "orphans"
    process = subprocess.Popen([FUNNELSIM, "sweep", str(path), "--out", str(out), "--executor", "processes",
                                "--workers", "2", "--no-progress", "--yes"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not ResultStore(out).finished() and time.time() < deadline and process.poll() is None:
        time.sleep(0.05)
    workers = psutil.Process(process.pid).children(recursive=True)
    assert process.poll() is None and workers, "the sweep finished before it could be killed"
    process.kill()  # kill -9 of the main process alone: no chance to stop its pool
    process.wait()
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, [p.pid for p in alive]


def test_a_damaged_manifest_is_named(tmp_path):
    path = write_tiny_sweep(tmp_path)
    for text in ('{"sweep": "grid", "points": ', "[1, 2]", "\xff\xfe"):
        (tmp_path / "out").mkdir(exist_ok=True)
        (tmp_path / "out" / "manifest.json").write_bytes(text.encode("latin-1"))
        result = CliRunner().invoke(main, ["sweep", str(path), "--out", str(tmp_path / "out"), "--resume", "--executor", "serial"])
        assert result.exit_code == 2 and f"{tmp_path / 'out' / 'manifest.json'}: not a" in result.output, result.output
        assert "Traceback" not in result.output
        with pytest.raises(DamagedResults, match="manifest"):
            load_results(tmp_path / "out")


def test_resume_runs_again_what_does_not_read(tmp_path):
    """A truncated run.parquet is not a finished run: --resume runs it again, and the results are whole."""
    path = write_tiny_sweep(tmp_path)
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["sweep", str(path), "--out", str(out), "--executor", "serial", "--no-progress"]).exit_code == 0
    before = _runs(out)
    for table, point in (("kpis", 1), ("daily", 4)):
        damaged = out / table / f"point={point}" / "replication=1" / "run.parquet"
        damaged.write_bytes(damaged.read_bytes()[:100])
    assert len(ResultStore(out).finished()) == 10
    result = CliRunner().invoke(main, ["sweep", str(path), "--out", str(out), "--executor", "serial", "--no-progress", "--resume"])
    assert result.exit_code == 0, result.output
    assert "2 saved runs do not read" in result.output and "2 runs done" in result.output
    pd.testing.assert_frame_equal(before, _runs(out))


@pytest.fixture
def fake_servers():
    """Two TCP servers that are not Dask schedulers: one greets like SSH, one never answers."""
    import socket
    import threading

    sockets = []

    def serve(greeting: bytes) -> str:
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen()
        sockets.append(server)

        def accept() -> None:
            while True:
                try:
                    conn, _ = server.accept()
                except OSError:
                    return
                sockets.append(conn)
                conn.sendall(greeting)

        threading.Thread(target=accept, daemon=True).start()
        return f"tcp://127.0.0.1:{server.getsockname()[1]}"

    yield serve(b"SSH-2.0-OpenSSH_9.6\r\n"), serve(b"")
    for s in sockets:
        s.close()


def test_an_address_that_is_not_a_dask_scheduler_fails_fast(tmp_path, monkeypatch, fake_servers):
    import funnelsim.experiments.execution as execution

    monkeypatch.setattr(execution, "CONNECT_SECONDS", 1.0)
    path = write_tiny_sweep(tmp_path)
    out = tmp_path / "out"
    for address in (*fake_servers, "tcp://127.0.0.1:1", "no-port-here"):
        started = time.time()
        result = CliRunner().invoke(main, ["sweep", str(path), "--out", str(out), "--executor", "dask", "--scheduler", address])
        assert result.exit_code == 2 and f"--scheduler {address}: not a Dask scheduler" in result.output, result.output
        assert time.time() - started < 10 and "Traceback" not in result.output
        assert not ResultStore(out).exists()
    result = CliRunner().invoke(main, ["sweep", str(path), "--out", str(out), "--executor", "serial", "--no-progress"])
    assert result.exit_code == 0, result.output  # nothing left behind to need --resume


def test_a_real_scheduler_passes_the_check():
    from dask.distributed import LocalCluster

    from funnelsim.experiments.execution import check_scheduler

    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster:
        check_scheduler(cluster.scheduler_address)


def test_a_failed_session_that_saved_nothing_leaves_no_manifest(tmp_path, monkeypatch):
    import funnelsim.experiments.execution as execution

    def broken(tasks, workers, scheduler):
        raise OSError("the cluster went away")
        yield

    monkeypatch.setitem(execution._RUNNERS, "dask", broken)
    sweep = load_sweep(write_tiny_sweep(tmp_path))
    store = ResultStore(tmp_path / "out")
    with pytest.raises(execution.SweepInterrupted, match="the cluster went away"):
        run_sweep(sweep, store, executor="dask", progress=False)
    assert not store.exists() and not (store.folder / "points.parquet").exists()
    assert run_sweep(sweep, store, executor="serial", progress=False) == 12


def test_a_full_disk_stops_a_sweep_cleanly_and_resume_finishes_it(tmp_path, monkeypatch):
    import errno

    path = write_tiny_sweep(tmp_path)
    out = tmp_path / "out"
    writes = []
    to_parquet = pd.DataFrame.to_parquet

    def fill_up(self, target, **kw):
        writes.append(target)
        if len(writes) > 10:
            Path(target).write_bytes(b"PAR1 half")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
        return to_parquet(self, target, **kw)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", fill_up)
    result = CliRunner().invoke(main, ["sweep", str(path), "--out", str(out), "--executor", "serial", "--no-progress"])
    assert result.exit_code == 1 and "No space left on device" in result.output and "--resume" in result.output
    assert "Traceback" not in result.output and not list(out.rglob("*.tmp"))
    monkeypatch.undo()
    result = CliRunner().invoke(main, ["sweep", str(path), "--out", str(out), "--executor", "serial", "--no-progress", "--resume"])
    assert result.exit_code == 0, result.output
    assert len(load_results(out).runs) == 12
