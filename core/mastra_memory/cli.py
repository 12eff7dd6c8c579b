"""The ``mastra-memory`` command line."""

from __future__ import annotations

import argparse
import os
import sys

from ._errors import MastraMemoryError
from ._memory import Memory


def _migrate(args: argparse.Namespace) -> int:
    with Memory.connect(args.dsn, schema=args.schema, migrate=False, min_size=0, max_size=1) as memory:
        applied = memory.migrate()
    where = "the embedded PostgreSQL" if args.dsn is None else "the database"
    if applied:
        print(f"migrated schema {args.schema!r} of {where}: applied version(s) {', '.join(map(str, applied))}")
    else:
        print(f"schema {args.schema!r} of {where} is up to date")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mastra-memory", description="Mastra-compatible agent memory on PostgreSQL.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)
    migrate = sub.add_parser("migrate", help="create or upgrade the memory tables")
    migrate.add_argument(
        "--dsn",
        default=os.environ.get("DATABASE_URL"),
        help="PostgreSQL DSN (default: $DATABASE_URL, else the embedded server)",
    )
    migrate.add_argument("--schema", default="public", help="schema to migrate (default: public)")
    migrate.set_defaults(run=_migrate)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except MastraMemoryError as exc:
        if args.debug:
            raise
        print(f"mastra-memory: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
