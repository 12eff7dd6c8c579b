"""Acting as a Supabase user: an immutable identity, and the transaction that carries it.

Supabase's row-level security reads the caller from two settings, the current role and
``request.jwt.claims`` (``auth.uid()`` and ``auth.jwt()`` are built on them). PostgREST sets both
with ``set_config(..., true)`` at the start of each request's transaction; :func:`acting_as` and
:func:`acting_as_async` do the same for one of our operations, then read them back and refuse to go
on if they did not take effect. Both settings are transaction-local, so nothing survives the
``COMMIT``: a pooled connection (or Supabase's transaction pooler) hands the next borrower a clean
session.

:class:`AuthContext` is built from claims the caller has *already verified* (see
:class:`mastra_memory.supabase.SupabaseJWTVerifier`): on a direct connection PostgreSQL trusts
whatever claims it is given.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal, TypeAlias

import psycopg
import psycopg.errors
from psycopg import sql
from psycopg.pq import ExecStatus, TransactionStatus
from psycopg.rows import dict_row

from ._errors import AuthError

__all__ = ["AuthContext", "Role", "acting_as", "acting_as_async", "run_as", "run_as_async"]

Role: TypeAlias = Literal["anon", "authenticated", "service_role"]
Statement: TypeAlias = sql.SQL | sql.Composed
Params: TypeAlias = Sequence[Any] | Mapping[str, Any] | None
_ROLES: frozenset[str] = frozenset({"anon", "authenticated", "service_role"})
# Settings older PostgREST versions set per claim. auth.uid()/auth.jwt() read them *before*
# request.jwt.claims, so a stale session-level value would override ours: we blank them locally.
_LEGACY_SETTINGS = ("request.jwt.claim.sub", "request.jwt.claim.role", "request.jwt.claim")


@dataclass(frozen=True, slots=True)
class AuthContext:
    """Who an operation runs as: a Supabase role and the (already verified) JWT claims.

    Build it with :meth:`user`, :meth:`service`, :meth:`anonymous` or :meth:`from_claims`, and
    bind it with ``memory.with_auth(ctx)``. The claims are kept as canonical JSON, so the value is
    immutable and safe to share between requests and threads.
    """

    role: Role
    claims_json: str

    def __post_init__(self) -> None:
        # Built directly (not through the class methods), the two fields must still agree.
        if self.role not in _ROLES:
            raise AuthError(f"role {self.role!r} is not one of {sorted(_ROLES)}")
        try:
            claims = json.loads(self.claims_json)
        except (TypeError, ValueError) as exc:
            raise AuthError(f"claims_json is not JSON: {exc}") from exc
        if not isinstance(claims, dict) or claims.get("role") != self.role:
            raise AuthError(f"claims_json must be a JSON object whose role is {self.role!r}")
        sub = claims.get("sub")
        if self.role == "authenticated" and (not isinstance(sub, str) or not sub.strip()):
            raise AuthError("an authenticated context needs a non-empty sub claim")

    @property
    def claims(self) -> Mapping[str, Any]:
        """The claims as a read-only mapping (``role`` included, as PostgREST sets them)."""
        return MappingProxyType(json.loads(self.claims_json))

    @property
    def subject(self) -> str | None:
        """The user id (``sub``), or None for the service role and anonymous access."""
        sub = self.claims.get("sub")
        return sub if isinstance(sub, str) else None

    @classmethod
    def user(cls, sub: str, *, claims: Mapping[str, Any] | None = None) -> AuthContext:
        """A signed-in user (role ``authenticated``) whose id is ``sub`` (a uuid or any text subject).

        ``claims`` are the rest of the verified token (email, app_metadata, …); they reach SQL
        through ``auth.jwt()``.

        Raises:
            AuthError: ``sub`` is empty, or the claims name another subject or role, or cannot be
                carried as JSON.
        """
        if not isinstance(sub, str) or not sub.strip() or "\x00" in sub:
            raise AuthError(f"a user's subject must be a non-empty string, got {sub!r}")
        extra = dict(claims or {})
        if extra.get("sub", sub) != sub:
            raise AuthError(f"claims name subject {extra['sub']!r}, not {sub!r}; pass matching values")
        if extra.get("role", "authenticated") != "authenticated":
            raise AuthError(
                f"claims carry role {extra['role']!r}; AuthContext.user() is for role 'authenticated' "
                "(use AuthContext.service() for the service role)"
            )
        return cls("authenticated", _dump({**extra, "sub": sub, "role": "authenticated"}))

    @classmethod
    def service(cls) -> AuthContext:
        """The service role: bypasses row-level security. Explicit on purpose, so it is easy to find."""
        return cls("service_role", _dump({"role": "service_role"}))

    @classmethod
    def anonymous(cls) -> AuthContext:
        """No signed-in user (role ``anon``): the generated migration grants it nothing."""
        return cls("anon", _dump({"role": "anon"}))

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any], *, allow_service_role: bool = False) -> AuthContext:
        """An identity from verified JWT claims, its role taken from the ``role`` claim.

        Raises:
            AuthError: the role is unknown, ``service_role`` without ``allow_service_role``, or an
                ``authenticated`` token without ``sub``.
        """
        role = claims.get("role")
        if role == "authenticated":
            return cls.user(claims.get("sub"), claims=claims)  # type: ignore[arg-type]
        if role == "anon":
            return cls("anon", _dump({**claims, "role": "anon"}))
        if role == "service_role":
            if not allow_service_role:
                raise AuthError("a service_role token was refused; pass allow_service_role=True to accept it")
            return cls("service_role", _dump({**claims, "role": "service_role"}))
        raise AuthError(f"claims carry role {role!r}; expected 'authenticated', 'anon' or 'service_role'")


def _dump(claims: Mapping[str, Any]) -> str:
    try:
        text = json.dumps(dict(claims), sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise AuthError(f"claims must be JSON values (str, number, bool, None, list, dict): {exc}") from exc
    if "\\u0000" in text:
        raise AuthError("claims must not contain NUL characters")
    return text


def _sets(auth: AuthContext) -> sql.Composed:
    """Role and claims for this transaction only, and the legacy per-claim settings blanked.

    Values are inlined as quoted literals, so the same text serves the simple query protocol
    (several statements in one call, no bind parameters); the role comes from a whitelist.
    """
    sets = [sql.SQL("set_config('role', {}, true)").format(sql.Literal(auth.role))]
    sets.append(sql.SQL("set_config('request.jwt.claims', {}, true)").format(sql.Literal(auth.claims_json)))
    sets += [sql.SQL("set_config({}, '', true)").format(sql.Literal(name)) for name in _LEGACY_SETTINGS]
    return sql.SQL("SELECT {}").format(sql.SQL(", ").join(sets))


_LEGACY = sql.SQL(" || ").join(
    sql.SQL("coalesce(current_setting({}, true), '')").format(sql.Literal(n)) for n in _LEGACY_SETTINGS
)
_READ_BACK = sql.SQL(
    "current_user::text AS role, current_setting('request.jwt.claims', true) AS claims, {} AS legacy"
).format(_LEGACY)


def _setup(auth: AuthContext) -> sql.Composed:
    """One round trip: open the transaction, set role and claims in it, read them back."""
    return sql.SQL("BEGIN; {}; SELECT {}").format(_sets(auth), _READ_BACK)


def _checked_read_back(auth: AuthContext) -> sql.Composed:
    """The read-back, failing *in the server* when it does not match, so the transaction aborts.

    When role and claims are sent in the same round trip as the statement and ``COMMIT``, this is
    what keeps the statement from running (and ``COMMIT`` from committing) as anyone else: an error
    here makes the server skip everything up to the pipeline's sync point. The ``ELSE`` branch
    depends on ``current_user``, so the planner cannot fold the failing cast away in advance.
    """
    return sql.SQL(
        "SELECT {read_back}, CASE WHEN current_user::text = {role}"
        " AND current_setting('request.jwt.claims', true) = {claims} AND {legacy} = ''"
        " THEN 1 ELSE ('mastra_memory: the role and JWT claims did not take effect; current_user is '"
        " || current_user)::int END AS checked"
    ).format(read_back=_READ_BACK, role=sql.Literal(auth.role), claims=sql.Literal(auth.claims_json), legacy=_LEGACY)


def _verify(auth: AuthContext, row: tuple[Any, ...] | None) -> None:
    """Fail closed: the role, claims and (empty) legacy settings must read back as set."""
    if row is None or row[0] != auth.role or row[2] != "":
        raise AuthError(f"could not act as {auth.role!r} (the database reports {row!r}); nothing was run")
    try:
        same = json.loads(row[1]) == json.loads(auth.claims_json)
    except (TypeError, ValueError):
        same = False
    if not same:
        raise AuthError("the JWT claims did not take effect in the transaction; nothing was run")


def _not_idle(status: TransactionStatus) -> AuthError:
    return AuthError(
        f"acting as a user needs a connection outside any transaction (it is {status.name}): the role and "
        "claims are set for one transaction of ours, which a caller's open transaction would outlive"
    )


def _refused(auth: AuthContext, exc: psycopg.Error) -> AuthError:
    if not isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return AuthError(f"could not act as {auth.role!r}: {str(exc).strip()}; nothing was run")
    return AuthError(
        f"the login role may not act as {auth.role!r}: {str(exc).strip()}; connect as a role that is a member "
        "of anon, authenticated and service_role (on Supabase, postgres)"
    )


@contextmanager
def acting_as(conn: psycopg.Connection[Any], auth: AuthContext) -> Iterator[None]:
    """One transaction as ``auth``: committed when the block ends, rolled back on an error.

    Raises:
        AuthError: the connection is inside a transaction already, or the role or claims could not
            be set or did not read back as set (fail closed: nothing of the block runs).
    """
    status = conn.info.transaction_status
    if status != TransactionStatus.IDLE:
        raise _not_idle(status)
    try:
        with conn.cursor() as cur:
            cur.execute(_setup(auth), prepare=False)
            row = cur.fetchone() if cur.nextset() and cur.nextset() else None  # the third result: the read-back
    except psycopg.Error as exc:
        _rollback(conn)
        raise _refused(auth, exc) from exc
    try:
        _verify(auth, row)
        yield
    except BaseException:
        _rollback(conn)
        raise
    conn.commit()


@asynccontextmanager
async def acting_as_async(conn: psycopg.AsyncConnection[Any], auth: AuthContext) -> AsyncIterator[None]:
    """The asyncio twin of :func:`acting_as`.

    Raises:
        AuthError: as :func:`acting_as`.
    """
    status = conn.info.transaction_status
    if status != TransactionStatus.IDLE:
        raise _not_idle(status)
    try:
        async with conn.cursor() as cur:
            await cur.execute(_setup(auth), prepare=False)
            row = await cur.fetchone() if cur.nextset() and cur.nextset() else None
    except psycopg.Error as exc:
        await _rollback_async(conn)
        raise _refused(auth, exc) from exc
    try:
        _verify(auth, row)
        yield
    except BaseException:
        await _rollback_async(conn)
        raise
    await conn.commit()


_BEGIN = sql.SQL("BEGIN")
_COMMIT = sql.SQL("COMMIT")


def run_as(
    conn: psycopg.Connection[Any], auth: AuthContext, statement: Statement, params: Params = None
) -> list[dict[str, Any]]:
    """One statement in a transaction of its own as ``auth``, in one round trip; its rows.

    ``BEGIN``, the settings, the checked read-back, the statement and ``COMMIT`` go out together in
    psycopg's pipeline mode. If the identity did not take effect, the read-back fails in the server,
    which then skips the statement and the ``COMMIT``; we roll back and raise. The read-back is
    checked here too before any row is handed out. A connection without autocommit (psycopg would
    open its transaction with a round trip of its own) or a libpq without pipeline mode (before 14)
    takes the three-round-trip path of :func:`acting_as`.

    Raises:
        AuthError: the connection is inside a transaction, or the role or claims could not be set
            or did not read back as set (the statement did not run; no row is returned).
        psycopg.Error: the statement's own error, after the transaction was rolled back.
    """
    status = conn.info.transaction_status
    if status != TransactionStatus.IDLE:
        raise _not_idle(status)
    if not conn.autocommit or not psycopg.capabilities.has_pipeline():
        with acting_as(conn, auth), conn.cursor(row_factory=dict_row) as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description is not None else []
    with conn.cursor() as ctl, conn.cursor() as check, conn.cursor(row_factory=dict_row) as cur:
        try:
            with conn.pipeline():
                ctl.execute(_BEGIN, prepare=False)
                ctl.execute(_sets(auth), prepare=False)
                check.execute(_checked_read_back(auth), prepare=False)
                cur.execute(statement, params)
                ctl.execute(_COMMIT, prepare=False)
        except psycopg.Error as exc:
            _rollback(conn)
            if _passed(check):
                raise  # the statement's own error, for the driver to translate
            raise _refused(auth, exc) from exc
        except BaseException:
            _rollback(conn)
            raise
        _verify_after(auth, check.fetchone())
        return cur.fetchall() if cur.description is not None else []


async def run_as_async(
    conn: psycopg.AsyncConnection[Any], auth: AuthContext, statement: Statement, params: Params = None
) -> list[dict[str, Any]]:
    """The asyncio twin of :func:`run_as`.

    Raises:
        AuthError, psycopg.Error: as :func:`run_as`.
    """
    status = conn.info.transaction_status
    if status != TransactionStatus.IDLE:
        raise _not_idle(status)
    if not conn.autocommit or not psycopg.capabilities.has_pipeline():
        async with acting_as_async(conn, auth), conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(statement, params)
            return await cur.fetchall() if cur.description is not None else []
    async with conn.cursor() as ctl, conn.cursor() as check, conn.cursor(row_factory=dict_row) as cur:
        try:
            async with conn.pipeline():
                await ctl.execute(_BEGIN, prepare=False)
                await ctl.execute(_sets(auth), prepare=False)
                await check.execute(_checked_read_back(auth), prepare=False)
                await cur.execute(statement, params)
                await ctl.execute(_COMMIT, prepare=False)
        except psycopg.Error as exc:
            await _rollback_async(conn)
            if _passed(check):
                raise  # as above
            raise _refused(auth, exc) from exc
        except BaseException:
            await _rollback_async(conn)
            raise
        _verify_after(auth, await check.fetchone())
        return await cur.fetchall() if cur.description is not None else []


def _verify_after(auth: AuthContext, row: tuple[Any, ...] | None) -> None:
    """The client's own check of the read-back the server already checked: a belt to its braces.

    Both compare the same values, so this cannot fail unless the server-side check was bypassed;
    if it does, no row is handed out.
    """
    try:
        _verify(auth, row)
    except AuthError:
        raise AuthError(
            f"could not act as {auth.role!r}: role and claims read back as {row!r}; the rows were discarded"
        ) from None


def _passed(check: psycopg.Cursor[Any] | psycopg.AsyncCursor[Any]) -> bool:
    """Did the server-side read-back succeed (so a later statement is the one that failed)?"""
    return check.pgresult is not None and check.pgresult.status == ExecStatus.TUPLES_OK


def _rollback(conn: psycopg.Connection[Any]) -> None:
    if not conn.closed:
        with suppress(psycopg.Error):  # the original error is the one to report; the pool drops a broken connection
            conn.rollback()


async def _rollback_async(conn: psycopg.AsyncConnection[Any]) -> None:
    if not conn.closed:
        with suppress(psycopg.Error):  # as above
            await conn.rollback()
