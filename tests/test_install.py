"""funnelsim installed like a library: the wheel carries its scenarios, notebooks and examples,
and from any folder it reads them and writes under that folder, never into the checkout.

The wheel is built from a copy of the checkout (so the build leaves nothing in it) and
installed with ``--no-deps`` into a fresh virtual environment whose ``.pth`` file lends it this
environment's libraries: nothing is downloaded but, when this environment cannot build wheels
itself, setuptools for pip's isolated build (from the package index, or the local mirror pip is
configured with). Without either, the test is skipped, saying so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

pytestmark = pytest.mark.packaging

SHORT = ["--set", "simulation.horizon_days=60", "--set", "simulation.warmup_days=10"]
COPIED = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "src", "params", "notebooks", "examples")
UNREACHABLE = ("No matching distribution found", "Could not find a version", "Network is unreachable",
               "Failed to establish a new connection", "Temporary failure in name resolution")


def _can_build_without_isolation() -> bool:
    """This environment's setuptools can build a wheel by itself (``bdist_wheel`` is in
    setuptools from 70.1, before that in the ``wheel`` package)."""
    try:
        import setuptools
    except ImportError:
        return False
    major, minor = (int(part) for part in setuptools.__version__.split(".")[:2])
    if (major, minor) >= (70, 1):
        return True
    try:
        import wheel  # noqa: F401
    except ImportError:
        return False
    return True


def _build_wheel(tmp: Path) -> Path:
    source = tmp / "source"
    for name in COPIED:
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", ".ipynb_checkpoints"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(origin, source / name)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(tmp / "dist"), str(source)]
    if _can_build_without_isolation():
        command.insert(4, "--no-build-isolation")
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        if any(sign in done.stdout + done.stderr for sign in UNREACHABLE):
            pytest.skip("cannot build the wheel: pip's isolated build needs setuptools from a package index, "
                        "and none is reachable")
        raise AssertionError(f"building the wheel failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    (wheel,) = (tmp / "dist").glob("funnelsim-*.whl")
    return wheel


def _fresh_venv(tmp: Path, wheel: Path) -> Path:
    """A new environment with the wheel installed, borrowing this environment's libraries
    through a ``.pth`` line (which, unlike a site folder, reads no ``.pth`` files in it, so the
    editable install of the checkout stays out)."""
    folder = tmp / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(folder)
    python = folder / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    borrowed = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(purelib, "borrowed-libraries.pth").write_text("".join(f"{p}\n" for p in sorted(borrowed)))
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return folder


def _files(folder: Path) -> set[Path]:
    return {p.relative_to(folder) for p in folder.rglob("*") if "__pycache__" not in p.parts} if folder.is_dir() else set()


def test_the_installed_wheel_runs_from_any_folder_and_writes_only_there(tmp_path):
    wheel = _build_wheel(tmp_path)
    env = _fresh_venv(tmp_path, wheel)
    work = tmp_path / "work"
    work.mkdir()
    watched = {name: _files(ROOT / name) for name in ("reports", "params", "notebooks", "examples")}
    variables = {k: v for k, v in os.environ.items() if not k.startswith("FUNNELSIM_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    # nbconvert's templates and the kernel machinery live in this environment's share/jupyter
    variables["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(Path(sys.prefix) / "share" / "jupyter"),
                                                            os.environ.get("JUPYTER_PATH")) if p)
    variables["PATH"] = f"{env / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"

    def funnelsim(*args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(env / "bin" / "funnelsim"), *args], cwd=work, env=variables,
                              capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, f"funnelsim {' '.join(args)}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        return done

    where = subprocess.run([str(env / "bin" / "python"), "-c", "import funnelsim, funnelsim.config.paths as c; "
                            "print(funnelsim.__file__); print(c.PARAMS_DIR); print(c.source_checkout())"],
                           cwd=work, env=variables, capture_output=True, text=True, check=True).stdout.split("\n")
    assert Path(where[0]).is_relative_to(env), f"funnelsim imported from {where[0]}, not from the fresh environment"
    assert Path(where[1]) == Path(where[0]).parent / "_data" / "params" and where[2] == "None"

    funnelsim("validate", "params/baseline.yaml", "params/scenarios/closed-loop.yaml")
    funnelsim("run", "params/baseline.yaml", "-r", "1", *SHORT)
    (run,) = (work / "reports" / "runs").iterdir()
    assert {"leads.parquet", "daily.parquet", "replications.parquet", "manifest.json"} <= {p.name for p in run.iterdir()}

    done = funnelsim("report", "scenario_report", "-p", "replications", "1",
                     "-p", "overrides", "[simulation.horizon_days=60, simulation.warmup_days=10]", timeout=600)
    (page,) = (work / "reports" / "scenario_report").glob("*/report.html")
    assert str(page.relative_to(work)) in done.stdout and (work / "reports" / "index.html").is_file()

    # assess writes under ./params, extending the shipped baseline by a path relative to itself
    funnelsim("assess", "params/assessments/somewhat-aligned.yaml", "--keep-teams")
    (written,) = (work / "params").glob("*.yaml")
    extends = yaml.safe_load(written.read_text())["extends"]
    assert not Path(extends).is_absolute() and (written.parent / extends).resolve().is_file()
    funnelsim("validate", str(written.relative_to(work)))

    shown = funnelsim("assess", "--help").stdout + funnelsim("check", "--help").stdout
    assert "params/baseline.yaml" in shown and "params/targets/published.yaml" in shown
    assert str(env) not in shown and str(ROOT) not in shown

    assert {name: _files(ROOT / name) for name in watched} == watched, "something was written into the checkout"
