-- Addresses are one person whatever their case (`Ada@X.org` is `ada@x.org`): subscribers are
-- unique by email_key, the address lowercased (people keep the address as they typed it).
-- Case variants made before this each keep their row; the oldest answers to the address.
ALTER TABLE subscribers ADD COLUMN email_key TEXT;
UPDATE subscribers SET email_key = lower(email)
    WHERE id IN (SELECT min(id) FROM subscribers GROUP BY lower(email));
UPDATE subscribers SET email_key = lower(email) || '#' || id WHERE email_key IS NULL;
CREATE UNIQUE INDEX subscribers_by_address_key ON subscribers (email_key);
