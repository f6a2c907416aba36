"""Files that hold the service's data or secrets: readable by their owner only.

The database, its backups, the generated keys and the folders made to hold them are created
for the account the service runs as (files 0600, folders 0700), whatever the umask; a folder
that already exists is left as it is (it may be shared on purpose).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_dir(path: Path) -> None:
    """Create `path` (and any missing parents) readable by the owner only; leave an existing folder alone."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it first
            folder.mkdir(mode=PRIVATE_DIR)
            os.chmod(folder, PRIVATE_DIR)  # mkdir's mode passes through the umask


def private_file(path: Path) -> None:
    """Make sure `path` exists with mode 0600 (created empty if missing), before anything writes to it."""
    private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    if path.stat().st_mode & 0o077:
        os.chmod(path, PRIVATE_FILE)
