"""Connections for production: your own pool, and reads split between a primary and a replica.

Run: python docs/examples/scaling.py   (embedded PostgreSQL; here the "replica" is the same server,
so the example shows the wiring, not the lag)
"""

import psycopg_pool

from mastra_memory import Memory, Message
from mastra_memory.embedded import EmbeddedPostgres

primary_dsn = EmbeddedPostgres().start()  # in production: the primary's DSN
replica_dsn = primary_dsn  # in production: a streaming replica (or Supabase read replica) DSN

# One pool per database, owned by the application and shared by every request. Connections must
# be in autocommit mode: each memory operation opens its own transaction when it needs one.
primary_pool = psycopg_pool.ConnectionPool(primary_dsn, min_size=1, max_size=10, kwargs={"autocommit": True}, open=True)
replica_pool = psycopg_pool.ConnectionPool(replica_dsn, min_size=1, max_size=10, kwargs={"autocommit": True}, open=True)

writer = Memory(primary_pool)  # the agent's turn: context() and saves, on the primary
reader = Memory(replica_pool)  # listings, exports, dashboards: fine a little behind
writer.migrate()

thread = writer.create_thread("user-kai", title="Support")
writer.save_messages([Message.user("My invoice shows the wrong VAT number.", thread_id=thread.id)])
ctx = writer.context(thread.id, "user-kai")  # read your own write: same database as the save
print("context on the primary:", [m.text for m in ctx.messages])

page = reader.list_threads(resource_id="user-kai")
print("threads seen on the replica:", page.total)

for pool in (primary_pool, replica_pool):  # the application closes the pools it opened
    pool.close()
