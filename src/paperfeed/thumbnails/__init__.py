"""Thumbnails: the first page of each paper's PDF as a small image (render.py makes one, job.py
fetches PDFs and stores what it made)."""
