-- Vectors also as pgvector halfvec, for one HNSW index in the database that every web process
-- shares (PAPERFEED_VECTOR_INDEX=pgvector); the bytea column stays what the change feed hands
-- to per-node indexes. Without pgvector (not installed, or no right to create it) this does
-- nothing, and the shared index says so when asked for; everything else works as before.
DO $$
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS vector;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'pgvector is not available (%): the shared vector index is off', SQLERRM;
    END;
    IF to_regtype('halfvec') IS NOT NULL THEN
        ALTER TABLE embeddings ADD COLUMN IF NOT EXISTS embedding halfvec;
    END IF;
END
$$;
