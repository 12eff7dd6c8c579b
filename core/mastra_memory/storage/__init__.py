"""Everything that speaks SQL: table names, migrations, statement builders and row decoders."""

from ._migrations import MIGRATIONS, latest_version
from ._tables import Tables, tables

__all__ = ["MIGRATIONS", "Tables", "latest_version", "tables"]
