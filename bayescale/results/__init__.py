"""Results: the Fit object, intervals, derived quantities, persistence and the fit.json export."""
