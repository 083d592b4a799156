"""paperfeed's face: server-rendered pages, the Hugging Face-compatible JSON API, and feeds."""
