"""Files in and out, safely: atomic writes that keep links, modes and special files, a guard
against writing over an input, and text read in bounded pieces (a corpus may be one enormous
line)."""
import contextlib
import errno
import fcntl
import hashlib
import os
import stat
import tempfile

import torch

_TMP_SUFFIX = ".tmp"


def _umask() -> int:
    # Reading the umask through os.umask means setting it, which races with other threads;
    # Linux shows it in /proc (4.7 and later).
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _temporary_prefix(path) -> str:
    return "." + os.path.basename(path) + "."


def _remove_stale_temporaries(path) -> None:
    """Deletes the temporaries that earlier, killed, saves of `path` left behind. Their names hold
    the writer's process id: a live writer's file is left alone."""
    folder, prefix = os.path.dirname(path), _temporary_prefix(path)
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(_TMP_SUFFIX)):
            continue
        pid = name[len(prefix):-len(_TMP_SUFFIX)].split(".")[0]
        if not pid.isdigit() or int(pid) == os.getpid() or _process_alive(int(pid)):
            continue
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(folder, name))


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _fsync_folder(folder) -> None:
    """Makes a rename in `folder` survive a power cut, not only a killed process."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a folder; the rename itself stands
    finally:
        os.close(fd)


def resolve_output(path) -> str:
    """The file a write to `path` must change: a link is followed to its target, as open() does."""
    path = os.fspath(path)
    if not path:
        raise ValueError("the output path is empty")
    return os.path.realpath(path)


def special_output(path) -> bool:
    """Whether `path` (or what a link there points to) exists and is neither a regular file nor a
    folder: a device such as /dev/null, a named pipe, /dev/stdout. Such an output is written in
    place: renaming a new file over it would replace the device or the pipe."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _refuse_special(path, what) -> None:
    mode = os.stat(path).st_mode
    if stat.S_ISBLK(mode):
        raise ValueError(f"the {what} {os.fspath(path)!r} is a block device (a disk): name a file to write")
    if stat.S_ISSOCK(mode):
        raise ValueError(f"the {what} {os.fspath(path)!r} is a socket: name a file to write")


@contextlib.contextmanager
def _write_in_place(path, mode):
    """The open special file (see special_output). A pipe nobody reads is an error, not a wait."""
    _refuse_special(path, "output")
    flags = os.O_WRONLY | (os.O_NONBLOCK if stat.S_ISFIFO(os.stat(path).st_mode) else 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if e.errno == errno.ENXIO:
            raise ValueError(f"the output {os.fspath(path)!r} is a pipe that nothing reads") from None
        raise
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    with os.fdopen(fd, mode) as f:
        yield f


def check_output_path(path, what="output") -> str:
    """ValueError (or FileNotFoundError) now, before any work, for an output that a write would
    fail on at the end: an empty path, a folder, a folder that does not exist or cannot be
    written, a disk or a socket. Returns the file a write will change."""
    if special_output(path):
        _refuse_special(path, what)
        return os.fspath(path)
    target = resolve_output(path)
    if os.path.isdir(target):
        raise ValueError(f"the {what} {os.fspath(path)!r} is a folder: name a file to write")
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"the {what} {os.fspath(path)!r} cannot be written: its folder {folder} "
                                "does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(f"the {what} {os.fspath(path)!r} cannot be written: no permission to write in "
                              f"{folder}")
    return target


@contextlib.contextmanager
def atomic_write(path, mode="wb", durable=True):
    """Yields a file object; on success the file replaces `path` at once, on error it vanishes.

    A link is followed (its target is replaced, the link stays), the new file gets the mode of the
    file it replaces or, for a new file, the mode the umask gives, as open() would; temporaries of
    `path` left by a killed save are removed first. durable=True also syncs the file and the
    rename to disk, so that they survive a power cut, not only a killed process. A device or a
    pipe (special_output) is written in place instead, as open() would."""
    if special_output(path):
        with _write_in_place(path, mode) as f:
            yield f
        return
    target = resolve_output(path)
    folder = os.path.dirname(target)
    _remove_stale_temporaries(target)
    try:
        file_mode = os.stat(target).st_mode & 0o7777
    except FileNotFoundError:
        file_mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f"{_temporary_prefix(target)}{os.getpid()}.", suffix=_TMP_SUFFIX,
                               dir=folder)
    try:
        os.fchmod(fd, file_mode)
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.replace(tmp, target)
        if durable:
            _fsync_folder(folder)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError) and e.filename is None and e.errno is not None:
            raise OSError(e.errno, e.strerror, target) from None  # say which file could not be written
        raise


