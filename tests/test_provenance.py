"""Minari's ``code_permalink`` and ``author_email`` in every dataset we write, read by Minari."""

import os
import subprocess

import numpy as np
import pytest

import sim
from recordings import provenance
from recordings.writer import DatasetWriter
from tests.conftest import ROOT


def _git(*args):
    done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


def _record_one(path, **writer_args):
    env = sim.make_door()
    obs, _ = env.reset(seed=0)
    with DatasetWriter(path, **writer_args) as w:
        w.begin_episode(obs, seed=0, h=0, guide_kind="test", weight_version=0)
        for _ in range(3):
            a = np.zeros(sim.ACT_DIM, np.float32)
            nxt, r, te, tr, info = env.step(a)
            w.add_step(a, r, nxt, te, tr, actor=0, h=0, success=info["success"])
        w.end_episode()
    env.close()


def minari_metadata(root, name):
    os.environ["MINARI_DATASETS_PATH"] = str(root)
    import minari

    return minari.load_dataset(name).storage.metadata


def test_minari_reads_the_commit_permalink_and_the_email_setting(tmp_path, monkeypatch):
    commit = _git("rev-parse", "HEAD")
    if commit is None:
        pytest.skip("the tests do not run from a git checkout")
    monkeypatch.setenv(provenance.REPOSITORY_ENV, "https://example.org/lab/jumpstart.git")
    monkeypatch.setenv(provenance.AUTHOR_EMAIL_ENV, "env@example.org")
    _record_one(tmp_path / "door-a-v0")
    _record_one(tmp_path / "door-b-v0", author_email="given@example.org")
    meta = minari_metadata(tmp_path, "door-a-v0")
    assert meta["code_permalink"] == f"https://example.org/lab/jumpstart/tree/{commit}"
    assert meta["author_email"] == {"env@example.org"}
    assert minari_metadata(tmp_path, "door-b-v0")["author_email"] == {"given@example.org"}


def test_without_settings_git_gives_the_commit_and_the_email(tmp_path, monkeypatch):
    commit = _git("rev-parse", "HEAD")
    if commit is None:
        pytest.skip("the tests do not run from a git checkout")
    monkeypatch.delenv(provenance.REPOSITORY_ENV, raising=False)
    monkeypatch.delenv(provenance.AUTHOR_EMAIL_ENV, raising=False)
    _record_one(tmp_path / "door-c-v0")
    meta = minari_metadata(tmp_path, "door-c-v0")
    assert meta["code_permalink"].endswith(commit)
    email = _git("config", "--get", "user.email")
    assert meta.get("author_email") == ({email} if email else None)


def test_no_git_on_path_falls_back_to_the_version_and_no_email(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # a real PATH with no git on it
    monkeypatch.delenv(provenance.AUTHOR_EMAIL_ENV, raising=False)
    _record_one(tmp_path / "door-d-v0")
    meta = minari_metadata(tmp_path, "door-d-v0")
    assert meta["code_permalink"] == f"jumpstart-teleop=={provenance.package_version()}"
    assert provenance.package_version() != "unknown"
    assert "author_email" not in meta
