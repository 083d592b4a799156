-- What operators (PAPERFEED_OPERATORS) hid: a comment, a paper or a reader, with who hid it,
-- why and when (moderation.py). Hidden things stay in the database and can be shown again;
-- lists, search, feeds and discussions leave them out. A paper's key is its arXiv id, a
-- comment's and a reader's their id as text.
CREATE TABLE hidden_items (
    kind       text NOT NULL CHECK (kind IN ('comment', 'paper', 'reader')),
    item_key   text NOT NULL,
    hidden_by  bigint REFERENCES subscribers (id) ON DELETE SET NULL,
    reason     text NOT NULL DEFAULT '',
    hidden_at  timestamptz NOT NULL,
    PRIMARY KEY (kind, item_key)
);
CREATE INDEX hidden_items_at ON hidden_items (hidden_at);
-- A hidden paper or reader leaves lists: kept pages must be built again.
CREATE CONSTRAINT TRIGGER hidden_items_list_version AFTER INSERT OR UPDATE OR DELETE ON hidden_items
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION count_list_change();
