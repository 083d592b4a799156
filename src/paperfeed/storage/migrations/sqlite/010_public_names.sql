-- A reader's public name (people/names.py): shown beside the papers they submit and what they
-- write in discussions; their address never is. Unique case-insensitively (public_name_key).
ALTER TABLE subscribers ADD COLUMN public_name TEXT;
ALTER TABLE subscribers ADD COLUMN public_name_key TEXT;
CREATE UNIQUE INDEX subscribers_public_name ON subscribers (public_name_key)
    WHERE public_name_key IS NOT NULL;
