"""The installed model directory (settings.MODEL_DIR) and its atomic switch.

    MODEL_DIR/current -> versions/<version>     relative symlink: the package the app serves
    MODEL_DIR/versions/<version>/               verified packages; older ones kept for rollback
    MODEL_DIR/.incoming-*/                      downloads in progress (same filesystem)

``current`` only ever changes by renaming a new symlink over it, which is atomic on POSIX: a
process starting at any moment sees either the old package or the new one, never a mixture.
"""
import fcntl
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from catmodel.delivery.checks import verify_package
from catmodel.delivery.errors import DeliveryError, InstallFailed
from catmodel.inference import BadModelPackage
from catmodel.inference.signatures import verify_signature

CURRENT = "current"
VERSIONS = "versions"
INCOMING_PREFIX = ".incoming-"
LOCK_FILE = ".fetch.lock"


@contextmanager
def disk_errors(dest: Path, action: str):
    """OS errors while writing the model directory as one InstallFailed line."""
    try:
        yield
    except DeliveryError:
        raise
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise InstallFailed(
            f"{action} in {dest} failed: {reason}; free disk space or fix the permissions of "
            f"{dest} (MODEL_DIR or --dest), then run fetch_model again"
        ) from None


@contextmanager
def exclusive(dest: Path):
    """Hold the model directory's lock: one fetch at a time changes it. Whatever a killed fetch
    left behind (a half download, a spare symlink) is removed first; the kernel releases the
    lock of a process that dies, so a crash never blocks the next run."""
    dest = Path(dest)
    with disk_errors(dest, "locking the model directory"):
        dest.mkdir(parents=True, exist_ok=True)
        # Closed by `with lock` below; opened here so that an OSError becomes InstallFailed.
        lock = open(dest / LOCK_FILE, "a")  # noqa: SIM115
    with lock:
        with disk_errors(dest, "locking the model directory"):
            fcntl.flock(lock, fcntl.LOCK_EX)
            for leftover in dest.glob(f"{INCOMING_PREFIX}*"):
                if leftover.is_symlink() or not leftover.is_dir():
                    leftover.unlink()
                else:
                    shutil.rmtree(leftover, ignore_errors=True)
        yield


def current_version(dest: Path) -> str | None:
    """The version ``current`` points at, or None when nothing is installed."""
    try:
        target = os.readlink(Path(dest) / CURRENT)
    except (FileNotFoundError, OSError):
        return None
    return Path(target).name


def installed_versions(dest: Path) -> list[str]:
    versions = Path(dest) / VERSIONS
    if not versions.is_dir():
        return []
    return sorted(p.name for p in versions.iterdir() if p.is_dir() and not p.name.startswith("."))


def is_installed(dest: Path, name: str, version: str, trusted_keys=()) -> bool:
    """Whether versions/<version> holds that package, every file verified against its manifest
    (and signed by one of ``trusted_keys`` when there are any)."""
    path = Path(dest) / VERSIONS / version
    try:
        manifest = verify_package(path)
        if trusted_keys:
            verify_signature(path, trusted_keys)
    except (DeliveryError, BadModelPackage, OSError):
        return False
    return (manifest.name, manifest.version) == (name, version)


def incoming_dir(dest: Path) -> Path:
    """A new, empty directory for a download, inside ``dest`` so the final rename stays on one
    filesystem (a rename across filesystems is a copy, and not atomic)."""
    dest = Path(dest)
    with disk_errors(dest, "creating a download directory"):
        dest.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=INCOMING_PREFIX, dir=dest))


def install(dest: Path, version: str, staged: Path) -> Path:
    """Move the verified ``staged`` directory to versions/<version> and return that path.

    A directory already there failed verification (is_installed said no): it is moved aside
    first, and deleted only after the new one is in place.
    """
    dest = Path(dest)
    target = dest / VERSIONS / version
    with disk_errors(dest, f"installing version {version}"):
        # mkdtemp makes 0700 directories; the web process may run as another user than this one.
        os.chmod(staged, 0o755)
        _fsync_tree(staged)
        target.parent.mkdir(parents=True, exist_ok=True)
        broken = None
        if target.exists():
            broken = Path(tempfile.mkdtemp(prefix=INCOMING_PREFIX, dir=dest)) / version
            os.rename(target, broken)
        os.rename(staged, target)
        _fsync_dir(target.parent)
        if broken is not None:
            shutil.rmtree(broken.parent, ignore_errors=True)
    return target


def switch_current(dest: Path, version: str) -> None:
    """Point ``current`` at versions/<version> with one atomic rename."""
    dest = Path(dest)
    with disk_errors(dest, f"switching to version {version}"):
        link = dest / CURRENT
        if link.exists() and not link.is_symlink():
            raise InstallFailed(
                f"{link} is a real directory, not a symlink: move it away (it is not managed by "
                "fetch_model), then run fetch_model again"
            )
        staged = dest / f"{INCOMING_PREFIX}{CURRENT}-{os.getpid()}"
        if staged.is_symlink():
            staged.unlink()
        # Relative, so the directory can be mounted or copied elsewhere (an image, a volume).
        os.symlink(Path(VERSIONS) / version, staged)
        os.replace(staged, link)
        _fsync_dir(dest)
        # The newest switch marks the most recent version; prune() keeps the latest ones.
        os.utime(dest / VERSIONS / version)


def prune(dest: Path, keep: int) -> list[str]:
    """Delete installed versions beyond the current one and the ``keep`` most recent others.
    Returns the versions removed. Failures to delete are left for the next run."""
    dest = Path(dest)
    current = current_version(dest)
    versions_dir = dest / VERSIONS
    others = [v for v in installed_versions(dest) if v != current]
    others.sort(key=lambda v: (versions_dir / v).stat().st_mtime_ns, reverse=True)
    removed = []
    for version in others[max(keep, 0):]:
        shutil.rmtree(versions_dir / version, ignore_errors=True)
        removed.append(version)
    return removed


def _fsync_tree(path: Path) -> None:
    """Flush the files and the directory, so a crash after the switch finds complete files."""
    for child in Path(path).iterdir():
        with open(child, "rb") as stream:
            os.fsync(stream.fileno())
    _fsync_dir(path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
