-- What operators (PAPERFEED_OPERATORS) hid: a comment, a paper or a reader, with who hid it,
-- why and when (moderation.py). Hidden things stay in the database and can be shown again;
-- lists, search, feeds and discussions leave them out. A paper's key is its arXiv id, a
-- comment's and a reader's their id as text.
CREATE TABLE hidden_items (
    kind       TEXT NOT NULL CHECK (kind IN ('comment', 'paper', 'reader')),
    item_key   TEXT NOT NULL,
    hidden_by  INTEGER REFERENCES subscribers (id) ON DELETE SET NULL,
    reason     TEXT NOT NULL DEFAULT '',
    hidden_at  TEXT NOT NULL,
    PRIMARY KEY (kind, item_key)
) WITHOUT ROWID;
CREATE INDEX hidden_items_at ON hidden_items (hidden_at);
-- A hidden paper or reader leaves lists: kept pages must be built again.
CREATE TRIGGER hidden_items_insert_list_version AFTER INSERT ON hidden_items
BEGIN UPDATE list_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER hidden_items_update_list_version AFTER UPDATE ON hidden_items
BEGIN UPDATE list_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER hidden_items_delete_list_version AFTER DELETE ON hidden_items
BEGIN UPDATE list_version SET version = version + 1 WHERE id = 1; END;
