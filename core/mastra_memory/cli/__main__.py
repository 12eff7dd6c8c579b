"""``python -m mastra_memory.cli``: the same as the ``mastra-memory`` command."""

import sys

from . import main

sys.exit(main())
