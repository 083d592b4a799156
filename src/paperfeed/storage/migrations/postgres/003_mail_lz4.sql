-- Queued messages (~26 KB each) compressed with lz4 instead of pglz: saving 500 digests took
-- 630-760 ms with pglz and 150 ms with lz4 (bench/digest_compose.py). Only new values are
-- compressed so; a server built without lz4 keeps pglz.
DO $$
BEGIN
    ALTER TABLE outgoing_mail_data ALTER COLUMN data SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 is not available on this server: mail stays compressed with pglz';
END
$$;
