"""Rollback protection: an alias that moves backwards is not followed without being told to.

Anyone who can write the store can point ``champion`` at an older version, and an older version
stays validly signed for ever (a signature proves who built it, not that it is still wanted).
So fetch_model refuses, unless ``--allow-downgrade``:
    - a version below MODEL_MIN_VERSION, however it was asked for (the floor comes with the
      deployment's configuration, out of a store writer's reach; it is what protects a fresh
      model directory, such as an init container's);
    - an alias (latest, champion, challenger) that resolves below the installed version. A
      pinned ``--version V`` below it is an operator's deliberate rollback and is allowed.
"""
import re

from catmodel.delivery.errors import DowngradeRefused

_DIGITS = re.compile(r"(\d+)")


def version_order(version: str) -> tuple:
    """A sort key for version names: runs of digits compare as numbers, the rest as text, so
    1.9.0 < 1.10.0 < 2.0.0 < 2.0.0-worse. Written here rather than taken from a library because
    versions are free names ([A-Za-z0-9._-]+) that PEP 440 and semver parsers reject."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in _DIGITS.split(version) if part)


def is_lower(version: str, than: str) -> bool:
    return version_order(version) < version_order(than)


def check_not_downgrade(name: str, version: str, *, installed: str | None, minimum: str,
                        via_alias: str | None, allow_downgrade: bool) -> None:
    """DowngradeRefused when installing ``version`` would go below ``minimum`` or (through an
    alias) below the ``installed`` version, unless ``allow_downgrade``."""
    if allow_downgrade:
        return
    asked = f"'{via_alias}' of model {name} points at {version}, which is" if via_alias else (
        f"version {version} of model {name} is")
    if minimum and is_lower(version, minimum):
        raise DowngradeRefused(
            f"{asked} below MODEL_MIN_VERSION {minimum}: refused as a rollback; publish a newer "
            "version, or lower MODEL_MIN_VERSION (or pass --allow-downgrade) if it is intended")
    if via_alias and installed and is_lower(version, installed):
        raise DowngradeRefused(
            f"{asked} below the installed {installed}: refused as a rollback (anyone who can "
            f"write the store can move '{via_alias}'); if it is intended, run fetch_model "
            f"--version {version}, or pass --allow-downgrade")
