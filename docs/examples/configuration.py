"""Every memory option, spelled out with its default, and the connect() options.

Run: python docs/examples/configuration.py   (embedded PostgreSQL: no setup)
"""

from dataclasses import fields

from mastra_memory import Memory, MemoryConfig, ObservationalMemory, SemanticRecall, TitleGeneration, WorkingMemory

# The defaults, as the library reports them (the tables in docs/configuration.md list the same).
for cls in (MemoryConfig, SemanticRecall, WorkingMemory, ObservationalMemory, TitleGeneration):
    defaults = {f.name: f.default for f in fields(cls) if f.init}
    print(cls.__name__, defaults)

# Everything set explicitly: Mastra's sizes, hybrid recall, working memory with a custom template.
config = MemoryConfig(
    last_messages=20,
    semantic_recall=SemanticRecall(
        top_k=4,
        message_range=(2, 1),  # two messages before each hit, one after
        scope="resource",
        threshold=0.2,
        hybrid=True,
        vector_weight=0.1,
    ),
    working_memory=WorkingMemory(
        enabled=True,
        scope="resource",
        template="# Traveller\n- **Home airport**:\n- **Seat**:\n",
        read_only=False,
        version="stable",
    ),
)

with Memory.connect(
    None,  # a DSN, or None for the embedded PostgreSQL
    config=config,
    schema="public",
    embedder=None,  # None: the offline LocalEmbedder when semantic recall is on
    migrate=True,
    prepare=None,  # None: prepared statements on, except behind Supabase's transaction pooler
    min_size=1,
    max_size=10,
    timeout=30.0,
    data_dir=None,  # None: $MASTRA_MEMORY_HOME/pgdata or the user data directory
) as memory:
    template = memory.get_working_memory_template()
    assert template is not None
    print("schema:", memory.schema, "| working-memory format:", template.format)
    print("recall window (before, after):", memory.config.recall.window if memory.config.recall else None)
