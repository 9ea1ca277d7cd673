"""Analysis of fits: recipe decisions, law comparison by LOO, backtests and fit windows."""
