"""Training: data (real clips and triplets, synthetic motion, GIF frames), the loops of each
model, their ``run_*`` command lines, torchrun data parallelism and publishing a trained
file with its scores. Nothing outside ``train/`` (and the pipelines that fit a model to
the user's video) imports from here.
"""
