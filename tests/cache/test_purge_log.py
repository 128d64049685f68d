from __future__ import annotations

from pathlib import Path

from imgedge.cache.purge_log import PurgeLog


def test_reader_sees_purges_appended_by_another_writer(tmp_path: Path) -> None:
    path = tmp_path / "purge.log"
    writer, reader = PurgeLog(path), PurgeLog(path)
    reader.skip_history()
    assert reader.read_new().purges == []
    writer.append("asset:a", 100.0)
    writer.append("asset:b", 101.5)
    news = reader.read_new()
    assert news.purges == [("asset:a", 100.0), ("asset:b", 101.5)]
    assert not news.lost_track
    assert reader.read_new().purges == []


def test_history_before_start_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "purge.log"
    PurgeLog(path).append("asset:old", 1.0)
    reader = PurgeLog(path)
    reader.skip_history()
    PurgeLog(path).append("asset:new", 2.0)
    assert reader.read_new().purges == [("asset:new", 2.0)]


def test_a_half_written_line_waits_for_its_end(tmp_path: Path) -> None:
    path = tmp_path / "purge.log"
    PurgeLog(path).append("asset:first", 1.0)
    reader = PurgeLog(path)
    reader.skip_history()
    with open(path, "ab") as fh:
        fh.write(b'[3.0, "asset:')
        fh.flush()
        assert reader.read_new().purges == []
        fh.write(b'a"]\n')
    assert reader.read_new().purges == [("asset:a", 3.0)]


def test_rotation_tells_readers_they_lost_track(tmp_path: Path) -> None:
    path = tmp_path / "purge.log"
    writer = PurgeLog(path, max_bytes=120)
    reader = PurgeLog(path)
    writer.append("asset:a", 1.0)
    assert reader.read_new().purges == [("asset:a", 1.0)]
    for i in range(5):
        writer.append(f"asset:{i}", 2.0)
    assert path.stat().st_size <= 120
    news = reader.read_new()
    assert news.lost_track
    assert news.purges[-1] == ("asset:4", 2.0)


def test_garbage_line_means_lost_track(tmp_path: Path) -> None:
    path = tmp_path / "purge.log"
    PurgeLog(path).append("asset:a", 1.0)
    reader = PurgeLog(path)
    reader.skip_history()
    with open(path, "ab") as fh:
        fh.write(b"not json\n")
    assert reader.read_new().lost_track
