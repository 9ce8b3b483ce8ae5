"""Configs of the ``recordings`` subcommands (cheap to import)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Union

import tyro


@dataclass(frozen=True)
class InfoConfig:
    """Summarize a dataset: episodes, steps, success, guide kinds, h."""

    dataset: tyro.conf.Positional[Path]
    """Dataset directory."""
    json: bool = False
    """Print the summary as one JSON object instead of a table."""


@dataclass(frozen=True)
class VerifyConfig:
    """Check a dataset and repair what a crash left behind; exit 0 when sound, else 2."""

    dataset: tyro.conf.Positional[Path]
    """Dataset directory."""
    repair: bool = True
    """Roll back a half-written episode and rewrite stale metadata; --no-repair only reports."""


@dataclass(frozen=True)
class SnapshotConfig:
    """Copy a dataset as of its last committed episode, even while a run writes it.

    The copy is a plain Minari dataset that no writer touches: read it from a notebook with
    h5py or minari.load_dataset while the app or train keeps recording into the original.
    """

    dataset: tyro.conf.Positional[Path]
    """Dataset directory to copy."""
    out: tyro.conf.Positional[Path]
    """New dataset directory (NAME-vN; must not exist)."""


RecordingsCommand = Union[  # noqa: UP007
    Annotated[InfoConfig, tyro.conf.subcommand("info")],
    Annotated[VerifyConfig, tyro.conf.subcommand("verify")],
    Annotated[SnapshotConfig, tyro.conf.subcommand("snapshot")],
]


@dataclass(frozen=True)
class RecordingsConfig:
    """Inspect, verify and repair recorded datasets."""

    command: tyro.conf.OmitSubcommandPrefixes[RecordingsCommand]
    """What to do."""
