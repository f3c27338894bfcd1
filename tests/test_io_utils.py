"""Atomic artifact writes: files and folders appear whole, with the
permissions a plain open() or mkdir() would give, and leave nothing behind
on failure."""

import os
import stat

import pytest

from pqrnn import io_utils
from pqrnn.export import exporter


def _umask():
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_atomic_write_bytes_creates_folders_and_gets_plain_permissions(tmp_path):
    path = tmp_path / "a" / "b.bin"
    io_utils.atomic_write_bytes(path, b"one")
    io_utils.atomic_write_bytes(path, b"two")
    assert path.read_bytes() == b"two"
    assert _mode(path) == 0o666 & ~_umask()
    assert os.listdir(path.parent) == ["b.bin"]


def test_temporary_beside_is_hidden_in_the_target_folder(tmp_path):
    tmp = io_utils.temporary_beside(tmp_path / "new" / "x.tfrecord")
    assert os.path.dirname(tmp) == str(tmp_path / "new")
    assert os.path.basename(tmp).startswith(".x.tfrecord.") and tmp.endswith(".tmp")
    assert _mode(tmp) == io_utils.artifact_mode() == 0o666 & ~_umask()


def test_atomic_write_dir_swaps_in_a_whole_folder(tmp_path):
    target = tmp_path / "export"

    def fill(content):
        def write(folder):
            with open(os.path.join(folder, "model.tflite"), "w") as f:
                f.write(content)

        return write

    exporter.atomic_write_dir(str(target), fill("old"))
    exporter.atomic_write_dir(str(target), fill("new"))
    assert (target / "model.tflite").read_text() == "new"
    assert _mode(target) == io_utils.artifact_mode(directory=True) == 0o777 & ~_umask()
    assert os.listdir(tmp_path) == ["export"]  # no temporary or old folder left


def test_atomic_write_dir_keeps_the_old_folder_when_filling_fails(tmp_path):
    target = tmp_path / "export"
    target.mkdir()
    (target / "model.tflite").write_text("old")

    def fail(folder):
        with open(os.path.join(folder, "model.tflite"), "w") as f:
            f.write("half")
        raise RuntimeError("conversion failed")

    with pytest.raises(RuntimeError, match="conversion failed"):
        exporter.atomic_write_dir(str(target), fail)
    assert (target / "model.tflite").read_text() == "old"
    assert os.listdir(tmp_path) == ["export"]
