"""The package version, in a module of its own so that nothing has to import the
package root to read it (``pyproject.toml`` reads it from here too)."""

__version__ = "0.2.0"
