"""The benchmarks' private stack: started on free ports in a temporary folder, purged at the end."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from devstack import Ports, Stack
from tests.limits import lift_owner_limits, lift_rate_limits


@contextmanager
def private_stack(
    name: str, *, lift_limits: bool = True, share_fairly: bool = False, **options: Any
) -> Iterator[tuple[Stack, Path]]:
    """The stack and a scratch folder beside it (for documents). The rate limits are lifted unless
    told otherwise, and the per-owner limits unless ``share_fairly`` (most benchmarks drive the
    stack from one session); ``options`` go to :class:`devstack.Stack` (``components``, ``copies``, ...)."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
        if lift_limits:
            lift_rate_limits()
        if not share_fairly:
            lift_owner_limits()
        stack = Stack(Path(tmp) / "stack", Ports.free(), **options)
        try:
            print("starting a private stack ...", file=sys.stderr)
            stack.start()
            yield stack, Path(tmp)
        finally:
            stack.purge()
