"""Data-parallel training on torch.distributed (launched by torchrun): the ranks and their
collectives, with every failure of another rank turned into a clear LostRankError (world.py),
how the ranks' tables agree after each round (sync.py), and the strategy the training stages are
given in a distributed run (strategy.py). Sits above wordembed.training, whose strategy
interface it implements; below the command line."""
