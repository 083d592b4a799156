"""What the paper page's discussion shows a viewer: the threads, the counts, whether they
follow it by mail, and what an operator may hide or show again."""

from __future__ import annotations

from typing import Any

from paperfeed.discussion.threads import threads, visible_count
from paperfeed.models import Subscriber
from paperfeed.moderation import is_operator
from paperfeed.storage import Store
from paperfeed.web.app import AppState


def discussion_view(
    state: AppState, account: Subscriber | None, paper_pk: int, hf_comments: int = 0
) -> dict[str, Any]:
    """The template context of a paper's discussion for `account` (None: anyone)."""
    store: Store = state.store
    comments = store.comments_of(paper_pk)
    operator = is_operator(state.settings, account)
    return {
        "threads": threads(comments, operator),
        "num_comments": visible_count(comments),
        "hf_comments": hf_comments,
        "following": account is not None and store.discussion_mail_on(account.id, paper_pk),
        "operator": operator,
        "hidden_readers": store.hidden_keys("reader") if operator else set(),
        "hidden_comments": store.hidden_keys("comment") if operator else set(),
        "comment_max_chars": state.settings.comment_max_chars,
    }
