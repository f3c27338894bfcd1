"""The BERT teacher end to end with a tiny, randomly initialised KerasHub
checkpoint written here (no download): fine-tune, restore, logits, distill."""

import numpy as np
import pytest

import pqrnn  # noqa: F401
from pqrnn.configs import distill as distill_config
from pqrnn.configs import teacher as teacher_config
from pqrnn.data import synthetic
from pqrnn.distill import logits_io
from pqrnn.distill.student import distill
from pqrnn.distill.teacher import run_teacher

keras_hub = pytest.importorskip("keras_hub")


def write_tiny_checkpoint(path, examples):
    words = sorted({t for e in examples for t in e.tokens})
    pieces = sorted({c for w in words for c in w})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words[:40], *pieces]
    vocab += [f"##{c}" for c in pieces]
    vocab = list(dict.fromkeys(vocab))
    keras_hub.models.BertBackbone(
        vocabulary_size=len(vocab),
        num_layers=1,
        num_heads=2,
        hidden_dim=16,
        intermediate_dim=32,
        max_sequence_length=64,
    ).save_to_preset(path)
    keras_hub.models.BertTokenizer(vocabulary=vocab, lowercase=True).save_to_preset(path)


def test_encoder_marks_first_subwords(tmp_path):
    from pqrnn.distill.bert_teacher import SubwordEncoder

    examples = synthetic.generate("train", ("en",), num_per_language=2)
    write_tiny_checkpoint(str(tmp_path / "ckpt"), examples)
    tokenizer = keras_hub.models.BertTokenizer.from_preset(str(tmp_path / "ckpt"))
    encoded = SubwordEncoder(tokenizer, max_subwords=64).encode(examples)
    for i, example in enumerate(examples):
        first = encoded.first_positions[i, : len(example.tokens)]
        assert first[0] == 1 and np.all(np.diff(first) >= 1)  # After [CLS], increasing.
        assert encoded.token_ids[i, 0] == tokenizer.cls_token_id
    cut = SubwordEncoder(tokenizer, max_subwords=4).encode(examples)
    assert cut.num_cut_tokens > 0 and cut.token_ids.shape[1] <= 4


def test_bert_teacher_end_to_end(tmp_path):
    config = teacher_config.get_config("smoke,bert")
    config.data.languages = "en"
    config.teacher.eval_splits = "validation"
    checkpoint = str(tmp_path / "ckpt")
    write_tiny_checkpoint(checkpoint, synthetic.generate("train", ("en",)))
    config.bert.update(checkpoint=checkpoint, epochs=1, batch_size=64, max_subwords=48)
    teacher_dir = str(tmp_path / "teacher")
    written = run_teacher(config, teacher_dir, augment_amount=0.1)
    train = logits_io.read_logits(written["train"])
    assert len(train) == 600 and train.header.teacher.startswith("bert ")
    record = train.records[0]
    assert record.slot_logits.shape == (len(record.tokens), len(train.header.tags))
    # Restored from its workdir, the teacher gives the same logits (into a
    # second folder, so that they are computed again, not found complete).
    again = run_teacher(
        config, teacher_dir, augment_amount=0.1, skip_eval=True, logits_dir=str(tmp_path / "again")
    )
    for name in ("train", "augmented"):
        first, second = logits_io.read_logits(written[name]), logits_io.read_logits(again[name])
        assert first.header.teacher == second.header.teacher  # Same description: no rewrite.
        assert [r.key for r in first.records] == [r.key for r in second.records]
        for a, b in zip(first.records, second.records, strict=True):
            np.testing.assert_allclose(a.intent_logits, b.intent_logits, rtol=1e-5, atol=1e-5)
            np.testing.assert_allclose(a.slot_logits, b.slot_logits, rtol=1e-5, atol=1e-5)
    # Another max_subwords against the trained weights is an error, not a silent restore.
    config.bert.max_subwords = 32
    with pytest.raises(ValueError, match="fine-tuned with"):
        run_teacher(config, teacher_dir, augment_amount=0.1, skip_eval=True)
    config.bert.max_subwords = 48

    student = distill_config.get_config("smoke")
    student.data.languages = "en"
    student.train.update(batch_size=64, log_every=1)
    student.distill.update(teacher_logits=written["train"], augmented_logits=written["augmented"])
    summary = distill(student, str(tmp_path / "student"), max_steps=2)
    assert summary["steps"] == 2 and summary["train_examples"] == 660
