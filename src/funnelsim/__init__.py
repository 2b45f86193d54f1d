"""funnelsim: what is sales and marketing alignment worth, in revenue, and which lever buys it?

A SimPy model of the marketing-to-sales funnel driven by scenario files, with seeded
replications and tidy tables for analysis.

The names below are imported when first used, so ``import funnelsim`` (and the command line,
say ``funnelsim validate``) does not pay for the simulation and statistics libraries it does
not need.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("funnelsim")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

_HOMES = {
    "Replication": "funnelsim.experiments.experiment",
    "ScenarioRun": "funnelsim.experiments.experiment",
    "run_replication": "funnelsim.experiments.experiment",
    "run_scenario": "funnelsim.experiments.experiment",
    "summarise": "funnelsim.experiments.experiment",
    "ParameterError": "funnelsim.config.errors",
    "Scenario": "funnelsim.config.schema",
    "load_scenario": "funnelsim.config.schema",
    "data_dictionary": "funnelsim.model.records",
    "load_results": "funnelsim.experiments.results",
    "load_sweep": "funnelsim.experiments.sweeps",
}

__all__ = ["__version__", *sorted(_HOMES)]

if TYPE_CHECKING:
    from funnelsim.config.errors import ParameterError
    from funnelsim.config.schema import Scenario, load_scenario
    from funnelsim.experiments.experiment import (
        Replication,
        ScenarioRun,
        run_replication,
        run_scenario,
        summarise,
    )
    from funnelsim.experiments.results import load_results
    from funnelsim.experiments.sweeps import load_sweep
    from funnelsim.model.records import data_dictionary


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:  # not ours: lets ``from funnelsim import plots`` import the submodule
        raise AttributeError(f"module 'funnelsim' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value
