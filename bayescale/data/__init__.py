"""Data in: load and validate curve tables, published data sets, the bundled examples."""
