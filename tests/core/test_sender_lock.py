"""The sender lock: one holder at a time, across threads and processes, never waited for, and
gone with a holder that crashed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from app.core.sender_lock import BUSY_MESSAGE, SenderBusy, SenderLock, lock_path_for

HOLD_IN_CHILD = """
import sys, time
from pathlib import Path
from app.core.sender_lock import SenderLock
lock = SenderLock(Path(sys.argv[1]))
print("held" if lock.acquire() else "busy", flush=True)
time.sleep(60)
"""
ROOT = Path(__file__).resolve().parents[2]


def child_holding(path: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD_IN_CHILD, str(path)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "held"
    return child


def test_the_lock_lives_beside_the_database(tmp_path: Path) -> None:
    assert lock_path_for(tmp_path / "kindly.sqlite3") == tmp_path / "kindly.sqlite3.sending-lock"


def test_one_holder_at_a_time_and_free_again_after(tmp_path: Path) -> None:
    path = tmp_path / "db.sending-lock"
    first, second = SenderLock(path), SenderLock(path)

    assert first.acquire()
    assert not second.acquire()
    assert f"pid {os.getpid()}" in second.holder()
    first.release()
    assert second.acquire()
    second.release()
    second.release()  # twice: harmless


def test_the_context_manager_raises_busy_at_once(tmp_path: Path) -> None:
    path = tmp_path / "db.sending-lock"
    with SenderLock(path), pytest.raises(SenderBusy) as busy, SenderLock(path):
        pytest.fail("two holders")
    assert busy.value.user_message == BUSY_MESSAGE
    assert f"pid {os.getpid()}" in busy.value.holder
    with SenderLock(path):  # released by the with block, also on the way out of an error
        pass


def test_two_threads_of_one_process_exclude_each_other(tmp_path: Path) -> None:
    path = tmp_path / "db.sending-lock"
    results: list[bool] = []
    with SenderLock(path):
        thread = threading.Thread(target=lambda: results.append(SenderLock(path).acquire()))
        thread.start()
        thread.join(10)
    assert results == [False]


def test_another_process_holding_it_keeps_us_out_until_it_dies(tmp_path: Path) -> None:
    path = tmp_path / "db.sending-lock"
    child = child_holding(path)
    try:
        lock = SenderLock(path)
        assert not lock.acquire()
        assert f"pid {child.pid}" in lock.holder()

        os.kill(child.pid, signal.SIGKILL)  # a crashed sender: the OS drops its lock
        child.wait(10)

        assert lock.acquire()
        lock.release()
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(10)
        assert child.stdout is not None
        child.stdout.close()


def test_a_lock_file_that_cannot_be_made_does_not_stop_sending(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """E.g. a read-only folder: the row claim still guards each reply, as before the lock."""
    lock = SenderLock(tmp_path / "gone" / "db.sending-lock")

    assert lock.acquire()
    lock.release()
    assert "sending without the cross-process lock" in caplog.text
