"""Error translation, connection settings and config checks (no database)."""

from __future__ import annotations

import pickle

import psycopg
import psycopg_pool
import pytest

from mastra_memory import (
    ConflictError,
    InvalidInputError,
    MemoryConfig,
    PoolTimeoutError,
    SchemaError,
    StorageError,
)
from mastra_memory._connect import connection_kwargs, needs_unprepared
from mastra_memory._errors import translate_db_error
from mastra_memory.storage import tables


@pytest.mark.parametrize(
    ("dsn", "unprepared"),
    [
        ("postgresql://u:p@aws-0-eu-central-1.pooler.supabase.com:6543/postgres", True),
        ("postgresql://u:p@aws-0-eu-central-1.pooler.supabase.com:5432/postgres", True),
        ("postgresql://u:p@db.abcdefgh.supabase.co:6543/postgres", True),
        ("postgresql://u:p@db.abcdefgh.supabase.co:5432/postgres", False),
        ("host=localhost port=5432 dbname=app", False),
        ("postgresql://postgres:@/postgres?host=/tmp/sock", False),
    ],
)
def test_prepared_statements_are_off_for_supabases_transaction_pooler(dsn: str, unprepared: bool) -> None:
    assert needs_unprepared(dsn) is unprepared
    assert connection_kwargs(dsn, None) == {"autocommit": True, "prepare_threshold": None if unprepared else 5}


def test_prepared_statements_can_be_forced_either_way() -> None:
    assert connection_kwargs("host=localhost", False)["prepare_threshold"] is None
    assert connection_kwargs("host=x.pooler.supabase.com port=6543", True)["prepare_threshold"] == 5


def test_a_malformed_dsn_is_invalid_input() -> None:
    with pytest.raises(InvalidInputError, match="malformed"):
        needs_unprepared("host=localhost port")


def test_database_errors_become_typed_errors_that_keep_sqlstate() -> None:
    undefined = psycopg.errors.UndefinedTable('relation "public.mastra_threads" does not exist')
    assert isinstance(translate_db_error(undefined), SchemaError)
    assert "migrate" in str(translate_db_error(undefined))
    assert isinstance(translate_db_error(psycopg.errors.UniqueViolation("dup")), ConflictError)
    assert isinstance(translate_db_error(psycopg_pool.PoolTimeout("busy")), PoolTimeoutError)
    err = translate_db_error(psycopg.errors.DiskFull("disk full"))
    assert isinstance(err, StorageError)
    restored = pickle.loads(pickle.dumps(err))
    assert isinstance(restored, StorageError)
    assert str(restored) == str(err)
    assert restored.sqlstate == err.sqlstate


@pytest.mark.parametrize("bad", ["", "1abc", "a-b", "x" * 64, 'a"b', "a;drop"])
def test_schema_names_must_be_plain_identifiers(bad: str) -> None:
    with pytest.raises(InvalidInputError, match="schema name"):
        tables(bad)


@pytest.mark.parametrize("bad", [-1, 1.5, True, "10"])
def test_last_messages_must_be_a_count(bad: object) -> None:
    with pytest.raises(InvalidInputError, match="last_messages"):
        MemoryConfig(last_messages=bad)  # type: ignore[arg-type]


def test_defaults_follow_mastra() -> None:
    assert MemoryConfig().last_messages == 10
