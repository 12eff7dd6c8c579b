"""Semantic and hybrid recall, and the one-statement context an agent needs before a model call."""

from ._context import ContextDiagnostics, MemoryContext, RecallHit

__all__ = ["ContextDiagnostics", "MemoryContext", "RecallHit"]
