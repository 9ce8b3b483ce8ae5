"""Minari-compatible, crash-safe HDF5 recordings: writer thread, reader, verify and repair."""

from recordings.schema import Actor

__all__ = ["Actor"]
