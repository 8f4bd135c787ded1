"""Whole folders (or manifests) of files through one job, resumably, on local processes
or a Ray cluster: :mod:`.jobs` says what is done to a file, :mod:`.plan` which files and
outputs, :mod:`.runner` runs them (:mod:`.ray_pool` on Ray)."""

from kinema.pipelines.batch.jobs import ConvertJob, Gif2VideoJob, InterpolateJob, Job, SnapshotJob, Split
from kinema.pipelines.batch.plan import Task, clean_partials, is_complete, read_manifest, walk
from kinema.pipelines.batch.runner import LoadError, LocalPool, Summary, run_batch

__all__ = [
    "ConvertJob", "Gif2VideoJob", "InterpolateJob", "Job", "LoadError", "LocalPool", "SnapshotJob", "Split",
    "Summary", "Task", "clean_partials", "is_complete", "read_manifest", "run_batch", "walk",
]  # fmt: skip
