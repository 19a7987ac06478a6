"""klviz.distill.files: every writer is atomic and leaves no temporary file after a failure."""

from __future__ import annotations

import csv
import json

import pytest

from klviz.distill import files


def test_atomic_write_replaces_the_file(tmp_path):
    path = tmp_path / "sub" / "a.txt"  # the folder is created
    with files.atomic_write(path, "w") as fh:
        fh.write("one")
    with files.atomic_write(path, "w") as fh:
        fh.write("two")
    assert path.read_text() == "two"
    assert [p.name for p in path.parent.iterdir()] == ["a.txt"]


def test_a_failed_write_keeps_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="boom"):
        with files.atomic_write(path, "wb") as fh:
            fh.write(b"half of the new")
            raise RuntimeError("boom")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


@pytest.mark.parametrize("writer", ["json", "csv"])
def test_metrics_writers_clean_up_after_a_failure(tmp_path, monkeypatch, writer):
    path = tmp_path / f"metrics.{writer}"
    rows = [{"epoch": 1, "acc": 0.5}, {"epoch": 2, "acc": 0.75}]
    write = files.write_json if writer == "json" else files.write_csv
    write(path, rows)
    before = path.read_bytes()

    def crash(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(json, "dump", crash)
    monkeypatch.setattr(csv.DictWriter, "writerows", crash)
    with pytest.raises(OSError):
        write(path, rows[:1])
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_written_contents_read_back(tmp_path):
    rows = [{"epoch": 1, "acc": 0.5}, {"epoch": 2, "acc": 0.75}]
    files.write_json(tmp_path / "m.json", {"history": rows})
    assert json.loads((tmp_path / "m.json").read_text()) == {"history": rows}
    files.write_csv(tmp_path / "m.csv", rows)
    back = list(csv.DictReader(open(tmp_path / "m.csv")))
    assert [(int(r["epoch"]), float(r["acc"])) for r in back] == [(1, 0.5), (2, 0.75)]
    files.write_csv(tmp_path / "empty.csv", [])
    assert (tmp_path / "empty.csv").read_text() == ""


def test_mode_is_checked(tmp_path):
    with pytest.raises(ValueError, match="mode='a'"):
        with files.atomic_write(tmp_path / "x", "a"):
            pass
