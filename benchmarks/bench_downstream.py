"""The tutorial's claim, measured: a text classifier whose embedding bag starts from wordembed's
vectors against the same classifier started at random, on the same data, over several seeds.

    .venv/bin/python benchmarks/bench_downstream.py [--seeds 3] [--train-sizes 2000 20000]

Data, made on a fresh machine from Debian packages (`apt-get install dict-gcide wordnet-base`):
  vectors   CBOW, dim 100, 5 epochs, trained by wordembed on GCIDE (data/gcide-entries.txt, the
            main job's corpus; wordembed.datasets.prepare_gcide), 5.4 million words
  task      WordNet's glosses labelled by their synset's lexicographer file, 45 classes
            (noun.animal, verb.motion, ...; wordembed.datasets.prepare_wordnet_glosses): 117,659
            glosses, shuffled with a fixed seed; the last 20,000 are the test set, the first N
            (--train-sizes) the training set
The classifier: the mean of its words' rows (wordembed.nn.ContextSum over the vectors'
vocabulary, words outside it skipped), then a linear layer; cross-entropy, Adam (SparseAdam for
the table), batches of 64, --epochs passes. "pretrained": ContextSum.from_pretrained(vectors,
freeze=False); "random": the same table drawn from a normal distribution with the pretrained
rows' standard deviation. Prints test accuracy per seed and the mean, min and max.
"""
import argparse
import random
import statistics
import sys
import time

import torch

from corpora import gcide_vectors, labelled_glosses
from wordembed.nn import ContextSum

TEST_SIZE = 20_000


def load_task(path, seed=0):
    examples = []
    with open(path) as f:
        for line in f:
            label, _, text = line.rstrip("\n").partition(" ")
            examples.append((label, text))
    random.Random(seed).shuffle(examples)
    labels = sorted({label for label, _ in examples})
    return examples, {label: i for i, label in enumerate(labels)}


class BagOfWords(torch.nn.Module):
    def __init__(self, table, classes):
        super().__init__()
        self.bag = ContextSum.from_pretrained(table, freeze=False, sparse=True)
        self.out = torch.nn.Linear(table.shape[1], classes)

    def forward(self, input, offsets):
        return self.out(self.bag(input, offsets))


def encode(vectors, examples, label_index):
    input, offsets = vectors.encode_batch([text for _, text in examples])
    return input, offsets, torch.tensor([label_index[label] for label, _ in examples])


def batches(n, size, generator):
    order = torch.randperm(n, generator=generator)
    for start in range(0, n, size):
        yield order[start:start + size]


def select(input, offsets, rows):
    """The bags of these examples, as (input, offsets)."""
    ends = torch.cat([offsets[1:], offsets.new_tensor([len(input)])])
    pieces = [input[offsets[r]:ends[r]] for r in rows.tolist()]
    lengths = torch.tensor([len(p) for p in pieces])
    return torch.cat(pieces), torch.cumsum(lengths, 0) - lengths


def accuracy(model, input, offsets, labels):
    with torch.no_grad():
        return float((model(input, offsets).argmax(1) == labels).float().mean())


def run(table, train, test, classes, seed, epochs):
    torch.manual_seed(seed)
    model = BagOfWords(table.clone(), classes)
    sparse, dense = torch.optim.SparseAdam([model.bag.weight], lr=5e-3), torch.optim.Adam(model.out.parameters(), lr=5e-3)
    input, offsets, labels = train
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for rows in batches(len(labels), 64, generator):
            loss = torch.nn.functional.cross_entropy(model(*select(input, offsets, rows)), labels[rows])
            sparse.zero_grad()
            dense.zero_grad()
            loss.backward()
            sparse.step()
            dense.step()
    return accuracy(model, *test)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--train-sizes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    vectors = gcide_vectors(args.threads)
    examples, label_index = load_task(labelled_glosses())
    test = encode(vectors, examples[-TEST_SIZE:], label_index)
    pretrained = vectors.vectors.float()
    rows = {"pretrained": pretrained,
            "random": torch.randn(pretrained.shape, generator=torch.Generator().manual_seed(0)) * pretrained.std()}
    print(f"vectors: {len(vectors):,} words, dim {vectors.vector_size}; task: {len(examples):,} WordNet glosses, "
          f"{len(label_index)} lexicographer files, test {TEST_SIZE:,}; {args.epochs} epochs, "
          f"{torch.get_num_threads()} threads")
    print(f"\n{'train size':>10}  {'start':<11}{'accuracy, mean':>15}{'min':>8}{'max':>8}   per seed")
    for size in args.train_sizes:
        train = encode(vectors, examples[:size], label_index)
        for name, table in rows.items():
            started = time.perf_counter()
            scores = [run(table, train, test, len(label_index), seed, args.epochs) for seed in range(1, args.seeds + 1)]
            print(f"{size:>10,}  {name:<11}{100 * statistics.mean(scores):>14.1f}%{100 * min(scores):>7.1f}%"
                  f"{100 * max(scores):>7.1f}%   " + " ".join(f"{100 * s:.1f}" for s in scores)
                  + f"   ({(time.perf_counter() - started) / args.seeds:.0f} s a run)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
