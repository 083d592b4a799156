"""Keyphrases of papers: picked (phrases.py), given to the catalog (job.py), shipped (files.py)."""
