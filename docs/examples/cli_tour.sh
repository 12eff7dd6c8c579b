#!/usr/bin/env bash
# A tour of the mastra-memory command line on the embedded PostgreSQL (no setup, no key).
# Run: bash docs/examples/cli_tour.sh
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The demo stores a sample conversation in its own schema, mastra_memory_demo.
mastra-memory demo --json > "$work/demo.json"

# Tables for people; global options (--schema, --dsn, --json, --debug) go before or after the command.
mastra-memory --schema mastra_memory_demo threads list --resource demo-maya
mastra-memory --schema mastra_memory_demo threads show demo-s3-wedding --limit 3
mastra-memory --schema mastra_memory_demo recall demo-today "How am I getting to Ljubljana?" --top-k 2
mastra-memory --schema mastra_memory_demo working-memory get --resource demo-maya

# --json for scripts.
mastra-memory --schema mastra_memory_demo threads list --json > "$work/threads.json"

# Move memory between databases or schemas: JSON Lines, one thread (with all its messages) per line.
mastra-memory --schema mastra_memory_demo export -o "$work/maya.jsonl"
mastra-memory --schema demo_copy import "$work/maya.jsonl" --embed
mastra-memory --schema demo_copy sweep --older-than 2025-04-01 --dry-run

# The schema as SQL, to review or apply with your own tooling; Supabase's with row-level security.
mastra-memory sql > "$work/mastra_memory.sql"
mastra-memory sql --supabase --dim 256 > "$work/supabase_mastra_memory.sql"

# Exit codes say what went wrong: 3 is "not found".
status=0
mastra-memory threads show no-such-thread || status=$?
echo "exit code: $status"
