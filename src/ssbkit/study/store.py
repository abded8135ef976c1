"""Raw files kept by content: ``DIR/.ssbkit/objects/ab/<sha256><suffix>``.

A study's raw files are copied into the store when they are first seen, named by the
SHA-256 of their bytes, so a file that is edited, moved or deleted in the study folder is
never lost, and the same file named twice is stored once. Analyses read the stored copy, so
what they read is exactly what the hash says. The suffix (``.csv``, ``.xy``) is kept
because a few readers look at it after sniffing the content.

A copy is written to a temporary file in the same folder, flushed to disk and renamed, so
a run killed at any moment leaves either the whole file or none (a left-over temporary
file is removed by the next run).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from ssbkit.core.errors import InputError

__all__ = ["ObjectStore"]

_TMP_PREFIX = ".incoming-"


class ObjectStore:
    """The content-addressed copies of a study's raw files under ``root``.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> (folder / "a.csv").write_text("1,2\\n")
    4
    >>> store = ObjectStore(folder / "objects")
    >>> digest, stored = store.add(folder / "a.csv")
    >>> digest[:12], stored.suffix, stored.read_text() == "1,2\\n"
    ('sha256:52186', '.csv', True)
    >>> store.add(folder / "a.csv")[1] == stored   # the same bytes are stored once
    True
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path_for(self, digest: str, suffix: str) -> Path:
        """Where the bytes with ``digest`` (``sha256:<hex>``) and ``suffix`` are stored."""
        hexdigest = digest.removeprefix("sha256:")
        return self.root / hexdigest[:2] / f"{hexdigest}{suffix.lower()}"

    def add(self, source: str | os.PathLike[str]) -> tuple[str, Path]:
        """Store ``source`` (once) and give its digest and stored path.

        The bytes are hashed while they are copied, so the stored file is exactly the one
        the digest names even if ``source`` changes at the same time.
        """
        source = Path(source)
        self.root.mkdir(parents=True, exist_ok=True)
        handle, tmp_name = tempfile.mkstemp(prefix=_TMP_PREFIX, dir=self.root)
        tmp = Path(tmp_name)
        digest = hashlib.sha256()
        try:
            with os.fdopen(handle, "wb") as out, source.open("rb") as src:
                for block in iter(lambda: src.read(1 << 20), b""):
                    digest.update(block)
                    out.write(block)
                out.flush()
                os.fsync(out.fileno())
            # mkstemp makes 0600; a stored copy is as readable as any file here (workers of a
            # cluster may run as another user on the shared file system)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
            name = "sha256:" + digest.hexdigest()
            target = self.path_for(name, source.suffix)
            if target.exists():
                tmp.unlink()
            else:
                target.parent.mkdir(exist_ok=True)
                os.replace(tmp, target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise InputError(f"cannot store file: {exc.strerror or exc}", source=source) from None
        return name, target

    def has(self, digest: str, suffix: str) -> bool:
        """True when the bytes with ``digest`` are stored."""
        return self.path_for(digest, suffix).is_file()

    def clean(self) -> int:
        """Remove temporary files a killed run left behind; give how many."""
        if not self.root.is_dir():
            return 0
        stale = list(self.root.glob(f"{_TMP_PREFIX}*"))
        for path in stale:
            path.unlink(missing_ok=True)
        return len(stale)

    def export(self, digest: str, suffix: str, destination: str | os.PathLike[str]) -> Path:
        """Copy a stored file out (to recover a raw file deleted from the study folder)."""
        source = self.path_for(digest, suffix)
        if not source.is_file():
            raise InputError(f"no stored file with {digest}", source=self.root)
        return Path(shutil.copy2(source, destination))
