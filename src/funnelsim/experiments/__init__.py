"""Running the model: replications, sweeps, executors, results folders and KPIs."""
