"""What every model store offers: where published packages live, as byte-level operations.

Layout (docs/model-package.md), the same in every store, below an optional prefix:
    <prefix>/<name>/<version>/model.onnx
    <prefix>/<name>/<version>/manifest.json     uploaded last: a version exists once it is there
    <prefix>/<name>/<alias>                      latest, champion, challenger: a version, as
                                                 text, moved conditionally (aliases.py)
    <prefix>/<name>/history/<alias>/<id>.json    one record per move of the alias, never changed

A store offers a few byte-level operations on keys (paths below the prefix). It knows nothing
about manifests; publish.py and fetch.py give the operations their meaning. The concrete
stores (azure_store.py, local_store.py, mlflow_store.py) build on this module; stores.py
chooses one.
"""
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from pathlib import Path

# progress(done_bytes, total_bytes); write(chunk) consumes downloaded bytes.
ProgressHook = Callable[[int, int], None]
ChunkWriter = Callable[[bytes], None]


def pump(chunks: Iterable[bytes], total: int, write: ChunkWriter,
         progress: ProgressHook | None) -> int:
    """Feed ``chunks`` to ``write``, reporting progress after each; returns ``total``."""
    done = 0
    for chunk in chunks:
        write(chunk)
        done += len(chunk)
        if progress:
            progress(done, total)
    return total


def version_key(name: str, version: str, filename: str) -> str:
    return f"{name}/{version}/{filename}"


# The aliases every store keeps per model name: ``latest`` (the last version published),
# ``champion`` (what production runs) and ``challenger`` (the candidate being compared).
LATEST, CHAMPION, CHALLENGER = "latest", "champion", "challenger"
ALIASES = (LATEST, CHAMPION, CHALLENGER)
HISTORY = "history"
# An alias or the history folder sits beside the versions: no version may take those names.
NOT_VERSIONS = frozenset((*ALIASES, HISTORY))


def alias_key(name: str, alias: str) -> str:
    return f"{name}/{alias}"


def history_key(name: str, alias: str, record_id: str = "") -> str:
    """The folder of ``alias``'s history, or one record in it."""
    folder = f"{name}/{HISTORY}/{alias}/"
    return f"{folder}{record_id}.json" if record_id else folder


class Store(ABC):
    """A model store. ``description`` names it in messages and never holds a secret."""

    description: str
    prefix: str = ""

    def full_key(self, key: str) -> str:
        return f"{self.prefix.strip('/')}/{key}" if self.prefix.strip("/") else key

    @abstractmethod
    def ensure_container(self) -> None:
        """Create the container (or root directory) when it is missing."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether ``key`` holds a blob."""

    @abstractmethod
    def read_small(self, key: str, limit: int) -> tuple[bytes, str]:
        """(content, etag) of a blob of at most ``limit`` bytes; NotFound when missing."""

    @abstractmethod
    def download(self, key: str, write: ChunkWriter, progress: ProgressHook | None = None) -> int:
        """Stream a blob into ``write`` chunk by chunk; returns its size as the store reports it."""

    @abstractmethod
    def upload(self, key: str, source: Path | bytes, *, overwrite: bool,
               progress: ProgressHook | None = None) -> None:
        """Store a file or bytes under ``key``; AlreadyExists when present and not ``overwrite``."""

    @abstractmethod
    def put_if_unchanged(self, key: str, data: bytes, etag: str | None) -> None:
        """Write ``data`` only if ``key`` still has ``etag`` (or, with None, does not exist yet);
        otherwise Conflict. Two writers that read the same state cannot both succeed."""

    @abstractmethod
    def list_keys(self, folder: str) -> list[str]:
        """The keys below ``folder`` (which ends with '/'), sorted; empty when there are none."""
