"""A model store in a plain directory, with the same layout as the Azure container.

For a newcomer's machine (no cloud account) and for tests. Writes go to a temporary file in the
target directory first and are then renamed into place, so a reader never sees half a file.
"""
import fcntl
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from catmodel.delivery.errors import (
    AccessDenied,
    AlreadyExists,
    Conflict,
    NotFound,
    StoreFailure,
    StoreMissing,
)
from catmodel.delivery.store_base import ChunkWriter, ProgressHook, Store, pump

_CHUNK = 1024 * 1024


class LocalDirectoryStore(Store):
    def __init__(self, root: Path, prefix: str = ""):
        self.root = Path(root)
        self.prefix = prefix
        self.description = f"local model store {self.root}"

    def _path(self, key: str) -> Path:
        return self.root / self.full_key(key)

    @contextmanager
    def _errors(self, action: str, key: str):
        """OS errors as delivery errors that say which file and what to do."""
        try:
            yield
        except FileNotFoundError:
            if not self.root.is_dir():
                raise StoreMissing(
                    f"{self.description} does not exist: check MODEL_STORE, or publish a model "
                    "into it first (manage.py publish_model PACKAGE_DIR)"
                ) from None
            raise NotFound(f"{self.full_key(key)} is not in {self.description}", key) from None
        except PermissionError:
            raise AccessDenied(
                f"permission denied when {action} {self._path(key)}: fix the permissions of "
                f"{self.root}, or run as a user who may {action.split()[0]} it"
            ) from None
        except OSError as exc:
            raise StoreFailure(
                f"{action} {self._path(key)} failed: {exc.strerror}; check the disk holding "
                f"{self.root}"
            ) from None

    def ensure_container(self) -> None:
        with self._errors("creating", ""):
            self.root.mkdir(parents=True, exist_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def read_small(self, key: str, limit: int) -> tuple[bytes, str]:
        with self._errors("reading", key), open(self._path(key), "rb") as stream:
            data = stream.read(limit + 1)
            etag = _etag(os.fstat(stream.fileno()))
        if len(data) > limit:
            raise StoreFailure(f"{self.full_key(key)} is larger than {limit} bytes; it is not "
                               "what publish_model writes there")
        return data, etag

    def download(self, key: str, write: ChunkWriter, progress: ProgressHook | None = None) -> int:
        with self._errors("reading", key), open(self._path(key), "rb") as stream:
            total = os.fstat(stream.fileno()).st_size
            return pump(_chunks(stream), total, write, progress)

    def upload(self, key: str, source: Path | bytes, *, overwrite: bool,
               progress: ProgressHook | None = None) -> None:
        target = self._path(key)
        with self._errors("writing", key):
            target.parent.mkdir(parents=True, exist_ok=True)
            with _staged_file(target) as (staged, out):
                _copy(source, out, progress)
                if overwrite:
                    os.replace(staged, target)
                else:
                    try:
                        # link() refuses an existing name: create-if-absent in one step.
                        os.link(staged, target)
                    except FileExistsError:
                        raise AlreadyExists(
                            f"{self.full_key(key)} already exists in {self.description}"
                        ) from None

    def put_if_unchanged(self, key: str, data: bytes, etag: str | None) -> None:
        target = self._path(key)
        with self._errors("writing", key):
            target.parent.mkdir(parents=True, exist_ok=True)
            # The lock makes check-then-replace one step for every writer using this store.
            with open(target.parent / f".{target.name}.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    current = _etag(os.stat(target))
                except FileNotFoundError:
                    current = None
                if current != etag:
                    raise Conflict(
                        f"{self.full_key(key)} in {self.description} changed since it was read"
                    )
                with _staged_file(target) as (staged, out):
                    _copy(data, out, None)
                    os.replace(staged, target)

    def list_keys(self, folder: str) -> list[str]:
        base = self._path(folder)
        with self._errors("listing", folder):
            if not base.is_dir():
                return []
            return sorted(
                f"{folder}{path.relative_to(base).as_posix()}" for path in base.rglob("*")
                # Staged files and locks start with a dot; no key does.
                if path.is_file() and not path.name.startswith(".")
            )


def _etag(stat: os.stat_result) -> str:
    # Every write renames a new file into place, so inode + mtime + size change on each write.
    return f"{stat.st_ino}-{stat.st_mtime_ns}-{stat.st_size}"


@contextmanager
def _staged_file(target: Path):
    """A temporary file beside ``target``, flushed to disk before the caller renames it."""
    fd, staged = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    os.chmod(staged, 0o644)  # mkstemp's 0600 would hide the store from other users
    try:
        with os.fdopen(fd, "wb") as out:
            yield staged, _SyncOnClose(out)
    finally:
        if os.path.exists(staged):
            os.unlink(staged)


class _SyncOnClose:
    """Write-through wrapper that fsyncs before the rename the caller does inside the block."""

    def __init__(self, out):
        self._out = out

    def write(self, data: bytes) -> None:
        self._out.write(data)

    def sync(self) -> None:
        self._out.flush()
        os.fsync(self._out.fileno())


def _copy(source: Path | bytes, out: _SyncOnClose, progress: ProgressHook | None) -> None:
    if isinstance(source, bytes):
        out.write(source)
        if progress:
            progress(len(source), len(source))
    else:
        with open(source, "rb") as stream:
            pump(_chunks(stream), os.fstat(stream.fileno()).st_size, out.write, progress)
    out.sync()


def _chunks(stream):
    return iter(lambda: stream.read(_CHUNK), b"")
