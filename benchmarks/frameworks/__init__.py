"""The trainers benchmarks/compare_frameworks.py runs side by side, one framework per module.

`torch_mlp.py` and `jax_mlp.py` are also whole programs, written as their users would write them
(they import neither digitnet nor anything else of this folder but `mnist_files.py`), so a run of
`python benchmarks/frameworks/jax_mlp.py --epochs 3` costs what a user's script costs: the import,
reading the gzipped IDX files, and the training.
"""
