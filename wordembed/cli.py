"""The `wordembed` command line: train, query, evaluate and plot word vectors. Every expected
failure (bad options, files or words) is a one-line message and exit status 2; a traceback means
a bug in wordembed, and says so."""
import argparse
import os
import sys
import traceback

from . import evaluation
from .distributed import environment_rank
from .errors import LostRankError, TrainingError
from .fileio import refuse_overwriting_inputs
from .formats import VectorsFileError


def _load(path, limit=None):
    from .vectors import WordVectors
    return WordVectors.load(path, limit=limit)


def cmd_train(args):
    from .train import TrainConfig, train_vectors
    config = TrainConfig(model=args.model, minn=args.minn, maxn=args.maxn, bucket=args.bucket,
                         dim=args.dim, window=args.window, negative=args.negative, min_count=args.min_count,
                         max_vocab_size=args.max_vocab_size, max_final_vocab=args.max_final_vocab,
                         sample=args.sample, epochs=args.epochs,
                         alpha=args.alpha, threads=args.threads, seed=args.seed, device=args.device,
                         deterministic=args.deterministic, init_scale=args.init_scale,
                         checkpoint_seconds=args.checkpoint_seconds, chunk_words=args.chunk_words,
                         tokenize=args.tokenize, lowercase=args.lowercase, sync=args.sync,
                         sync_hot_rows=args.sync_hot_rows, sync_full_every=args.sync_full_every,
                         dist_timeout=args.dist_timeout)
    config.check()  # every setting, before any file is touched
    outputs = [("output", args.output)] + ([("curves plot", args.plot_curves)] if args.plot_curves else [])
    refuse_overwriting_inputs([("corpus", args.corpus)], outputs)
    callbacks = []
    if args.plot_curves and environment_rank() == 0:  # rank 0 draws a distributed run's curves
        from .plot import check_installed, plot_training
        check_installed()  # before training, not at the first epoch's end
        callbacks.append(lambda trainer, entry: plot_training(trainer.history, args.plot_curves, trainer.curve))
    try:
        vectors = train_vectors(args.corpus, args.output, config, resume=args.resume, callbacks=callbacks,
                                output_format=args.output_format)
    except KeyboardInterrupt:
        if environment_rank() == 0:
            print(f"\ninterrupted: the state at the last chunk is saved in {args.output}.work; "
                  "run the same command with --resume to continue", file=sys.stderr)
        raise SystemExit(130)
    if environment_rank() != 0:  # every rank of a distributed run has the same vectors: rank 0 reports
        return
    for entry in vectors.history:
        print(f"epoch {entry['epoch']}: loss {entry['loss']:.4f} per word, {entry['words_per_second'] / 1e6:.2f} "
              f"M words/s, lr at end {entry['lr']:.6f}"
              + (f", {len(entry['words_by_rank'])} ranks, {entry['sync_bytes'] / 2**20:.1f} MiB sent per rank in "
                 f"{entry['sync_seconds']:.1f} s of syncs" if "words_by_rank" in entry else ""))
    print(f"wrote {args.output}: {len(vectors)} words, dim {vectors.vector_size}")


def cmd_similar(args):
    vectors = _load(args.vectors, args.limit)
    for word, score in vectors.most_similar([args.word], topn=args.topn):
        print(f"{word}\t{score:.4f}")


def cmd_analogy(args):
    vectors = _load(args.vectors, args.limit)
    query = vectors.most_similar_cosmul if args.cosmul else vectors.most_similar
    print(f"{args.a} is to {args.b} as {args.c} is to:")
    for word, score in query(positive=[args.b, args.c], negative=[args.a], topn=args.topn):
        print(f"{word}\t{score:.4f}")


def cmd_eval(args):
    vectors = _load(args.vectors, args.limit)
    analogies = args.analogies or evaluation.default_test_data("questions-words.txt")
    pairs = args.pairs or [p for p in (evaluation.default_test_data("wordsim353.tsv"),
                                       evaluation.default_test_data("simlex999.txt")) if p]
    if not analogies and not pairs:
        raise ValueError("no evaluation set given and gensim's test data is not installed: "
                         "pass --analogies FILE and/or --pairs FILE, or pip install 'wordembed[eval]'")
    print(f"{args.vectors}: {len(vectors)} words, dim {vectors.vector_size}")
    if analogies:
        score, sections = vectors.evaluate_word_analogies(analogies, restrict_vocab=args.restrict_vocab)
        for s in sections:
            n = len(s["correct"]) + len(s["incorrect"])
            share = f"{100 * len(s['correct']) / n:5.1f}%" if n else "   - "
            print(f"  {s['section']:<28} {share}  ({len(s['correct'])}/{n})")
        scored = len(sections[-1]["correct"]) + len(sections[-1]["incorrect"])
        asked = evaluation.count_analogy_questions(analogies)
        print(f"analogy accuracy: {100 * score:.2f}% of the {scored:,} questions scored; {asked - scored:,} of "
              f"{asked:,} were skipped for a word outside the {args.restrict_vocab:,} most frequent")
    for path in pairs:
        scores = vectors.evaluate_word_pairs(path, restrict_vocab=args.restrict_vocab)
        print(f"{path.rsplit('/', 1)[-1]}: Spearman {scores.spearman.statistic:.4f} (p={scores.spearman.pvalue:.2g}), "
              f"Pearson {scores.pearson.statistic:.4f} (p={scores.pearson.pvalue:.2g}), "
              f"OOV {scores.oov_ratio:.1f}%"
              + (" (scored by their subwords)" if vectors.subwords is not None and scores.oov_ratio else ""))


