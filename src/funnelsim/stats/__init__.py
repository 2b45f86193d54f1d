"""Estimates from simulated runs: effects with confidence intervals, metamodels, response surfaces."""
