"""Supabase: a migration with row-level security, acting as a user, a schema doctor, JWT checks.

- :func:`supabase_migration` writes the SQL for ``supabase/migrations/`` (``mastra-memory sql --supabase``).
- :class:`~mastra_memory.AuthContext` with ``memory.with_auth(ctx)`` runs every operation as a user.
- :func:`doctor` checks a database: RLS, policies, grants, pgvector, pooler settings
  (``mastra-memory doctor``).
- :class:`SupabaseJWTVerifier` (extra ``supabase``: PyJWT) turns a user's token into verified claims.

See ``docs/supabase.md``.
"""

from .._auth import AuthContext
from ._doctor import DoctorCheck, doctor
from ._jwt import SupabaseJWTVerifier
from ._migration import supabase_migration

__all__ = ["AuthContext", "DoctorCheck", "SupabaseJWTVerifier", "doctor", "supabase_migration"]
