"""Guides: anything that acts for the first ``h`` steps of an episode.

The ``Guide`` protocol lives in the episode layer (:mod:`episode.guide`); build a guide from
its command-line spec with :func:`guides.registry.make_guide`. Importing this package imports
no guide: each kind's module is loaded when a guide of that kind is built.
"""
