"""Atomic folders: concurrent writers of one report folder leave one writer's complete folder."""

import multiprocessing as mp

import pytest

from zeostem.io.atomic import atomic_folder

FILES = ("report.json", "panel.png", "denoised.tif", "columns.csv")


def write_many(out: str, writer: int, times: int) -> None:
    for k in range(times):
        with atomic_folder(out) as tmp:
            for name in FILES:
                (tmp / name).write_text(f"{writer}:{k}")


def test_concurrent_writers_leave_one_complete_folder_never_a_mix(tmp_path):
    out = tmp_path / "reports" / "image"
    ctx = mp.get_context("fork")
    writers = [ctx.Process(target=write_many, args=(str(out), w, 40)) for w in range(4)]
    for p in writers:
        p.start()
    for p in writers:
        p.join(60)
    assert [p.exitcode for p in writers] == [0, 0, 0, 0]  # no writer failed on another's folder
    contents = {(out / name).read_text() for name in FILES}
    assert len(contents) == 1 and next(iter(contents)).endswith(":39")  # one writer's last, whole
    assert sorted(p.name for p in out.parent.iterdir()) == ["image"]  # no temporary folder left


def test_a_failed_write_keeps_the_previous_folder(tmp_path):
    out = tmp_path / "image"
    write_many(str(out), 0, 1)
    with pytest.raises(RuntimeError), atomic_folder(out) as tmp:
        (tmp / "report.json").write_text("half")
        raise RuntimeError("the panel could not be drawn")
    assert (out / "report.json").read_text() == "0:0" and len(list(out.iterdir())) == len(FILES)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["image"]
