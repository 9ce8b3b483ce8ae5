"""torchrl reads our recordings as they are: ``MinariExperienceReplay`` on a local dataset.

torchrl 0.14's Minari loader finds a local dataset only with ``load_from_local_minari=True``
(``download=False`` alone looks for its own cache under ``root``): it then reads
``$MINARI_DATASETS_PATH/ID/data/main_data.hdf5`` with tensordict's ``PersistentTensorDict``
(no download) and writes a memory-mapped copy under ``root/ID``, so ``root`` must not be our
datasets root.

Its values are lost on the way, for every dataset: ``_download_and_preproc`` fills an
in-memory TensorDict, then keeps ``td_data.memmap_like(root/ID)``, which tensordict 0.14.3
documents as "a contentless memory-mapped tensordict with the same shapes": every sampled
value reads 0. The structure (sizes, keys, shapes, dtypes, the env spec) is right; the values
test is a strict xfail so that it turns red when a torchrl release fixes it.
"""

import numpy as np
import pytest

import launch
import sim
from recordings.reader import iter_episodes

torchrl_datasets = pytest.importorskip("torchrl.data.datasets")  # the dev extra pins it


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """Two scripted-guide episodes recorded by ``launch.py collect``."""
    dataset = tmp_path_factory.mktemp("torchrl") / "recordings" / "door-scripted-v0"
    argv = ["collect", "--guide", "scripted", "--episodes", "2", "--no-progress"]
    assert launch.main([*argv, "--out", str(dataset)]) == 0
    return dataset


def load(dataset, root, monkeypatch):
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(dataset.parent))
    return torchrl_datasets.MinariExperienceReplay(
        dataset.name, batch_size=64, root=root, download=False, load_from_local_minari=True
    )


def flat(dataset):
    """Our reader's steps, in order: observation, next observation, action, reward."""
    ours = list(iter_episodes(dataset))
    return {
        "observation": np.concatenate([ep.observations[:-1] for ep in ours]),
        "next_observation": np.concatenate([ep.observations[1:] for ep in ours]),
        "action": np.concatenate([ep.actions for ep in ours]),
        "reward": np.concatenate([ep.rewards for ep in ours]),
    }


def test_torchrl_loads_our_dataset_without_a_download(recorded, tmp_path, monkeypatch):
    files_before = sorted(p.name for p in recorded.rglob("*"))
    replay = load(recorded, tmp_path / "torchrl", monkeypatch)
    ours = flat(recorded)
    assert len(replay) == len(ours["action"]) == 2 * sim.EPISODE_STEPS
    batch = replay.sample()
    assert batch["observation"].shape == (64, sim.OBS_DIM)
    assert batch["next", "observation"].shape == (64, sim.OBS_DIM)
    assert batch["action"].shape == (64, sim.ACT_DIM)
    assert batch["next", "reward"].shape == (64, 1)
    assert set(batch["next", "info"].keys()) >= {"actor", "h", "success", "command"}
    assert replay.metadata["env_spec"]["id"] == sim.ENV_ID
    assert replay.metadata["total_episodes"] == 2
    assert sorted(p.name for p in recorded.rglob("*")) == files_before  # ours untouched
    # torchrl's own HDF5 layer reads our values right (the loss is in its memmap step)
    from tensordict import PersistentTensorDict

    h5 = PersistentTensorDict.from_h5(recorded / "data" / "main_data.hdf5")
    np.testing.assert_array_equal(
        h5["episode_0", "actions"].numpy(), ours["action"][: sim.EPISODE_STEPS]
    )


@pytest.mark.xfail(
    strict=True,
    reason="torchrl 0.14.1 MinariExperienceReplay keeps memmap_like(...) of its filled data: "
    "a contentless copy, every value 0 (any dataset)",
)
def test_torchrl_samples_the_values_our_reader_reads(recorded, tmp_path, monkeypatch):
    replay = load(recorded, tmp_path / "torchrl", monkeypatch)
    ours = flat(recorded)
    batch = replay.sample()
    i = batch["index"].numpy()
    np.testing.assert_array_equal(batch["action"].numpy(), ours["action"][i])
    np.testing.assert_array_equal(batch["observation"].numpy(), ours["observation"][i])
    np.testing.assert_array_equal(batch["next", "observation"].numpy(), ours["next_observation"][i])
    np.testing.assert_array_equal(batch["next", "reward"].numpy()[:, 0], ours["reward"][i])
