"""Keyphrases of papers: picked from their own text with the embedding model (phrases.py),
computed for the catalog by a job (job.py), shipped precomputed for the sample (files.py)."""
