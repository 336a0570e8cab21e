"""The import path's former home; it now lives in :mod:`duress.imports` (formats, tool map,
environment, replay, peers, world draft). These names stay for callers of the old module."""

from duress.imports import ImportProblem, import_task, read_transcripts, read_world_file

__all__ = ["ImportProblem", "import_task", "read_transcripts", "read_world_file"]
