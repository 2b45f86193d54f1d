"""funnelsim: what is sales and marketing alignment worth, in revenue, and which lever buys it?

A SimPy model of the marketing-to-sales funnel driven by scenario files, with seeded
replications and tidy tables for analysis.
"""

from importlib.metadata import PackageNotFoundError, version

from funnelsim.experiment import Replication, ScenarioRun, run_replication, run_scenario, summarise
from funnelsim.params import ParameterError, Scenario, load_scenario
from funnelsim.records import data_dictionary
from funnelsim.results import load_results
from funnelsim.sweeps import load_sweep

try:
    __version__ = version("funnelsim")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "ParameterError",
    "Replication",
    "Scenario",
    "ScenarioRun",
    "__version__",
    "data_dictionary",
    "load_results",
    "load_scenario",
    "load_sweep",
    "run_replication",
    "run_scenario",
    "summarise",
]
