"""pgvector's halfvec as a query parameter, in its binary form (no text formatting)."""

from __future__ import annotations

import struct
from typing import Any

import numpy as np


class HalfVec:
    """A vector in pgvector's binary halfvec form; send it as `%s::halfvec`."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


def halfvec(values: np.ndarray | bytes) -> HalfVec:
    """A vector (or the store's little-endian float16 bytes) as a halfvec parameter."""
    if isinstance(values, bytes):
        values = np.frombuffer(values, dtype="<f2")
    big = np.asarray(values, dtype=">f2").reshape(-1)
    return HalfVec(struct.pack(">HH", big.size, 0) + big.tobytes())


def register_halfvec(conn: Any) -> None:
    """Teach a connection to send HalfVec parameters (the pool's configure hook)."""
    from psycopg.adapt import Dumper
    from psycopg.pq import Format

    class HalfVecDumper(Dumper):
        # oid 0: the server takes the type from the cast beside the parameter, so this works
        # without looking up the extension's type id in each database.
        format = Format.BINARY
        oid = 0

        def dump(self, obj: HalfVec) -> bytes:
            return obj.data

    conn.adapters.register_dumper(HalfVec, HalfVecDumper)


def has_halfvec_column(conn: Any) -> bool:
    """Whether pgvector is set up in this database (migration 002 adds embeddings.embedding)."""
    row = conn.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = 'embeddings' AND column_name = 'embedding'"
    ).fetchone()
    return row is not None
