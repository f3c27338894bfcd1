"""Distillation: teacher logits format, teachers, augmentation, student loss.

docs/DISTILLATION.md describes the workflow; the modules:

- `logits_io`: the teacher-agnostic logits format (TFRecord + JSON header).
- `augment`: transfer-set augmentation needing no external model.
- `char_bilstm`: the word + character BiLSTM teacher pqrnn trains itself.
- `bert_teacher`: a BERT teacher fine-tuned from a local KerasHub checkpoint.
- `labelling`: runs a teacher over examples and writes its logits.
- `transfer_set`: joins teacher logits to examples, batches them for the student.
- `teacher`, `student`: the steps `pqrnn.bin.teacher` and `pqrnn.bin.distill` run.
- `losses`: the student loss (hard-label CE + temperature-scaled KL).
"""
