"""Azure's prompt caching as the simulator plays it, so cached input tokens show up in usage like on Azure."""

from __future__ import annotations

import collections

from ._answers import count_tokens

MIN_CACHED = 1024
"""Azure caches only prompts of at least this many tokens."""
STEP = 128
"""Beyond the first 1,024 tokens, cache hits grow in steps of this many tokens."""


def _shared_start(a: str, b: str) -> int:
    """How many characters `a` and `b` start with in common (binary search: string compares run in C)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


class PromptCache:
    """Remembers recent prompts per deployment; a new prompt starting like one of them has that start cached.

    Not thread-safe: the simulator calls it under its lock.
    """

    def __init__(self, keep: int = 32) -> None:
        self._keep = keep
        self._seen: dict[str, collections.deque[str]] = {}

    def cached_tokens(self, deployment: str, prompt: str) -> int:
        """The cached part of `prompt` (0 below 1,024 matching tokens), then remember it for later requests."""
        seen = self._seen.setdefault(deployment, collections.deque(maxlen=self._keep))
        shared = max((_shared_start(old, prompt) for old in seen), default=0)
        seen.append(prompt)
        tokens = min(count_tokens(prompt[:shared]), count_tokens(prompt)) if shared else 0
        return tokens // STEP * STEP if tokens >= MIN_CACHED else 0

    def clear(self) -> None:
        """Forget every prompt."""
        self._seen.clear()
