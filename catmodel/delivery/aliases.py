"""Aliases (``latest``, ``champion``, ``challenger``): names that point at a published version,
and the history of their moves. The one mechanism for all three, in every store.

An alias is a small text key ``<name>/<alias>`` holding a version. It moves only by a
conditional write (Store.put_if_unchanged with the etag read before): of two writers that read
the same state, one wins and the other gets Conflict, so a move is never silently lost. After a
move, a record (who, when, from, to, forced, accuracies) is added to
``<name>/history/<alias>/<id>.json`` with a create-only write: records are never changed. A
process killed between the move and the record leaves that one move unrecorded; the alias
itself is always consistent.
"""
from __future__ import annotations

import datetime
import getpass
import json
import socket
from dataclasses import asdict, dataclass, fields

from catmodel.delivery.checks import check_name
from catmodel.delivery.errors import Conflict, DeliveryError, NotFound, PackageInvalid
from catmodel.delivery.store_base import (
    ALIASES,
    LATEST,
    NOT_VERSIONS,
    Store,
    alias_key,
    history_key,
)

# An alias holds one version name: anything larger is not what publish_model writes.
ALIAS_MAX_BYTES = 256
HISTORY_MAX_BYTES = 64 * 1024


@dataclass(frozen=True)
class AliasMove:
    """One move of an alias, as its history record keeps it."""

    model: str
    alias: str
    from_version: str | None
    to_version: str
    by: str
    at: str  # UTC, ISO 8601
    forced: bool = False
    # Top-1 accuracies when the gate evaluated the move: {"dataset", "candidate", "champion",
    # "tolerance"}; None when no evaluation ran.
    evaluation: dict | None = None
    note: str = ""

    def to_json(self) -> bytes:
        return (json.dumps(asdict(self), indent=2, sort_keys=True) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes) -> AliasMove:
        """A record as written by ``to_json``; fields a later version adds are ignored."""
        document = json.loads(data)
        return cls(**{f.name: document[f.name] for f in fields(cls) if f.name in document})


def check_alias(alias: str) -> str:
    if alias not in ALIASES:
        raise PackageInvalid(f"--alias {alias!r} is not an alias: use one of {', '.join(ALIASES)}")
    return alias


def check_version(version, what: str) -> str:
    """``version`` if it can name a published version: one path component, not an alias."""
    check_name(version, what)
    if version in NOT_VERSIONS:
        reserved = ", ".join(sorted(NOT_VERSIONS))
        raise PackageInvalid(f"{what} {version!r} is not allowed: {reserved} name aliases and "
                             "their history, not versions")
    return version


def read_alias(store: Store, name: str, alias: str) -> tuple[str | None, str | None]:
    """(version, etag) of ``<name>/<alias>``, or (None, None) when it was never set."""
    try:
        data, etag = store.read_small(alias_key(name, alias), ALIAS_MAX_BYTES)
    except NotFound:
        return None, None
    text = data.decode("utf-8", "replace").strip()
    return check_name(text, f"'{alias}' of model {name} in {store.description} holds"), etag


def resolve(store: Store, name: str, version: str) -> str:
    """The version that ``version`` names: an alias's target, or the version itself."""
    if version not in ALIASES:
        return check_version(version, "--version")
    target, _ = read_alias(store, name, version)
    if target is None:
        hint = ("publish one with manage.py publish_model" if version == LATEST else
                f"point it at a version with manage.py publish_model --promote VERSION "
                f"--alias {version}")
        raise NotFound(f"model {name} has no '{version}' in {store.description}: {hint}, or "
                       "fetch a pinned --version")
    return target


def move_alias(store: Store, name: str, alias: str, version: str, etag: str | None, *,
               previous: str | None, forced: bool = False, evaluation: dict | None = None,
               note: str = "") -> AliasMove:
    """Point ``alias`` at ``version`` if it still has ``etag`` (read with ``read_alias`` as
    ``previous``), then record the move. Conflict, with what it moved to, when it moved since."""
    try:
        store.put_if_unchanged(alias_key(name, alias), version.encode() + b"\n", etag)
    except Conflict:
        now = _alias_now(store, name, alias)
        raise Conflict(
            f"'{alias}' of model {name} moved from {previous or 'nothing'} to {now} while version "
            f"{version} was being made '{alias}' (another publisher?); '{alias}' was left alone: "
            f"agree which version it should be, then run publish_model --promote VERSION "
            f"--alias {alias}"
        ) from None
    move = AliasMove(model=name, alias=alias, from_version=previous, to_version=version,
                     by=_who(), at=_now().isoformat(), forced=forced, evaluation=evaluation,
                     note=note)
    _record(store, move)
    return move


def history(store: Store, name: str, alias: str) -> list[AliasMove]:
    """Every recorded move of ``alias``, oldest first."""
    moves = []
    for key in store.list_keys(history_key(name, alias)):
        data, _ = store.read_small(key, HISTORY_MAX_BYTES)
        moves.append(AliasMove.from_json(data))
    return moves


def _record(store: Store, move: AliasMove) -> None:
    # Sortable by time; the version makes two moves in the same microsecond distinct anyway.
    stamp = datetime.datetime.fromisoformat(move.at).strftime("%Y%m%dT%H%M%S%fZ")
    key = history_key(move.model, move.alias, f"{stamp}-{move.to_version}")
    try:
        store.upload(key, move.to_json(), overwrite=False)
    except DeliveryError as exc:
        raise type(exc)(
            f"'{move.alias}' of model {move.model} now points at {move.to_version}, but its "
            f"history record was not written ({exc.message})"
        ) from None


def _alias_now(store: Store, name: str, alias: str) -> str:
    try:
        return read_alias(store, name, alias)[0] or "nothing"
    except DeliveryError:
        return "an unknown version"


def _who() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container running as a bare UID)
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)