@contextlib.contextmanager
def atomic_files(folder):
    """Yields a temporary folder beside `folder` to write several files in; on success they all
    move into `folder` (made if missing) at once, on error none does and the temporary folder
    vanishes. Files of `folder` that were not written stay as they are."""
    folder = os.path.realpath(os.fspath(folder))
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise ValueError(f"{folder} exists and is not a folder")
    parent = os.path.dirname(folder)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{os.path.basename(folder)}.{os.getpid()}.", suffix=_TMP_SUFFIX, dir=parent)
    try:
        os.chmod(staging, 0o777 & ~_umask())  # as os.makedirs would make it
        yield staging
        for name in os.listdir(staging):
            with open(os.path.join(staging, name), "rb") as f:
                os.fsync(f.fileno())
        try:
            os.rename(staging, folder)  # a new folder: in whole, in one step
        except OSError:  # it exists: each file in one step, after every file is complete
            for name in os.listdir(staging):
                os.replace(os.path.join(staging, name), os.path.join(folder, name))
        _fsync_folder(parent)
    finally:
        if os.path.isdir(staging):
            for name in os.listdir(staging):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(staging, name))
            with contextlib.suppress(OSError):
                os.rmdir(staging)


class _WriteErrorRecorder:
    """A file's write(), remembering the OSError it raised: torch.save turns it into a
    RuntimeError about zip positions, and the user should see the real cause (a full disk)."""

    def __init__(self, file):
        self.file, self.error = file, None

    def write(self, data):
        try:
            return self.file.write(data)
        except OSError as e:
            self.error = self.error or e
            raise

    def flush(self):
        return self.file.flush()


def save_torch(obj, path) -> None:
    """torch.save through atomic_write; a failed write raises the OSError that caused it."""
    with atomic_write(path) as f:
        writer = _WriteErrorRecorder(f)
        try:
            torch.save(obj, writer)
        except RuntimeError as e:
            if writer.error is not None:
                raise writer.error from None
            raise OSError(f"could not write {os.fspath(path)}: {e}") from None


def same_file(a, b) -> bool:
    """Whether two paths name one file: the same path, a link to it, or a hard link."""
    a, b = os.fspath(a), os.fspath(b)
    try:
        return os.path.samefile(a, b)
    except OSError:  # one does not exist (yet): compare where writing would go
        return os.path.realpath(a) == os.path.realpath(b)


def refuse_overwriting_inputs(inputs, outputs) -> None:
    """ValueError if an output would replace an input (or another output): nothing a user wrote
    may be lost to a slip on the command line."""
    named = [(what, os.fspath(p)) for what, p in inputs]
    for what, out in outputs:
        out = os.fspath(out)
        if not out:
            raise ValueError(f"the {what} path is empty")
        for other_what, other in named:
            if same_file(out, other):
                raise ValueError(f"the {what} {out!r} is the {other_what} {other!r}: writing it would "
                                 f"destroy the {other_what}; choose another path")
        named.append((what, out))


def fingerprint(*paths) -> str:
    """A digest of the files' sizes and bytes: tells whether a corpus changed between two runs."""
    digest = hashlib.blake2b(digest_size=16)
    block = bytearray(1 << 20)  # read into one buffer: no new block of memory per read
    view = memoryview(block)
    for path in paths:
        with open(path, "rb") as f:
            digest.update(os.fstat(f.fileno()).st_size.to_bytes(8, "little"))
            while size := f.readinto(block):
                digest.update(view[:size])
    return digest.hexdigest()


def check_input_file(path, what) -> None:
    """A clear error unless `path` is a regular file (or a link to one): FileNotFoundError for
    nothing there, IsADirectoryError for a folder, ValueError for a pipe, a device or a socket
    (a pipe read once is gone, and a device may never end)."""
    path = os.fspath(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} file not found: {os.fsdecode(path)}") from None
    except OSError as e:
        raise OSError(e.errno, f"{what} file cannot be read: {e.strerror}", path) from None
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"the {what} file {os.fsdecode(path)!r} is a folder: name a file")
    if not stat.S_ISREG(mode):
        kind = "a named pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
        raise ValueError(f"the {what} file {os.fsdecode(path)!r} is {kind}, not a file: save it to a file first")


def read_lines(path, what="text"):
    """Lines of a UTF-8 text file as str (bad bytes become U+FFFD); a clear error for a missing path."""
    path = os.fspath(path)
    check_input_file(path, what)
    with open(path, "r", encoding="utf-8", errors="replace", newline="\n") as f:
        yield from f


PIECE_CHARS = 1 << 20  # characters read at a time


def read_token_pieces(path, piece_chars=PIECE_CHARS):
    """The whitespace tokens of a UTF-8 text file, line by line, in pieces of bounded size:
    yields (tokens, line_ends). A line is one or more pieces, the last with line_ends True, and
    its tokens are those of line.split(); a line of any length never sits in memory whole
    (only a single token longer than a piece does)."""
    path = os.fspath(path)
    check_input_file(path, "corpus")
    with open(path, "r", encoding="utf-8", errors="replace", newline="\n") as f:
        pending = ""  # the start of a line whose end is not read yet
        open_line = False  # pieces of the pending line were given out already
        while True:
            block = f.read(piece_chars)
            if not block:
                break
            lines = (pending + block).split("\n")
            pending = lines.pop()
            for line in lines:
                yield line.split(), True
                open_line = False
            if len(pending) >= piece_chars:  # a long line: give out its complete tokens now
                tokens = pending.split()
                pending = "" if pending[-1].isspace() else tokens.pop()
                open_line = True
                if tokens:
                    yield tokens, False
        if pending or open_line:  # the last line, with no line break after it
            yield pending.split(), True
