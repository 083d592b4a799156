"""Search papers: hybrid keyword + semantic ranking, filters, highlights, similar papers."""
