r"""Are two training runs the same bits? Compares the model variables of the
latest checkpoint in each --workdir with the first one's, variable by
variable (the optimizer's state left out), and prints how many
are identical and the largest absolute difference. docs/RELIABILITY.md
("Bit-reproducibility across machines") cites it.

    python tools/compare_checkpoints.py --workdir=/tmp/a --workdir=/tmp/b
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from absl import app, flags

_WORKDIRS = flags.DEFINE_multi_string(
    "workdir", [], "Training workdirs (their checkpoints/ folder); the first is the reference."
)


def model_variables(workdir: str) -> dict[str, np.ndarray]:
    """The model's variables in `workdir`'s latest checkpoint, by name."""
    path = tf.train.latest_checkpoint(f"{workdir}/checkpoints")
    if path is None:
        raise SystemExit(f"{workdir}: no checkpoint in {workdir}/checkpoints")
    reader = tf.train.load_checkpoint(path)
    return {
        name: reader.get_tensor(name)
        for name in reader.get_variable_to_shape_map()
        if name.startswith("model/")
    }


def compare(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> tuple[int, int, float]:
    """(identical variables, variables, max |a - b|); names and shapes must match."""
    if a.keys() != b.keys():
        raise SystemExit(f"the checkpoints hold different variables: {sorted(a.keys() ^ b.keys())}")
    identical, largest = 0, 0.0
    for name, value in a.items():
        other = b[name]
        if value.shape != other.shape:
            raise SystemExit(f"{name}: shape {value.shape} against {other.shape}")
        identical += int(np.array_equal(value, other))
        if value.size and value.dtype.kind in "fiu":
            diff = np.abs(value.astype(np.float64) - other.astype(np.float64))
            largest = max(largest, float(diff.max()))
    return identical, len(a), largest


def main(argv):
    del argv
    if len(_WORKDIRS.value) < 2:
        raise app.UsageError("give at least two --workdir")
    reference = model_variables(_WORKDIRS.value[0])
    for workdir in _WORKDIRS.value[1:]:
        identical, total, largest = compare(reference, model_variables(workdir))
        print(
            f"{workdir} against {_WORKDIRS.value[0]}: {identical}/{total} variables "
            f"identical, max |difference| {largest:.3g}"
        )


if __name__ == "__main__":
    app.run(main)
