"""Test-wide settings: headless SDL and GL, the repo root on sys.path."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYOPENGL_PLATFORM", os.environ["MUJOCO_GL"])

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """Small networks run fastest (and steadiest on a shared machine) on one torch thread."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


class Mounts:
    """Real small or read-only filesystems (tmpfs) for the disk-full and read-only tests."""

    def __init__(self, root: Path) -> None:
        self.root, self.mounted = root, []

    def small(self, name: str, size_kb: int) -> Path:
        """A fresh tmpfs of ``size_kb`` KiB: writing more fails with ENOSPC."""
        path = self.root / name
        path.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs",
                               str(path)], capture_output=True, text=True)  # fmt: skip
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
        self.mounted.append(path)
        return path

    def read_only(self, path: Path) -> None:
        """Remount a tmpfs from :meth:`small` read-only (root cannot write to it either)."""
        subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)

    def unmount_all(self) -> None:
        for path in reversed(self.mounted):
            subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.fixture
def mounts(tmp_path: Path) -> Iterator[Mounts]:
    """Mount real tmpfs filesystems under ``tmp_path``; unmounted after the test."""
    found = Mounts(tmp_path)
    yield found
    found.unmount_all()
