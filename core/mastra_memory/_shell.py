"""How one plan becomes both a blocking method and a coroutine method.

Each operation is declared once, in :class:`Operations`, from its plan. Reading it through a
``Memory`` gives a method that runs the plan with :func:`run_sync`; reading it through an
``AsyncMemory`` gives a coroutine function that runs it with :func:`run_async`. The plan's
signature (less its first ``Store`` parameter) and docstring are the method's, so the two shells
cannot drift apart, and mypy sees exact types on both.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from ._config import MemoryConfig
from ._ops import clone, messages, retention, threads, titles
from ._plan import Plan
from ._store import Store
from .observational import _background as om_background
from .observational import _ops as observational
from .recall import _backfill as recall_backfill
from .recall import _context as recall_context
from .recall._vectors import vector_table
from .storage._migrations import migrate as migrate_plan
from .working_memory import _ops as working_memory

P = ParamSpec("P")
T = TypeVar("T")


class SyncRunner:
    """Base of shells that block: runs a plan to completion."""

    _store: Store

    def _run(self, plan: Plan[T]) -> T:
        raise NotImplementedError


class AsyncRunner:
    """Base of shells that await: runs a plan as a coroutine."""

    _store: Store

    async def _run(self, plan: Plan[T]) -> T:
        raise NotImplementedError


class operation(Generic[P, T]):  # noqa: N801 - used like a decorator/descriptor, lower case reads better
    """A shell method made from a plan ``(store, *args) -> Plan[T]``."""

    def __init__(
        self, plan: Callable[Concatenate[Store, P], Plan[T]], *, after: Callable[[Any, T], None] | None = None
    ) -> None:
        self._plan = plan
        self._after = after  # runs with (shell, result) once the plan is done, e.g. to start background work
        self.__doc__ = plan.__doc__
        self.__name__ = plan.__name__
        signature = inspect.signature(plan)
        returns = signature.return_annotation
        if isinstance(returns, str) and returns.startswith("Plan[") and returns.endswith("]"):
            signature = signature.replace(return_annotation=returns[5:-1])  # what the caller gets
        params = list(signature.parameters.values())[1:]
        self._bound_signature = signature.replace(parameters=params)
        # Read from the class it looks like a plain method: (self, ...) -> T.
        this = inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)
        self.__signature__ = signature.replace(parameters=[this, *params])

    def __call__(self, shell: SyncRunner | AsyncRunner, /, *args: P.args, **kwargs: P.kwargs) -> Any:
        """Call as an unbound method: ``Memory.get_thread(memory, "t1")``."""
        return self.__get__(shell, type(shell))(*args, **kwargs)

    def __set_name__(self, owner: type, name: str) -> None:
        self.__name__ = name

    @overload
    def __get__(self, obj: None, owner: type) -> operation[P, T]: ...
    @overload
    def __get__(self, obj: SyncRunner, owner: type) -> Callable[P, T]: ...
    @overload
    def __get__(self, obj: AsyncRunner, owner: type) -> Callable[P, Coroutine[Any, Any, T]]: ...
    def __get__(self, obj: object, owner: type) -> Any:
        if obj is None:
            return self
        plan, after = self._plan, self._after
        if isinstance(obj, AsyncRunner):
            runner = obj

            async def async_method(*args: P.args, **kwargs: P.kwargs) -> T:
                result = await runner._run(plan(runner._store, *args, **kwargs))
                if after is not None:
                    after(runner, result)
                return result

            method: Callable[..., Any] = async_method
        elif isinstance(obj, SyncRunner):
            sync_runner = obj

            def sync_method(*args: P.args, **kwargs: P.kwargs) -> T:
                result = sync_runner._run(plan(sync_runner._store, *args, **kwargs))
                if after is not None:
                    after(sync_runner, result)
                return result

            method = sync_method
        else:
            raise TypeError(f"{self.__name__} is an operation of Memory/AsyncMemory, not of {type(obj).__name__}")
        functools.update_wrapper(method, plan)
        method.__name__ = self.__name__
        method.__signature__ = self._bound_signature  # type: ignore[attr-defined]
        return method


def _migrate(s: Store) -> Plan[list[int]]:
    """Create or upgrade the memory tables in this schema; returns the versions applied.

    Safe to run any number of times and from several processes at once. On a database where
    Mastra's ``init()`` already created the tables, nothing of Mastra's is changed. Needs the
    right to create tables (run it with an owner role, not as an end user).

    With semantic recall on, it also makes the vector table for the embedder's dimension
    (creating pgvector when allowed).

    Raises:
        StorageError: the role may not create the schema or tables.
        ExtensionMissingError: semantic recall is on but pgvector cannot be installed.
    """
    applied = yield from migrate_plan(s.tables)
    if s.config.recall is not None:
        yield from vector_table(s)
    return applied


class Operations:
    """Every memory operation, declared once for both shells."""

    _store: Store

    @property
    def config(self) -> MemoryConfig:
        """The memory options this object was built with."""
        return self._store.config

    @property
    def schema(self) -> str:
        """The PostgreSQL schema holding the memory tables."""
        return self._store.tables.schema

    migrate = operation(_migrate)

    # threads
    create_thread = operation(threads.create_thread)
    save_thread = operation(threads.save_thread)
    get_thread = operation(threads.get_thread)
    list_threads = operation(threads.list_threads)
    update_thread = operation(threads.update_thread)
    delete_thread = operation(threads.delete_thread)
    clone_thread = operation(clone.clone_thread)
    get_source_thread = operation(threads.get_source_thread)
    list_clones = operation(threads.list_clones)
    get_clone_history = operation(threads.get_clone_history)

    # titles
    generate_title = operation(titles.generate_title)

    # messages
    save_messages = operation(messages.save_messages)
    list_messages = operation(messages.list_messages)
    recall = operation(messages.recall)
    list_messages_by_resource = operation(messages.list_messages_by_resource)
    get_messages = operation(messages.get_messages)
    update_messages = operation(messages.update_messages)
    delete_messages = operation(messages.delete_messages)

    # what an agent needs before a model call
    context = operation(recall_context.context, after=om_background.schedule)
    backfill_embeddings = operation(recall_backfill.backfill_embeddings)

    # resources
    get_resource = operation(threads.get_resource)
    update_resource = operation(threads.update_resource)

    # retention
    sweep_threads = operation(retention.sweep_threads)
    delete_resource = operation(retention.delete_resource)

    # observational memory
    observe = operation(observational.observe)
    reflect = operation(observational.reflect)
    get_observations = operation(observational.get_observations)
    get_observation_history = operation(observational.get_observation_history)
    clear_observations = operation(observational.clear_observations)
    wait_for_observations = om_background.ObservationWaiter()

    # working memory
    get_working_memory = operation(working_memory.get_working_memory)
    update_working_memory = operation(working_memory.update_working_memory)
    get_working_memory_template = operation(working_memory.get_working_memory_template)
