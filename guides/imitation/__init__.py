"""The imitation guide: behaviour cloning on a recording's guide and human steps.

``--guide imitation:DATASET`` fits a deterministic MLP ``obs -> action`` (``learner.bc``) to
the steps of ``DATASET`` that a guide or a person chose (``episode.types.Actor``), each
action dimension standardized so the small arm commands weigh as much as the large finger
ones. It trains in seconds on a CPU (one torch thread) and caches the result in
``DATASET/imitation_cache.pt``, keyed by the dataset's fingerprint (size and mtime of
``data/main_data.hdf5`` and a digest of ``data/metadata.json``) and the training settings: a
changed dataset retrains, an unchanged one loads at once. It then measures its own success
rate on a few seeded episodes and reports it (stderr, and ``guide.evaluation``).

The rooms:

- :mod:`.guide`: :class:`ImitationConfig`, :class:`ImitationGuide` and what it knows of itself;
- :mod:`.data`: which recorded steps are cloned, the dataset's fingerprint;
- :mod:`.fit`: fitting a guide to pairs, and its self-evaluation;
- :mod:`.cache`: ``DATASET/imitation_cache.pt``;
- :mod:`.load`: ``imitation:DATASET`` (cache or train, evaluate, report) and the registry's
  builder;
- :mod:`.trainer`: :class:`ImitationTrainer`, the app's background DAgger trainer.

Nothing here imports torch until a guide is trained or loaded.
"""

from guides.imitation.cache import CACHE_FILE, CACHE_FORMAT, CACHE_VERSION, cache_path
from guides.imitation.data import dataset_fingerprint, demo_arrays, read_demos
from guides.imitation.fit import action_scaling, evaluate_guide, train_imitation
from guides.imitation.guide import (
    EVAL_SEED,
    IMITATION_PREFIX,
    GuideEvaluation,
    ImitationConfig,
    ImitationGuide,
    ImitationInfo,
    describe,
)
from guides.imitation.load import build_imitation_guide, load_imitation_guide
from guides.imitation.trainer import ImitationTrainer, TrainerStats

__all__ = [
    "CACHE_FILE",
    "CACHE_FORMAT",
    "CACHE_VERSION",
    "EVAL_SEED",
    "IMITATION_PREFIX",
    "GuideEvaluation",
    "ImitationConfig",
    "ImitationGuide",
    "ImitationInfo",
    "ImitationTrainer",
    "TrainerStats",
    "action_scaling",
    "build_imitation_guide",
    "cache_path",
    "dataset_fingerprint",
    "demo_arrays",
    "describe",
    "evaluate_guide",
    "load_imitation_guide",
    "read_demos",
    "train_imitation",
]
