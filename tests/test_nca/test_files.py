"""Atomic writes: a file or directory appears whole, or the old one stays."""

import pytest

from nca.files import replacing, write_atomic


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "model.json"
    write_atomic(target, "old")
    with pytest.raises(RuntimeError), replacing(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]


def test_a_directory_is_swapped_whole(tmp_path):
    target = tmp_path / "bundle"
    with replacing(target, directory=True) as tmp:
        (tmp / "a").write_text("1")
    with replacing(target, directory=True) as tmp:
        (tmp / "b").write_bytes(b"2")
    assert sorted(p.name for p in target.iterdir()) == ["b"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]
    assert oct(target.stat().st_mode & 0o777) != oct(0o700)  # readable by the server, not mkdtemp's private mode
