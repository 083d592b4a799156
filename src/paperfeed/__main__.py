"""Run the paperfeed CLI as `python -m paperfeed`."""

from paperfeed.cli import cli

cli()
