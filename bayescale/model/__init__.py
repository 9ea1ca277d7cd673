"""The statistical model: laws (mean curves), priors, observation models (likelihoods), and the PyMC builder."""
