"""Where a dataset's code came from and whom to ask: Minari's ``code_permalink``, ``author_email``.

Both are looked up once, when a dataset is created, and never fail: a machine without git, or
code that does not run from a git checkout, gets the package version as its permalink and no
e-mail (Minari allows both to be absent).
"""

from __future__ import annotations

import os
import re
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGE = "jumpstart-teleop"
"""The distribution name (``pyproject.toml``)."""
REPOSITORY_ENV = "JUMPSTART_REPOSITORY_URL"
"""Environment variable naming the project's repository URL (else git's ``remote.origin.url``)."""
AUTHOR_EMAIL_ENV = "JUMPSTART_AUTHOR_EMAIL"
"""Environment variable with the e-mail recorded as Minari's ``author_email``."""
SOURCE_DIR = Path(__file__).resolve().parents[1]
"""The project's source tree (a git checkout when the code runs from one)."""
GIT_TIMEOUT_S = 5.0
"""Most seconds a git query may take."""


def _git(*args: str) -> str | None:
    """``git -C SOURCE_DIR ARGS`` stripped, or None (no git, not a checkout, an error)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(SOURCE_DIR), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    out = done.stdout.strip()
    return out if done.returncode == 0 and out else None


def package_version() -> str:
    """The installed version of the project, or ``unknown``."""
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        return "unknown"


def repository_url() -> str | None:
    """The repository URL: ``$JUMPSTART_REPOSITORY_URL``, else git's origin as an https URL."""
    url = os.environ.get(REPOSITORY_ENV) or _git("config", "--get", "remote.origin.url")
    if not url:
        return None
    scp = re.fullmatch(r"[\w.-]+@([\w.-]+):(.+)", url)  # git@host:owner/repo.git
    if scp:
        url = f"https://{scp.group(1)}/{scp.group(2)}"
    return url.removesuffix("/").removesuffix(".git")


def code_permalink() -> str:
    """A link to the exact code that records: the repository at this commit, or the version.

    * a git checkout with a repository URL: ``https://host/owner/repo/tree/COMMIT`` (other
      schemes: ``git+URL@COMMIT``, pip's form);
    * a git checkout without one: ``git+file://SOURCE_DIR@COMMIT``;
    * no git: ``jumpstart-teleop==VERSION``.
    """
    commit = _git("rev-parse", "HEAD")
    if commit is None:
        return f"{PACKAGE}=={package_version()}"
    url = repository_url()
    if url is None:
        return f"git+file://{SOURCE_DIR}@{commit}"
    if url.startswith(("https://", "http://")):
        return f"{url}/tree/{commit}"
    return f"git+{url}@{commit}"


def author_email(setting: str | None = None) -> str | None:
    """The author's e-mail: ``setting``, ``$JUMPSTART_AUTHOR_EMAIL``, git's ``user.email``."""
    return setting or os.environ.get(AUTHOR_EMAIL_ENV) or _git("config", "--get", "user.email")


__all__ = ["author_email", "code_permalink", "package_version", "repository_url"]
