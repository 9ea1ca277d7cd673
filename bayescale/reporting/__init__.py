"""Reporting: plots and the HTML uncertainty report."""
