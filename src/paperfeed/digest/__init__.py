"""The digest: trending papers and topic matches, composed once per subscriber and period."""
