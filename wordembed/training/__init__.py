"""Training: the settings (config.py), the stages of a run (trainer.py, in order: the work
directory, preparation, the epoch loop, checkpoints, the result), Ctrl-C (interrupts.py),
progress, and one module per objective (word2vec.py: CBOW and skip-gram, with or without
subwords).

A run is given two objects: the strategy (strategy.py: SingleProcess here; the torch.distributed
one lives a layer up, in wordembed.distributed) and the objective. May import ops, nn, text,
vectors and the base modules; never distributed or cli. wordembed.train_vectors (wordembed/
train.py) picks the strategy for how the process was launched and runs a Trainer."""
from .config import TrainConfig  # noqa: F401
