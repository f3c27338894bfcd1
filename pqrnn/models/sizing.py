"""Parameter counting and budget-matched vocabulary sizes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import tf_keras as keras


def count_params(model: keras.layers.Layer) -> int:
    """Number of scalars in all weights (trainable and not) of a built model or layer."""
    return int(sum(np.prod(weight.shape) for weight in model.weights))


def vocab_size_for_budget(
    build_model: Callable,
    config,
    param_budget: int,
    num_intents: int,
    num_slot_tags: int,
) -> int:
    """Largest vocabulary whose baseline model has at most `param_budget` parameters.

    A baseline's size is linear in its vocabulary (one embedding row per
    word, plus one OOV row), so two tiny builds give the fixed part and the
    per-word cost, and the cap follows.

    Args:
      build_model: `build_bilstm_model` or `build_transformer_model`.
      config: its config; `max_vocab_size` is ignored.
      param_budget: int, e.g. `count_params` of the pQRNN model to match.
      num_intents: int, intent classes.
      num_slot_tags: int, slot tags.

    Returns:
      The vocabulary size to use as `max_vocab_size`.

    Example:
    >>> from pqrnn.models import TransformerConfig, build_transformer_model
    >>> vocab_size_for_budget(build_transformer_model, TransformerConfig(), 489_830, 113, 149)
    5757
    """
    sizes = []
    for words in (1, 2):
        tiny = dataclasses.replace(config, max_vocab_size=words)
        model = build_model(tiny, [f"w{i}" for i in range(words)], num_intents, num_slot_tags)
        sizes.append(count_params(model))
    per_word = sizes[1] - sizes[0]
    fixed = sizes[0] - per_word
    words = (param_budget - fixed) // per_word
    if words < 1:
        raise ValueError(
            f"a budget of {param_budget} parameters leaves no room for a vocabulary: the model "
            f"without one has {fixed}; shrink {type(config).__name__}'s widths"
        )
    return int(words)
