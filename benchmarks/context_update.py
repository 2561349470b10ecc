"""Which gradient the context words of CBOW receive: the whole gradient of the context mean
(word2vec's and gensim's rule, wordembed's default) or its exact 1/n share per word.

    .venv/bin/python benchmarks/context_update.py [--corpus FILE] [--seeds 3] [--init-scale 0.5]

Trains wordembed's CBOW with bench_train.py's settings both ways, once per seed, and prints the
means over seeds of the analogy accuracy (top 30,000 words), WordSim-353 and SimLex-999. The
exact share is the fused op's `full_context_update=False`, which the trainer does not expose:
this script passes it to every chunk. word2vec's initialisation (0.5) is the default here.
"""
import argparse
import functools

from init_scale import add_arguments, print_table, quality_over_seeds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_arguments(parser, seeds=3)
    parser.add_argument("--init-scale", type=float, default=0.5)
    args = parser.parse_args()
    from wordembed import ops
    whole_gradient = ops.ns_train_chunk_
    rows = [("whole", quality_over_seeds(args, "whole gradient", init_scale=args.init_scale))]
    ops.ns_train_chunk_ = functools.partial(whole_gradient, full_context_update=False)
    try:
        rows.append(("1/n share", quality_over_seeds(args, "1/n share", init_scale=args.init_scale)))
    finally:
        ops.ns_train_chunk_ = whole_gradient
    print_table("update", rows)


if __name__ == "__main__":
    main()