def cmd_plot(args):
    from .plot import check_installed, plot_words
    check_installed(word_map=True, method=args.method)
    refuse_overwriting_inputs([("vectors file", args.vectors)], [("output", args.output)])
    vectors = _load(args.vectors, args.limit)
    drawn = plot_words(vectors, args.words, args.output, neighbours=args.neighbours, method=args.method)
    print(f"wrote {args.output}: {len(drawn)} words")


def build_parser():
    from . import __version__
    parser = argparse.ArgumentParser(prog="wordembed", description="Fast word embeddings for PyTorch.")
    parser.add_argument("--version", action="version", version=f"wordembed {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    formatter = argparse.ArgumentDefaultsHelpFormatter  # every option's help shows its default

    def vectors_command(name, help, func):
        p = sub.add_parser(name, help=help, description=help, formatter_class=formatter)
        p.add_argument("vectors", help="vectors file: word2vec .bin or .txt, or wordembed .pt")
        p.add_argument("--limit", type=int, default=None, help="read only the first N vectors")
        p.set_defaults(func=func)
        return p

    p = sub.add_parser("train", help="train CBOW word vectors on a text file", formatter_class=formatter,
                       description="Train word2vec CBOW (negative sampling) vectors on a text file: "
                                   "one sentence or document per line, whitespace-separated tokens.")
    p.add_argument("corpus", help="UTF-8 text file")
    p.add_argument("-o", "--output", required=True,
                   help="vectors file: .txt for word2vec text, .pt for wordembed's format (keeps subwords), else word2vec binary (see --output-format)")
    from .config import MODELS, TrainConfig
    from .tokenizing import TOKENIZE_MODES
    d = TrainConfig()
    p.add_argument("--model", choices=MODELS, default=d.model,
                   help="cbow: the words around a position predict it; skipgram: each word predicts the "
                        "words around it (slower, often better for rare words)")
    p.add_argument("--minn", type=int, default=d.minn, help="shortest character n-gram of a subword model")
    p.add_argument("--maxn", type=int, default=d.maxn, help="longest character n-gram of a subword model (0: none)")
    p.add_argument("--bucket", type=int, default=d.bucket,
                   help="n-gram buckets of a subword model, as fastText (0: no subwords; fastText uses "
                        "2000000); the vectors then answer for unseen words too: save them as .pt or with "
                        "--output-format fasttext to keep that")
    p.add_argument("--output-format", choices=["text", "binary", "native", "fasttext"], default=None,
                   help="default by the output's name: .txt/.vec word2vec text, .pt native, else word2vec "
                        "binary; fasttext: a .bin that fastText loads (subword models)")
    p.add_argument("--dim", type=int, default=d.dim, help="length of the word vectors")
    p.add_argument("--window", type=int, default=d.window,
                   help="context words on each side, at most (word2vec shrinks it at random per word)")
    p.add_argument("--negative", type=int, default=d.negative, help="negative samples per word (1 to 1000)")
    p.add_argument("--min-count", type=int, default=d.min_count, help="keep words seen at least this often")
    p.add_argument("--tokenize", choices=TOKENIZE_MODES, default=d.tokenize,
                   help="whitespace: the text is already tokenised; words: split punctuation off words "
                        "('said.' becomes 'said' '.')")
    p.add_argument("--lowercase", action="store_true", help="lower-case the text before counting words")
    p.add_argument("--max-vocab-size", type=int, default=None,
                   help="bound the distinct words held while counting, as word2vec and gensim do: past it, "
                        "the rarest so far are dropped (default: no bound, exact counts)")
    p.add_argument("--max-final-vocab", type=int, default=None,
                   help="then keep only this many of the most frequent words (default: no cap)")
    p.add_argument("--sample", type=float, default=d.sample,
                   help="word2vec's subsampling threshold for frequent words (0: off)")
    p.add_argument("--epochs", type=int, default=d.epochs, help="passes over the corpus")
    p.add_argument("--alpha", type=float, default=d.alpha,
                   help="learning rate at the start; it falls linearly to alpha * 1e-4 (default: 0.05 for "
                        "cbow, 0.025 for skipgram, as word2vec)")
    p.add_argument("--threads", type=int, default=None, help="threads that prepare the corpus and train (default: the cores torch uses)")
    p.add_argument("--seed", type=int, default=d.seed, help="seed of the initial vectors and of every draw")
    p.add_argument("--init-scale", type=float, default=d.init_scale,
                   help="input vectors start uniform in +-INIT_SCALE/dim (word2vec: 0.5, gensim: 1.0)")
    p.add_argument("--device", default=d.device, help="cpu or cuda (cuda:N for another GPU)")
    p.add_argument("--deterministic", action="store_true",
                   help="one CPU thread (or one CUDA warp) walks the corpus in order; the same seed and "
                        "settings give bit-identical vectors")
    p.add_argument("--resume", action="store_true",
                   help="continue from OUTPUT.work/checkpoint.pt (start afresh if there is none yet)")
    p.add_argument("--chunk-words", type=int, default=None,
                   help="words per call of the compiled trainer (default 2^18 on the CPU, 2^22 on CUDA); in a "
                        "distributed run, the words each rank trains between two syncs (default 2^17 on the CPU)")
    p.add_argument("--checkpoint-seconds", type=float, default=d.checkpoint_seconds,
                   help="save a checkpoint this often, as well as at epoch ends and on Ctrl-C "
                        "(0: after every chunk)")
    from .sync import SCHEMES
    p.add_argument("--sync", choices=SCHEMES, default=d.sync,
                   help="distributed runs (torchrun): after each rank's --chunk-words words, deltas: the rows "
                        "each rank changed travel; average: the tables are averaged across ranks")
    p.add_argument("--sync-hot-rows", type=int, default=d.sync_hot_rows,
                   help="distributed runs, deltas: the rows of this many most frequent words are summed across "
                        "ranks after every round")
    p.add_argument("--sync-full-every", type=int, default=d.sync_full_every,
                   help="distributed runs, deltas: every other changed row is summed every this many rounds")
    p.add_argument("--dist-timeout", type=float, default=d.dist_timeout,
                   help="distributed runs: seconds a rank waits for the others before every rank stops")
    p.add_argument("--plot-curves", metavar="PNG", help="write the loss and learning rate, per chunk and per epoch, as a PNG (redrawn at each epoch's end)")
    p.set_defaults(func=cmd_train)

    p = vectors_command("similar", "nearest words by cosine similarity", cmd_similar)
    p.add_argument("word")
    p.add_argument("--topn", type=int, default=10, help="how many neighbours to show")

    p = vectors_command("analogy", "A is to B as C is to ?", cmd_analogy)
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("c")
    p.add_argument("--topn", type=int, default=5, help="how many answers to show")
    p.add_argument("--cosmul", action="store_true", help="rank by 3CosMul instead of 3CosAdd")

    p = vectors_command("eval", "analogy accuracy and word-pair correlations", cmd_eval)
    p.add_argument("--analogies", help="Google-format analogy file (default: gensim's questions-words.txt)")
    p.add_argument("--pairs", nargs="+", help="word-pair files (default: WordSim-353 and SimLex-999)")
    p.add_argument("--restrict-vocab", type=int, default=evaluation.RESTRICT_VOCAB,
                   help="score only questions and pairs whose words are among the N most frequent "
                        "(gensim's default, and the API's)")

    p = vectors_command("plot", "2-D map of words and their neighbours, as a PNG", cmd_plot)
    p.add_argument("words", nargs="+")
    p.add_argument("-o", "--output", required=True, help="PNG file to write")
    p.add_argument("--neighbours", type=int, default=5, help="nearest words drawn around each word")
    p.add_argument("--method", choices=["pca", "tsne"], default="pca", help="how the map is flattened to 2-D")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except KeyError as e:  # unknown word: the message already suggests close matches
        return _error(e.args[0] if e.args else e)
    except LostRankError as e:
        # A distributed run lost a rank: say so and leave at once. Exiting the usual way runs
        # the destructors of torch.distributed's threads and store, and with a rank gone they
        # can abort the process (SIGABRT) after the message: it happened once in this project's
        # CI, with a rank stopped (SIGSTOP) for good.
        _error(e)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(2)
    except (VectorsFileError, TrainingError, OSError, ValueError) as e:
        return _error(e)
    except ImportError as e:  # the compiled extension, needed to train, is not built: say how to
        return _error(e)
    except MemoryError:
        return _error("out of memory")
    except Exception:
        traceback.print_exc()
        print("wordembed: internal error: this is a bug in wordembed; please report it with the command "
              "and the traceback above", file=sys.stderr)
        return 1
    return 0


def _error(message):
    print(f"wordembed: error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
