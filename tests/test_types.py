"""The package type-checks: mypy over ``src/funnelsim`` with the ``[tool.mypy]`` settings of
pyproject.toml finds nothing.

mypy's cache lives in the system's temporary folder (one per checkout), so after the first run
only the modules that changed are checked again.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[1]


def test_the_package_type_checks():
    cache = Path(tempfile.gettempdir()) / f"funnelsim-mypy-{hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]}"
    stdout, stderr, status = api.run([
        "--config-file", str(ROOT / "pyproject.toml"),
        "--cache-dir", str(cache),
        "--no-error-summary",
        str(ROOT / "src" / "funnelsim"),
    ])
    assert status == 0, f"mypy found type errors:\n{stdout}{stderr}"
