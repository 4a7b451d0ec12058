"""One sender at a time per database, across processes: an OS file lock beside the database.

The desktop app's timer, a scheduled ``kindly sync`` and a second window can all send from the
same data folder. The row claim in ``app.core.sending`` stops two of them posting the same reply
*after* one has posted, but not while a POST is in flight: the other reads back, finds nothing
yet, and would post again (networks without idempotency keys, such as Facebook and X). Holding
this lock for a whole sending round closes that window.

The lock is ``flock`` (POSIX) or ``msvcrt.locking`` (Windows) on ``<database>.sending-lock``:
the OS drops it when its holder exits or crashes, so a dead sender never blocks sending. Taking
it never waits: a sender that finds it held skips the round (``SenderBusy``). Each ``SenderLock``
opens its own descriptor, so two threads of one process exclude each other too.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

log = logging.getLogger(__name__)

SUFFIX = ".sending-lock"
BUSY_MESSAGE = (
    "Another Kindly (a second window or a scheduled sync) is sending replies from this data "
    "folder right now. Yours stay queued and go in the next round."
)


class SenderBusy(Exception):
    """Another sender holds the lock; ``user_message`` says so, ``holder`` who (if known)."""

    def __init__(self, holder: str) -> None:
        super().__init__(BUSY_MESSAGE)
        self.user_message = BUSY_MESSAGE
        self.holder = holder


def lock_path_for(database_file: Path) -> Path:
    return database_file.with_name(database_file.name + SUFFIX)


class SenderLock:
    """``with SenderLock(path):`` holds the lock or raises ``SenderBusy`` at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._held = False

    def acquire(self) -> bool:
        """Take the lock without waiting; False if another sender holds it.

        A folder or file system that cannot lock at all (read-only, some network shares) is
        logged and treated as taken: sending then relies on the row claim alone, as it did
        before this lock existed, rather than never sending.
        """
        if self._held:
            raise RuntimeError("this SenderLock is already held")
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            log.warning(
                "cannot open %s (%s): sending without the cross-process lock", self.path, error
            )
            self._held = True
            return True
        try:
            locked = _try_lock(fd)
        except OSError as error:
            log.warning(
                "cannot lock %s (%s): sending without the cross-process lock", self.path, error
            )
            locked = True
        if not locked:
            os.close(fd)
            return False
        self._fd, self._held = fd, True
        _write_holder(fd)
        return True

    def release(self) -> None:
        fd, self._fd, self._held = self._fd, None, False
        if fd is None:
            return
        try:
            _unlock(fd)
        except OSError as error:  # closing the descriptor below releases it anyway
            log.debug("unlocking %s: %s", self.path, error)
        finally:
            os.close(fd)

    def holder(self) -> str:
        """Who holds the lock, as its holder wrote it ("pid 123 on host since …"), or ""."""
        try:
            with open(self.path, "rb") as file:
                file.seek(1)  # byte 0 is the one locked on Windows
                return file.read(200).decode("utf-8", "replace").strip()
        except OSError:
            return ""

    def __enter__(self) -> SenderLock:
        if not self.acquire():
            raise SenderBusy(self.holder())
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.release()


def _write_holder(fd: int) -> None:
    """For the log of a sender that finds the lock taken; never needed for correctness."""
    since = datetime.now(UTC).isoformat(timespec="seconds")
    text = f" pid {os.getpid()} on {socket.gethostname()} since {since}\n".encode()
    try:
        os.lseek(fd, 1, os.SEEK_SET)
        os.write(fd, text)
        os.ftruncate(fd, 1 + len(text))
    except OSError as error:
        log.debug("cannot note the lock holder: %s", error)


if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except PermissionError:
            return False
        except OSError as error:
            if error.errno in (13, 36):  # EACCES, EDEADLOCK: locked by another handle
                return False
            raise
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
