"""Training-time unseen words: tokens replaced by random strings.

A vocabulary-free model meets a word it never saw in training as the hash
of its string: a vector no training example showed it, plus character
n-grams that may mislead. Whether it then labels the word from its
neighbours ("4 p. m.": a time) or from the noise is left to chance unless
training shows it such tokens (docs/RESULTS.md "Where the student loses to
its teacher"). The projection's distortion edits one character, so the
token's n-grams mostly survive and the model learns to read them; it does
not teach the model to read a token from its context alone.

`replace_words` does that, in the spirit of word dropout to an unknown
symbol in word models (there is no unknown symbol here; a random string is
what an unseen word looks like to the hash). Each token, with probability
p, becomes a string of the same number of code points drawn at random from
its own utterance's characters (so the script stays the utterance's); the
labels and the teacher's logits stay those of the original token, so the
model learns to label the token from its context. A draw may by chance
rebuild a seen word (most likely for one-character tokens); that only
lowers the effective rate a little.

It works on a batch of texts inside the tf.data pipeline, before the
projection, and is training-only: exported models never see it. The draws
are a hash of (seed, epoch, the utterance's text, the token's position), so
a resumed run sees the same replacements as an uninterrupted one, each
epoch sees different ones, and no random state is kept. Texts must hold
tokens joined by single spaces, as `Example.text` does; the result keeps
every token count (no replacement is empty or holds whitespace).
"""

from __future__ import annotations

import tensorflow as tf

_BUCKETS = 1 << 30


def _uniform(keys: tf.Tensor) -> tf.Tensor:
    """A number in [0, 1) per string key, the same for the same key."""
    buckets = tf.strings.to_hash_bucket_fast(keys, _BUCKETS)
    return tf.cast(buckets, tf.float64) / float(_BUCKETS)


def check_probability(probability: float) -> None:
    if not 0.0 <= probability <= 1.0:  # also refuses NaN
        raise ValueError(f"unseen_word_probability={probability} must be in [0, 1]")


def replace_words(texts, probability: float, seed: int = 0, epoch: int = 0) -> tf.Tensor:
    """`texts` [B] with each token replaced, with `probability`, by a random string.

    Args:
      texts: [B] tf.string, tokens joined by single spaces.
      probability: per-token replacement probability, in [0, 1].
      seed: the run's seed.
      epoch: the epoch; each epoch draws anew.

    Returns:
      [B] tf.string with the same number of tokens per text, and the same
      number of code points per token.

    Raises:
      ValueError: probability outside [0, 1].
    """
    check_probability(probability)
    texts = tf.convert_to_tensor(texts, tf.string)
    if probability == 0.0:
        return texts
    tokens = tf.strings.split(texts, sep=" ")  # ragged [B, n_i]; "" -> [""]
    flat = tokens.flat_values
    row = tokens.value_rowids()
    position = tf.range(tf.size(flat, out_type=tf.int64)) - tf.gather(tokens.row_starts(), row)
    # One short key per token: the seed, the epoch, a fingerprint of the
    # utterance and the position. (Identical utterances draw identically.)
    utterance = tf.strings.as_string(tf.strings.to_hash_bucket_fast(texts, 1 << 62))
    keys = tf.strings.join(
        [
            tf.strings.as_string(tf.constant(seed, tf.int64)),
            tf.strings.as_string(tf.constant(epoch, tf.int64)),
            tf.gather(utterance, row),
            tf.strings.as_string(position),
        ],
        separator=":",
    )
    lengths = tf.strings.length(flat, unit="UTF8_CHAR")
    chosen = tf.where(tf.logical_and(_uniform(keys + ":p") < probability, lengths > 0))
    index = chosen[:, 0]  # the replaced tokens, [R]

    # The utterance's characters, spaces left out: [B, c_i] code points.
    chars = tf.strings.unicode_decode(
        tf.strings.regex_replace(texts, " ", ""), "UTF-8", errors="replace"
    )
    # One draw per code point of each replaced token: [R, len_j]; each draw's
    # token (into `flat`) and utterance.
    k = tf.ragged.range(tf.cast(tf.gather(lengths, index), tf.int64))
    token = tf.gather(index, k.value_rowids())
    utterance_row = tf.gather(row, token)
    char_keys = tf.strings.join(
        [tf.gather(keys, token), tf.strings.as_string(k.flat_values)], separator=":c"
    )
    span = tf.maximum(tf.gather(chars.row_lengths(), utterance_row), 1)
    pick = tf.cast(_uniform(char_keys) * tf.cast(span, tf.float64), tf.int64)
    pick = tf.minimum(pick, span - 1) + tf.gather(chars.row_starts(), utterance_row)
    drawn = tf.strings.unicode_encode(
        k.with_flat_values(tf.gather(chars.flat_values, pick)), "UTF-8"
    )
    new_tokens = tf.tensor_scatter_nd_update(flat, chosen, drawn)
    return tf.strings.reduce_join(tokens.with_flat_values(new_tokens), axis=1, separator=" ")
