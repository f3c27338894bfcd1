"""The intent and slot heads every pqrnn model shares (private helper)."""

from __future__ import annotations

from pqrnn.layers import IntentHead, SlotHead


def attach_heads(encodings, sequence_length, num_intents: int, num_slot_tags: int, dropout: float):
    """Returns the model outputs {"intent": [B, I], "slots": [B, T, S]} (logits)."""
    intent = IntentHead(num_intents, dropout=dropout, name="intent")(
        encodings, sequence_length=sequence_length
    )
    slots = SlotHead(num_slot_tags, dropout=dropout, name="slots")(encodings)
    return {"intent": intent, "slots": slots}
