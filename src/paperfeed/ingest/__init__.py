"""Bring papers in from files and feeds: one module per source, a pipeline that runs them."""
