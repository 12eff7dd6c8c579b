"""The public surface: both shells expose the same operations, typed and documented alike."""

from __future__ import annotations

import inspect

import mastra_memory
from mastra_memory import AsyncMemory, Memory
from mastra_memory._shell import Operations, operation

OPERATIONS = sorted(name for name, value in vars(Operations).items() if isinstance(value, operation))


def test_every_operation_is_on_both_shells_with_one_signature_and_docstring() -> None:
    assert len(OPERATIONS) >= 19
    sync, asynchronous = Memory.__new__(Memory), AsyncMemory.__new__(AsyncMemory)
    for name in OPERATIONS:
        sync_sig = inspect.signature(getattr(sync, name))
        async_sig = inspect.signature(getattr(asynchronous, name))
        assert sync_sig == async_sig, name
        assert "s" not in sync_sig.parameters, f"{name} leaks the plan's store parameter"
        assert next(iter(inspect.signature(getattr(Memory, name)).parameters)) == "self"
        assert getattr(Memory, name).__doc__ == getattr(AsyncMemory, name).__doc__
        assert getattr(Memory, name).__doc__, f"{name} has no docstring"


def test_bound_methods_block_on_memory_and_await_on_async_memory() -> None:
    sync = Memory.__new__(Memory)
    asynchronous = AsyncMemory.__new__(AsyncMemory)
    for name in OPERATIONS:
        assert not inspect.iscoroutinefunction(getattr(sync, name)), name
        assert inspect.iscoroutinefunction(getattr(asynchronous, name)), name
        assert getattr(sync, name).__name__ == name


def test_shell_lifecycle_methods_match() -> None:
    assert inspect.iscoroutinefunction(AsyncMemory.close)
    assert not inspect.iscoroutinefunction(Memory.close)
    assert inspect.iscoroutinefunction(AsyncMemory.connect)
    assert not inspect.iscoroutinefunction(Memory.connect)
    assert inspect.signature(Memory.connect) == inspect.signature(AsyncMemory.connect).replace(
        return_annotation=inspect.signature(Memory.connect).return_annotation
    )


def test_all_names_are_importable_and_documented_under_the_package() -> None:
    for name in mastra_memory.__all__:
        obj = getattr(mastra_memory, name)
        if inspect.isclass(obj):
            assert obj.__module__ == "mastra_memory", name
            assert obj.__doc__, name


def test_the_root_error_does_not_shadow_the_builtin() -> None:
    assert "MemoryError" not in mastra_memory.__all__
    assert issubclass(mastra_memory.InvalidInputError, ValueError)
    for name in mastra_memory.__all__:
        obj = getattr(mastra_memory, name)
        if inspect.isclass(obj) and name.endswith("Error"):
            assert issubclass(obj, mastra_memory.MastraMemoryError), name


def test_constructors_do_no_io() -> None:
    import psycopg_pool

    pool = psycopg_pool.ConnectionPool("postgresql://nobody@203.0.113.1:1/none", open=False)
    memory = Memory(pool, schema="anything")
    assert memory.schema == "anything"
    assert pool.closed
