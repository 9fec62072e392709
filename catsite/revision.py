"""The revision of the code being served, for /version.

The image build passes it in (APP_REVISION: an image has no .git); a checkout reads its own
.git. Read on first use, not when settings are imported: settings do no I/O.
"""
from __future__ import annotations

import functools
from pathlib import Path

from django.conf import settings


@functools.cache
def git_revision(git: Path) -> str:
    """The commit checked out at ``git`` (a checkout's .git), read without running git; empty
    when unknown. Cached: the checkout of a running process does not change under it."""
    try:
        if git.is_file():  # a worktree: ".git" names its own git directory
            git = (git.parent / git.read_text().removeprefix("gitdir:").strip()).resolve()
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head
        ref = head[5:]
        # Branches live in the common git directory, which a worktree names in "commondir".
        common = git / (git / "commondir").read_text().strip() if (
            git / "commondir").exists() else git
        if (common / ref).exists():
            return (common / ref).read_text().strip()
        for line in (common / "packed-refs").read_text().splitlines():
            if line.endswith(" " + ref):
                return line.split()[0]
    except OSError:
        pass
    return ""


def app_revision() -> str:
    """APP_REVISION when set, else the checkout's commit; empty when neither is known."""
    return settings.APP_REVISION or git_revision(settings.BASE_DIR / ".git")
