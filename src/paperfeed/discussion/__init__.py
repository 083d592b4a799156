"""Papers' discussions: comments in safe Markdown with math, and mail to participants."""
