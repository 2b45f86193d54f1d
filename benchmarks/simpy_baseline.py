"""The unit of every benchmark figure: a bare SimPy M/M/5 queue at 80% load, timed in-process."""

from __future__ import annotations

import statistics
import time

import numpy as np
import simpy


def seconds_per_customer(customers: int = 50_000, repeats: int = 3) -> float:
    """Median wall time per customer of a bare SimPy M/M/5 queue (about 8 events a customer)."""

    def once(seed: int) -> float:
        rng = np.random.default_rng(seed)
        env = simpy.Environment()
        servers = simpy.Resource(env, capacity=5)

        def customer(service: float):
            with servers.request() as req:
                yield req
                yield env.timeout(service)

        def arrivals():
            for _ in range(customers):
                yield env.timeout(rng.exponential(1 / 4.0))
                env.process(customer(rng.exponential(1.0)))

        started = time.perf_counter()
        env.process(arrivals())
        env.run()
        return (time.perf_counter() - started) / customers

    return statistics.median(once(seed) for seed in range(repeats))
