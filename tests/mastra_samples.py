"""The mastra_messages rows Mastra itself wrote (reference samples), for the adapters' conversion tests."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mastra_memory import Message
from mastra_memory._content import decode_content

SAMPLES = Path("/work/shared/reference/mastra_pg_samples.txt")

needs_samples = pytest.mark.skipif(not SAMPLES.exists(), reason="the Mastra sample rows are not available")


def sample_rows() -> list[Message]:
    """The sample rows, decoded as the store does."""
    text = SAMPLES.read_text()
    table = text.split("TABLE mastra_messages", 1)[1].split("TABLE ", 1)[0]
    out = []
    for block in table.split("  [row ")[1:]:
        fields = dict(re.findall(r"^    (\w+) = (.*)$", block, re.M))
        content, _ = decode_content(json.loads(fields["content"]), fields["type"].strip('"'))
        out.append(
            Message(json.loads(fields["role"]), content, json.loads(fields["id"]), json.loads(fields["thread_id"]))
        )
    return out
