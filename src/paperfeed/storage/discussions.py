"""What both backends share about discussions: the checked comment text and the SQL that
tells a hidden comment (its own hiding, or its author's) from a visible one."""

from __future__ import annotations

# The store's own bound; the web takes at most PAPERFEED_COMMENT_MAX_CHARS (a setting).
MAX_STORED_CHARS = 100_000

# Over comments AS c: whether an operator hid the comment or its author (hidden_items keys
# are ids as text). Portable SQL: both backends read it the same.
HIDDEN_SQL = (
    "(EXISTS (SELECT 1 FROM hidden_items h WHERE h.kind = 'comment' "
    "AND h.item_key = CAST(c.id AS TEXT)) OR EXISTS (SELECT 1 FROM hidden_items h "
    "WHERE h.kind = 'reader' AND h.item_key = CAST(c.author_id AS TEXT)))"
)
VISIBLE_SQL = f"(c.deleted_at IS NULL AND NOT {HIDDEN_SQL})"
# A paper's visible comments (papers AS p), for listed papers' num_comments.
COUNT_SQL = f"(SELECT count(*) FROM comments c WHERE c.paper_pk = p.pk AND {VISIBLE_SQL})"
COMMENT_COLUMNS = (
    "c.id, c.paper_pk, c.author_id, s.public_name AS author_name, c.parent_id, c.body, "
    f"c.created_at, c.edited_at, c.deleted_at, {HIDDEN_SQL} AS hidden"
)
COMMENT_FROM = "comments c LEFT JOIN subscribers s ON s.id = c.author_id"


def comment_text(text: str) -> str:
    """The text as kept: trimmed at the ends; ValueError when empty or beyond the store's
    bound."""
    cleaned = text.strip()
    if not cleaned:
        raise ValueError("a comment needs some text")
    if len(cleaned) > MAX_STORED_CHARS:
        raise ValueError(f"a comment holds at most {MAX_STORED_CHARS:,} characters")
    return cleaned
