"""Minari-compatible, crash-safe HDF5 recordings: writer thread, reader, verify and repair."""

from episode.types import Actor

__all__ = ["Actor"]
