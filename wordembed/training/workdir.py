"""A run's working folder, OUT.work: the encoded corpus, the checkpoint and a lock that keeps a
second run off them while this one works. In a distributed run it is rank 0's; every other rank
keeps its shard of the encoded corpus in a folder of its own inside it (rank-N)."""
import contextlib
import fcntl
import os

from ..errors import TrainingError

WORK_FILES = ("checkpoint.pt", "corpus.ids", "corpus.starts", "lock")  # all a run puts in OUT.work


class WorkDir:
    def __init__(self, path, rank=0):
        self.path = os.fspath(path)
        self.own = self.path if rank == 0 else os.path.join(self.path, f"rank-{rank}")
        self._lock = None

    @property
    def checkpoint_path(self):
        return os.path.join(self.path, "checkpoint.pt")

    @property
    def corpus_prefix(self):
        """Where this process keeps its encoded corpus (P.ids and P.starts)."""
        return os.path.join(self.own, "corpus")

    @property
    def taken(self) -> bool:
        return self._lock is not None

    def take(self):
        """Creates this process's folder and locks it for this run (released when the process
        ends, however it ends)."""
        if self._lock is not None:
            return
        try:
            os.makedirs(self.own, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise TrainingError(f"{self.own} exists and is not a folder: it is where training keeps its "
                                "working files; move it away or choose another output") from None
        lock = open(os.path.join(self.own, "lock"), "a+")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise TrainingError(f"another run is training into {self.own}: wait for it to end, or choose "
                                "another output") from None
        self._lock = lock

    def release(self):
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def cleanup(self):
        """Removes this run's files, and the folders if nothing else is in them: never a file that
        training did not make."""
        for name in WORK_FILES:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(self.own, name))
        self.release()
        for folder in dict.fromkeys((self.own, self.path)):  # a rank's own folder first, then the run's
            with contextlib.suppress(OSError):
                os.rmdir(folder)
