"""Word vocabularies for the embedding baselines."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable


def build_vocabulary(
    token_lists: Iterable[Iterable[str]], max_size: int | None = None, min_count: int = 1
) -> list[str]:
    """Returns the distinct non-empty tokens, most frequent first.

    Ties are broken alphabetically, so the same data always gives the same
    vocabulary (and the same embedding rows).

    Args:
      token_lists: tokenized training utterances.
      max_size: int or None, keep at most this many tokens.
      min_count: int, drop tokens seen fewer times.

    Example:
    >>> build_vocabulary([["play", "jazz"], ["play", "rock"]])
    ['play', 'jazz', 'rock']
    """
    counts = Counter(token for tokens in token_lists for token in tokens if token)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [token for token, count in ranked if count >= min_count][:max_size]
