"""Build hook: the wheel carries params/, notebooks/ and examples/ as funnelsim/_data/.

The folders have one home, the checkout's top level, where people read and edit them; they
are copied into the package only when a wheel is built. ``funnelsim.config.paths.data_dir`` finds
them in the checkout when funnelsim runs from one (an editable install copies nothing), and
in ``funnelsim/_data`` when installed from a wheel. Everything else is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED = ("params", "notebooks", "examples")  # as funnelsim.config.paths.SHIPPED
ROOT = Path(__file__).resolve().parent
SKIP = shutil.ignore_patterns("__pycache__", "*.py[cod]", ".ipynb_checkpoints", ".*")


class BuildWithData(build_py):
    """``build_py`` that also copies the shipped folders into ``funnelsim/_data``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout's folders
        target = Path(self.build_lib) / "funnelsim" / "_data"
        for name in SHIPPED:
            shutil.rmtree(target / name, ignore_errors=True)
            shutil.copytree(ROOT / name, target / name, ignore=SKIP)


setup(cmdclass={"build_py": BuildWithData})
