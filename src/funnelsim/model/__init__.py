"""The SimPy model of the marketing-to-sales funnel (see ``simulate``)."""

from funnelsim.model.simulate import SimulationOutput, simulate

__all__ = ["SimulationOutput", "simulate"]
