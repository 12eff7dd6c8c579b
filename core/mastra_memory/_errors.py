"""The exceptions mastra-memory raises.

Every error is a :class:`MastraMemoryError`, so one ``except`` catches them all::

    MastraMemoryError
    ├── InvalidInputError        (also a ValueError) bad ids, paging, content, filters…
    ├── NotFoundError            a thread, message or resource that does not exist
    ├── OwnershipError           a thread asked for with a resource that does not own it
    ├── ConflictError            an id that already exists where a new one is needed
    ├── SchemaError              tables missing or not migrated, wrong vector dimension
    │   └── ExtensionMissingError   pgvector (or another extension) is not installed
    ├── ProviderError            the embedder or chat model failed
    ├── AuthError                an identity (AuthContext, a JWT) was refused or could not be applied
    └── StorageError             the database failed (wraps psycopg.Error, keeps sqlstate)
        ├── PoolTimeoutError     no connection in time: the database is down, or every one is busy
        └── PermissionDeniedError   a grant or row-level security policy refused the operation

Driver exceptions never leak: :func:`translate_db_error` maps them in one place, and the
original is kept as ``__cause__``.
"""

from __future__ import annotations

import psycopg
import psycopg.errors
import psycopg_pool

__all__ = [
    "AuthError",
    "ConflictError",
    "ExtensionMissingError",
    "InvalidInputError",
    "MastraMemoryError",
    "NotFoundError",
    "OwnershipError",
    "PermissionDeniedError",
    "PoolTimeoutError",
    "ProviderError",
    "SchemaError",
    "StorageError",
    "translate_db_error",
]


class MastraMemoryError(Exception):
    """Root of every error raised by mastra-memory."""


class InvalidInputError(MastraMemoryError, ValueError):
    """An argument is malformed; nothing was written. The message names the value and the fix."""


class NotFoundError(MastraMemoryError, LookupError):
    """A thread, message or resource that an operation needs does not exist."""


class OwnershipError(MastraMemoryError):
    """A thread was addressed with a resource id that does not own it."""


class ConflictError(MastraMemoryError):
    """An id that must be new already exists (for example the target of a clone)."""


class SchemaError(MastraMemoryError):
    """The database schema is missing, not migrated, or does not fit the configuration."""


class ExtensionMissingError(SchemaError):
    """A PostgreSQL extension the operation needs (usually pgvector) is not installed."""


class ProviderError(MastraMemoryError):
    """An embedder or chat model call failed or timed out."""


class AuthError(MastraMemoryError):
    """An identity was refused (a bad or unverified token, a role not allowed) or could not be set
    on the connection; the operation did not run (fail closed)."""


class StorageError(MastraMemoryError):
    """The database reported an error. ``sqlstate`` carries PostgreSQL's code when there is one."""

    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate

    def __reduce__(self) -> tuple[type[StorageError], tuple[str, str | None]]:
        return (type(self), (str(self), self.sqlstate))


class PoolTimeoutError(StorageError):
    """No pooled connection could be had within the pool's timeout: every connection stayed busy,
    or the database could not be reached (the message says which, and why)."""


class PermissionDeniedError(StorageError):
    """The database refused: the role lacks a GRANT, or a row-level security policy rejected the row
    (for example a user writing into another user's thread)."""


# SQLSTATEs our own SQL raises through mastra_memory_raise() (class "MM" is unused by PostgreSQL).
SQLSTATE_NOT_FOUND = "MM404"
SQLSTATE_OWNERSHIP = "MM403"
SQLSTATE_CONFLICT = "MM409"
SQLSTATE_INVALID = "MM400"

_OWN_STATES: dict[str, type[MastraMemoryError]] = {
    SQLSTATE_NOT_FOUND: NotFoundError,
    SQLSTATE_OWNERSHIP: OwnershipError,
    SQLSTATE_CONFLICT: ConflictError,
    SQLSTATE_INVALID: InvalidInputError,
}

_MIGRATE_HINT = "run `mastra-memory migrate` (or Memory.migrate()) against this database and schema"


def translate_db_error(exc: BaseException) -> MastraMemoryError:
    """Turn a psycopg or pool exception into the most specific error of ours."""
    if isinstance(exc, MastraMemoryError):
        return exc
    if isinstance(exc, psycopg_pool.PoolTimeout):
        # The shells replace this with a diagnosis (database down, or every connection busy:
        # _connect.explain_timeout); this text is for plans driven directly, and names both.
        return PoolTimeoutError(
            f"no database connection became free in time ({exc}): either the database cannot be reached, "
            "or every pooled connection stayed busy (then raise the pool's max_size or timeout, or look for "
            "connections held open elsewhere)"
        )
    if not isinstance(exc, psycopg.Error):
        return StorageError(f"unexpected database failure: {exc!r}")
    state = exc.sqlstate
    primary = exc.diag.message_primary or str(exc).strip()
    if state in _OWN_STATES:
        return _OWN_STATES[state](primary)
    if isinstance(exc, psycopg.errors.UniqueViolation):
        return ConflictError(f"{primary}; the id is already taken")
    if isinstance(exc, psycopg.errors.UndefinedTable):
        return SchemaError(f"{primary}: the memory tables are missing; {_MIGRATE_HINT}")
    if isinstance(exc, psycopg.errors.UndefinedFunction) and "mastra_memory_" in primary:
        return SchemaError(f"{primary}: the schema predates this version; {_MIGRATE_HINT}")
    if isinstance(exc, psycopg.errors.UndefinedObject) and "vector" in primary:
        return ExtensionMissingError(
            f"{primary}: pgvector is not installed in this database; run `CREATE EXTENSION vector` "
            "as a superuser (on Supabase: Database → Extensions → vector, or `create extension vector`)"
        )
    if isinstance(exc, psycopg.errors.UntranslatableCharacter | psycopg.errors.CharacterNotInRepertoire):
        return InvalidInputError(f"the database refused a character in the input: {primary}")
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return PermissionDeniedError(
            f"{primary}: the database role lacks a privilege; check grants and row-level security policies",
            state,
        )
    if isinstance(exc, psycopg.OperationalError):
        return StorageError(f"database connection failed: {primary}", state)
    return StorageError(primary, state)
