"""The package's layers show: config -> model -> experiments -> stats -> studies -> present -> cli.

import-linter checks the contract in ``.importlinter``: no module imports from a layer above
its own, so the model never reaches for a report and the registry never reaches for the model.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_module_imports_only_from_its_layer_and_the_layers_below():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--config", str(ROOT / ".importlinter")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 kept, 0 broken" in result.stdout


def test_every_module_of_the_package_belongs_to_a_layer():
    package = ROOT / "src" / "funnelsim"
    flat = sorted(p.name for p in package.glob("*.py") if p.name not in {"__init__.py", "__main__.py"})
    assert flat == [], f"modules outside the layers: {flat}"
