"""Writes that never lose data: one file (``derive export -o``) or a whole site (``derive docs``).

Rules, for every file derive writes:

* **Atomic.** The text goes to a temporary file in the same folder, is flushed to
  disk, then renamed over the target (:func:`os.replace`). An interruption, a
  full disk or a file-size limit leaves the old file as it was, never a truncated
  one; a failed write removes its temporary file.
* **Never someone else's file.** An existing file is replaced only when derive
  wrote it: an exported module starts with :data:`MARKER` (:func:`mark_generated`),
  a site's files are listed in its manifest. Anything else needs ``force``.
* **Never through a symbolic link.** A target that is a link is refused; with
  ``force`` the link itself is replaced by a regular file (its target is left
  untouched).
* **Modes follow the umask** for new files (``0o666 & ~umask``); a file derive
  replaces keeps its mode.

A site (:func:`write_site`) is switched with a redo journal. Every changed file is
first written into the hidden folder :data:`STAGING` inside the output folder;
then the commit record (:data:`COMMIT`: what to move) is written atomically —
the commit point; then the staged files are renamed into place, manifest last.
Before the commit point an interruption leaves the old site (the staging folder is
removed, or thrown away by the next run); after it, SIGINT does not stop the
renames, and after SIGKILL the next ``derive docs`` into that folder finishes
them (:func:`recover`) before doing anything else.

Test hook: ``DERIVE_FAILPOINT="stage:3"`` makes the process stop (sleep until a
signal) at the 3rd ``stage`` point, after printing ``derive: failpoint stage:3``
on stderr; ``stage:3=fail`` raises a "no space left" error there instead. Points:
``export`` (temporary file written, before the rename), ``stage`` (after each
staged file), ``commit`` (after the commit record), ``switch`` (after each rename).

>>> mark_generated('import numpy as np\\n').splitlines()[0] == MARKER
True
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import stat
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

from .errors import DeriveError

__all__ = ["MARKER", "MANIFEST", "STAGING", "COMMIT", "mark_generated", "is_generated",
           "write_atomic", "write_file", "ready_folder", "read_manifest", "write_site",
           "recover"]

MARKER = "# Written by `derive export`: derive replaces this file only while this line is first."
MANIFEST = ".derive-manifest.json"
STAGING = ".derive-staging"
COMMIT = "COMMIT.json"
TMP_SUFFIX = ".derive-tmp"


def mark_generated(source: str) -> str:
    """The module text with :data:`MARKER` as its first line (once)."""
    return source if source.startswith(MARKER + "\n") else MARKER + "\n" + source


def is_generated(path) -> bool:
    """Does the file at ``path`` start with :data:`MARKER` (so ``derive export`` wrote it)?"""
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(MARKER) + 2)
    except OSError:
        return False
    return head.replace(b"\r\n", b"\n").startswith(MARKER.encode() + b"\n")


# --- one file ------------------------------------------------------------------------

def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _mode_for(path: Path) -> int:
    """The mode of the regular file being replaced, or ``0o666 & ~umask`` for a new one."""
    try:
        st = os.lstat(path)
    except OSError:
        return 0o666 & ~_umask()
    if stat.S_ISREG(st.st_mode):
        return stat.S_IMODE(st.st_mode)
    return 0o666 & ~_umask()


@contextmanager
def _no_sigxfsz():
    """Over a file-size limit (``ulimit -f``) a write fails with EFBIG instead of killing us."""
    if not hasattr(signal, "SIGXFSZ") or threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGXFSZ, old)


def _write_fd(fd: int, data: bytes, mode: int) -> None:
    os.fchmod(fd, mode)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.fsync(fd)


def _unlink(path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def write_atomic(path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file in the same folder.

    The caller decides whether ``path`` may be replaced; this only makes the
    replacement all-or-nothing. Raises :class:`OSError` (nothing changed) on failure.
    """
    path = Path(path)
    mode = _mode_for(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TMP_SUFFIX)
    try:
        with _no_sigxfsz():
            _write_fd(fd, text.encode("utf-8"), mode)
        os.close(fd)
        fd = -1
        failpoint("export")
        os.replace(tmp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        _unlink(tmp)
        raise


def _stale_temporaries(path: Path) -> list:
    """Temporary files a killed earlier write to ``path`` left behind."""
    prefix = f".{path.name}."
    try:
        return [p for p in path.parent.iterdir()
                if p.name.startswith(prefix) and p.name.endswith(TMP_SUFFIX)]
    except OSError:
        return []


def _strerror(exc: OSError) -> str:
    return exc.strerror or str(exc)


def write_file(path, text: str, *, force: bool = False, owned=is_generated,
               label: str = "-o") -> None:
    """Write one file safely; refuse links and files derive did not write (``owned``).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "mine.py"
    >>> _ = p.write_text("my own work\\n")
    >>> write_file(p, mark_generated("x = 1\\n"))
    Traceback (most recent call last):
    ...
    derive.errors.DeriveError: -o ...mine.py: the file exists and derive did not write it (its first line is not derive's marker); move it away or pass --force to replace it
    """
    path = Path(path)
    where = f"{label} {path}"
    folder = path.absolute().parent
    if not folder.is_dir():
        raise DeriveError(f"{where}: folder {folder} does not exist")
    if path.is_symlink():
        if not force:
            raise DeriveError(f"{where} is a symbolic link (to {os.readlink(path)}); derive does "
                              "not write through links: pass --force to replace the link itself "
                              "with the file (its target is left as it is)")
    elif path.is_dir():
        raise DeriveError(f"{where} is a folder; give a file name")
    elif path.exists() and not force and not owned(path):
        raise DeriveError(f"{where}: the file exists and derive did not write it (its first line "
                          "is not derive's marker); move it away or pass --force to replace it")
    existed = path.exists() or path.is_symlink()
    for stale in _stale_temporaries(path):
        _unlink(stale)
    try:
        write_atomic(path, text)
    except OSError as exc:
        kept = "the old file is unchanged" if existed else "nothing was written"
        raise DeriveError(f"cannot write {path}: {_strerror(exc)}; {kept}") from None


# --- a site ----------------------------------------------------------------------------

def ready_folder(out) -> Path:
    """Create ``out`` if needed and make sure it can be written (before any work is done)."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DeriveError(f"cannot create the output folder {out}: {_strerror(exc)}") from None
    if not out.is_dir():
        raise DeriveError(f"{out} is not a folder")
    if not os.access(out, os.W_OK | os.X_OK):
        raise DeriveError(f"cannot write into {out}: permission denied")
    return out


def read_manifest(out, manifest: str = MANIFEST) -> set:
    """The names listed in the folder's manifest (empty when there is none)."""
    path = Path(out) / manifest
    if not path.exists():
        return set()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return set(data["files"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DeriveError(f"{path}: not a manifest written by derive docs ({exc}); "
                          "remove it or choose another --out") from None


def _same(path: Path, data: bytes) -> bool:
    try:
        return not path.is_symlink() and path.is_file() and path.read_bytes() == data
    except OSError:
        return False


def write_site(out, files: dict, *, force: bool = False, manifest: str = MANIFEST,
               generator: str = "derive docs") -> list:
    """Write ``files`` (name → text) into the folder ``out`` as one switch; return the names.

    Refuses, before writing anything, files that are not in the manifest (unless
    ``force``) and symbolic links (unless ``force``: the link is replaced).
    """
    out = ready_folder(out)
    bad = [n for n in files if os.sep in n or n in (STAGING, manifest) or n.startswith(".")]
    if bad:
        raise DeriveError(f"cannot write {', '.join(bad)}: not a plain file name")
    try:
        recover(out, manifest)
    except OSError as exc:
        raise DeriveError(f"cannot finish the interrupted write in {out}: "
                          f"{_strerror(exc)}") from None
    ours = read_manifest(out, manifest)
    links = sorted(n for n in files if (out / n).is_symlink())
    if links and not force:
        raise DeriveError(f"{out} has symbolic links where derive writes: {', '.join(links)}; "
                          "derive does not write through links: remove them or pass --force "
                          "to replace the links themselves")
    foreign = sorted(n for n in files
                     if n not in ours and (out / n).exists() and not (out / n).is_symlink())
    if foreign and not force:
        raise DeriveError(f"{out} has files derive did not write: {', '.join(foreign)}; "
                          "move them away or pass --force to overwrite them")
    data = {n: text.encode("utf-8") for n, text in files.items()}
    listing = json.dumps({"generator": generator, "files": sorted(ours | set(files))},
                         indent=1) + "\n"
    data[manifest] = listing.encode("utf-8")
    changed = [n for n in sorted(data) if not _same(out / n, data[n])]
    if changed:
        _stage(out, data, changed, manifest)
        try:
            _switch(out)
        except OSError as exc:
            raise DeriveError(f"cannot finish writing into {out}: {_strerror(exc)}; run the "
                              "same command again to finish") from None
    return sorted(files)


def _stage(out: Path, data: dict, changed: list, manifest: str) -> None:
    """Everything that changes into the staging folder, then the commit record."""
    stage = out / STAGING
    moves = [n for n in changed if n != manifest] + [manifest] * (manifest in changed)
    try:
        stage.mkdir()
        with _no_sigxfsz():
            for name in moves:
                fd = os.open(stage / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                try:
                    _write_fd(fd, data[name], _mode_for(out / name))
                finally:
                    os.close(fd)
                failpoint("stage")
            record = json.dumps({"moves": moves}).encode("utf-8")
            fd, tmp = tempfile.mkstemp(dir=stage, suffix=TMP_SUFFIX)
            try:
                _write_fd(fd, record, 0o600)
            finally:
                os.close(fd)
        os.replace(tmp, stage / COMMIT)     # the commit point
    except BaseException as exc:
        shutil.rmtree(stage, ignore_errors=True)
        if isinstance(exc, OSError):
            raise DeriveError(f"cannot write into {out}: {_strerror(exc)}; the folder is "
                              "unchanged") from None
        raise


def _switch(out: Path) -> None:
    """Rename the committed staged files into place; SIGINT waits until the end."""
    stage = out / STAGING
    moves = json.loads((stage / COMMIT).read_text(encoding="utf-8"))["moves"]
    pending = None
    try:
        failpoint("commit")
    except KeyboardInterrupt as exc:
        pending = exc
    for name in moves:
        while True:
            try:
                if (stage / name).exists():
                    os.replace(stage / name, out / name)
                break
            except KeyboardInterrupt as exc:   # finish the switch first
                pending = exc
        try:
            failpoint("switch")
        except KeyboardInterrupt as exc:
            pending = exc
    while True:
        try:
            os.unlink(stage / COMMIT)
            shutil.rmtree(stage, ignore_errors=True)
            break
        except KeyboardInterrupt as exc:
            pending = exc
    if pending is not None:
        raise pending


def recover(out, manifest: str = MANIFEST) -> bool:
    """Finish (after the commit point) or throw away (before it) an interrupted site write.

    Returns True when there was something to do.
    """
    stage = Path(out) / STAGING
    if not (stage.exists() or stage.is_symlink()):
        return False
    if stage.is_symlink() or not stage.is_dir():
        raise DeriveError(f"{stage} is not derive's staging folder; remove it and run again")
    if (stage / COMMIT).exists():
        _switch(Path(out))
    else:
        shutil.rmtree(stage)
    return True


# --- the test hook -------------------------------------------------------------------------

_HITS: Counter = Counter()


def failpoint(name: str) -> None:
    """Stop here when ``DERIVE_FAILPOINT`` names this point (see the module docstring)."""
    spec = os.environ.get("DERIVE_FAILPOINT")
    if not spec:
        return
    _HITS[name] += 1
    for item in spec.split(","):
        where, _, action = item.strip().partition("=")
        point, _, count = where.partition(":")
        if point != name or _HITS[name] != int(count or 1):
            continue
        if action == "fail":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        print(f"derive: failpoint {point}:{count or 1}", file=sys.stderr, flush=True)
        while True:
            time.sleep(3600)
