r"""Private folders and files for patient data, written and deleted without following links.

Everything rehabbot writes outside its store (exports, a patient's copy of their record,
reports) holds health data, and erasure later deletes it. Three rules hold here:

* **Folders are created owner-only** (mode 0o700, whatever the umask), every missing level of
  them (:func:`make_private_dirs`).
* **Nothing is written through a symbolic link**: files are moved into place from a private
  staging folder by ``rename`` on folder descriptors opened with ``O_NOFOLLOW``
  (:func:`move_into`); a link where a file or folder would go is refused, not followed.
* **Nothing is deleted outside its folder**: :func:`unlink_beneath` walks from the recorded root
  folder one component at a time with ``O_NOFOLLOW``, so that a link planted after an export
  (``session_1.csv`` → ``/home/x/thesis.tex``, or a folder swapped for a link) makes erasure
  stop with an error instead of deleting the link's target.

Paths are absolute; a file's place below its root is its path relative to the root. A file
written outside the store is made owner-only (mode 0o600) before its data goes in, and removed if
the writing fails (:func:`private_file`, :func:`write_private_text`): exporters and reports use
them, and their failures are :class:`~rehabbot.errors.ExportError`\ s.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rehabbot.errors import ExportError, StorageError, shorten

STORE_ENV_VAR = "REHABBOT_STORE"
"""The environment variable naming the session store file (``--store`` overrides it)."""

#: Mode of every folder rehabbot creates for patient data (owner only).
DIR_MODE = 0o700
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def make_private_dirs(folder: Path) -> list[Path]:
    """Create ``folder`` and every missing parent with mode 0o700; return those created.

    Existing folders are left as they are (a user's home folder keeps its mode).

    Raises:
        OSError: a level cannot be created (a file in the way, no permission, ...).
    """
    missing = []
    for level in [folder, *folder.parents]:
        if level.is_dir():
            break
        missing.append(level)
    created = []
    for level in reversed(missing):
        try:
            os.mkdir(level, DIR_MODE)
        except FileExistsError:
            if not level.is_dir():
                raise
            continue
        os.chmod(level, DIR_MODE)  # exactly 0o700 whatever the umask took away
        created.append(level)
    return created


def relative_parts(path: Path, root: Path) -> tuple[str, ...]:
    """The components of ``path`` below ``root``, checked without touching the disk.

    Raises:
        StorageError: ``path`` is not strictly inside ``root`` (``..`` is not allowed).
    """
    parts = path.parts[len(root.parts):]
    if path.parts[:len(root.parts)] != root.parts or not parts or ".." in parts:
        raise StorageError(f"{path} is not inside its folder {root}; rehabbot touches files in "
                           "the folders it wrote to only")
    return parts


@contextmanager
def _folder_fd(root: Path, parts: tuple[str, ...], *, create: bool) -> Iterator[int]:
    """A descriptor of the folder ``root/parts...``, opened one level at a time without
    following links; missing levels are created 0o700 if ``create``.

    Raises:
        OSError: ELOOP or ENOTDIR where a level is a link or a file, ENOENT where one is missing.
    """
    fd = os.open(root, _DIR_FLAGS)
    try:
        for name in parts:
            made = False
            if create:
                try:
                    os.mkdir(name, DIR_MODE, dir_fd=fd)
                    made = True
                except FileExistsError:
                    pass
            child = os.open(name, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
            if made:
                os.fchmod(fd, DIR_MODE)  # exactly 0o700 whatever the umask took away
        yield fd
    finally:
        os.close(fd)


def _refused(path: Path, exc: OSError) -> StorageError:
    if exc.errno in (errno.ELOOP, errno.ENOTDIR):
        return StorageError(f"{path}: a symbolic link (or a file) is where a folder or file of "
                            "rehabbot's should be; rehabbot never writes or deletes through "
                            "links: remove the link or choose another folder")
    return StorageError(f"{path}: {exc.strerror or exc}; check the folder's permissions")


def move_into(staging: Path, root: Path, moved: list[Path], created: list[Path]) -> None:
    """Move every file of the ``staging`` tree to the same place below ``root``.

    Folders below ``root`` are created 0o700 as needed; a destination that is a symbolic link
    (or a folder in the way) is refused before anything is moved, and an existing regular file
    is replaced by ``rename`` (atomic: never half-written, never its old permissions).

    Args:
        staging: the folder holding the files.
        root: where they go.
        moved: gets each file's new place as soon as it is moved, in name order.
        created: gets each folder created below ``root``.

    Raises:
        StorageError: a destination or a folder on the way is a link, or a move fails; files
            moved before stay moved, and are in ``moved`` (the caller records them).
    """
    files = sorted(p for p in staging.rglob("*") if p.is_file() and not p.is_symlink())
    plan = [(f, root.joinpath(*relative_parts(f, staging))) for f in files]
    for _, target in plan:
        try:
            mode = os.lstat(target).st_mode
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise _refused(target, exc) from None
        if not stat.S_ISREG(mode):
            raise _refused(target, OSError(errno.ELOOP, "not a regular file"))
    for source, target in plan:
        parts = relative_parts(target, root)
        for depth in range(1, len(parts)):
            folder = root.joinpath(*parts[:depth])
            if folder not in created and not os.path.lexists(folder):
                created.append(folder)
        try:
            with _folder_fd(root, parts[:-1], create=True) as fd:
                if stat.S_ISLNK(_lstat_at(parts[-1], fd)):
                    raise OSError(errno.ELOOP, "symbolic link")
                os.rename(source, parts[-1], dst_dir_fd=fd)
        except OSError as exc:
            raise _refused(target, exc) from None
        moved.append(target)


def _lstat_at(name: str, dir_fd: int) -> int:
    """The mode of ``name`` in the folder ``dir_fd`` without following it; 0 if absent."""
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return 0


def unlink_beneath(path: Path, root: Path) -> bool:
    """Delete the file ``path`` inside ``root`` without following any link; False if absent.

    A symbolic link at ``path`` is deleted itself (never its target); a link in place of a
    folder between ``root`` and ``path`` stops the deletion.

    Raises:
        StorageError: ``path`` is outside ``root``, a folder on the way is a link, or the file
            cannot be deleted.
    """
    parts = relative_parts(path, root)
    try:
        with _folder_fd(root, parts[:-1], create=False) as fd:
            if stat.S_ISDIR(_lstat_at(parts[-1], fd)):
                raise OSError(errno.EISDIR, "a folder where a file was written")
            os.unlink(parts[-1], dir_fd=fd)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise _refused(path, exc) from None
    return True


def remove_tree_beneath(folder: Path, root: Path) -> None:
    """Delete the folder ``folder`` inside ``root`` with all it holds, following no link.

    A missing folder is fine. ``shutil.rmtree`` works on descriptors on Linux (it resists
    links swapped in while it runs) and refuses a link in place of ``folder``.

    Raises:
        StorageError: ``folder`` is outside ``root``, is a link, or cannot be deleted.
    """
    relative_parts(folder, root)
    try:
        if stat.S_ISLNK(os.lstat(folder).st_mode):
            raise OSError(errno.ELOOP, "symbolic link")
        shutil.rmtree(folder)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise _refused(folder, exc) from None


def remove_empty_folders(folder: Path, root: Path, *, remove_root: bool) -> list[Path]:
    """Remove ``folder`` and the folders above it while empty, up to ``root`` (``root`` itself
    only if ``remove_root``); return those removed.

    ``rmdir`` never follows a link and removes only empty folders; the first one that is not
    empty (or not removable), and anything outside ``root``, ends the walk.
    """
    removed = []
    while root in folder.parents or (folder == root and remove_root):
        try:
            os.rmdir(folder)
        except OSError:
            break
        removed.append(folder)
        folder = folder.parent
    return removed


#: Mode of every file written outside the store: owner read/write only (the files hold health
#: data).
FILE_MODE = 0o600


@contextmanager
def private_file(path: Path) -> Iterator[Path]:
    """Make ``path`` an owner-only file (mode 0o600) for a writer to fill; remove it on failure.

    A new file is created empty with mode 0o600, an existing regular file is set to that mode
    first, so that the data is never readable by others, even while it is written; writers
    that truncate and rewrite the file (ezc3d, ``open(..., "w")``) keep the mode. A symbolic
    link at ``path`` is refused (``O_NOFOLLOW``), never written through nor chmodded. If the
    writer fails, a file this call created, or an existing one the writer changed, is deleted:
    no empty or partial file stays behind.

    Raises:
        ExportError: ``path`` is a link or not a regular file, or the file cannot be created or
            written (the writer's OSError).
    """
    flags = os.O_NOFOLLOW | os.O_CLOEXEC
    new = True
    try:
        try:
            fd = os.open(path, flags | os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        except FileExistsError:
            new = False
            fd = os.open(path, flags | os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise ExportError(f"cannot write {shorten(str(path))}: it is not a regular file; "
                              "choose another file name")
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    try:
        yield path
    except BaseException as exc:
        _remove_if_changed(path, before, new)
        if isinstance(exc, OSError):
            raise _cannot_write(path, exc) from None
        raise


def _remove_if_changed(path: Path, before: os.stat_result, new: bool) -> None:
    """Delete ``path`` if it was made by a failed writer (new) or changed since ``before``."""
    try:
        now = os.lstat(path)
    except OSError:
        return
    changed = (now.st_size, now.st_mtime_ns, now.st_ino) != (
        before.st_size, before.st_mtime_ns, before.st_ino)
    if stat.S_ISREG(now.st_mode) and (new or changed):
        path.unlink(missing_ok=True)


def _cannot_write(path: Path, exc: OSError) -> ExportError:
    if exc.errno == errno.ELOOP:
        return ExportError(f"cannot write {shorten(str(path))}: it is a symbolic link, and "
                           "rehabbot never writes through links; remove it or choose another "
                           "folder")
    return ExportError(f"cannot write {shorten(str(path))}: {exc.strerror or exc}; check the "
                       "folder's permissions and free space")


def write_private_text(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to an owner-only file and return its path.

    Raises:
        ExportError: the file cannot be written.
    """
    with private_file(path):
        path.write_text(text, encoding="utf-8")
    return path
