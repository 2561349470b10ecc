"""The command line's options: one sub-parser per command, with the library's defaults (from
TrainConfig, the one place they are set) shown in every --help."""
import argparse

from ..text.tokenizing import TOKENIZE_MODES
from ..training.classifier_config import LOSSES, ClassifierConfig
from ..training.config import MODELS, SYNC_SCHEMES, TrainConfig
from ..vectors import evaluation
from . import commands


FORMATTER = argparse.ArgumentDefaultsHelpFormatter  # every option's help shows its default


class Parser(argparse.ArgumentParser):
    """argparse's parser that never takes a prefix for an option (--out is not --output) and
    reports a bad command line in one line; its sub-parsers are Parsers too."""

    def __init__(self, *args, **kwargs):
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser():
    from .. import __version__
    parser = Parser(prog="wordembed", description="Fast word embeddings for PyTorch.")
    parser.add_argument("--version", action="version", version=f"wordembed {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    add_train_command(sub)
    add_vectors_commands(sub)
    add_classifier_commands(sub)
    return parser


def add_train_command(sub):
    p = sub.add_parser("train", help="train CBOW word vectors on a text file", formatter_class=FORMATTER,
                       description="Train word2vec CBOW (negative sampling) vectors on a text file: "
                                   "one sentence or document per line, whitespace-separated tokens.")
    p.add_argument("corpus", help="UTF-8 text file")
    p.add_argument("-o", "--output", required=True,
                   help="vectors file: .txt for word2vec text, .pt for wordembed's format (keeps subwords), else word2vec binary (see --output-format)")
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
                   help="one CPU thread (or one CUDA warp) walks each chunk in order; the same seed and "
                        "settings give bit-identical vectors")
    p.add_argument("--no-shuffle", dest="shuffle", action="store_false",
                   help="train the sentences in the file's order every epoch, as word2vec and gensim do "
                        "(default: a fresh order each epoch, drawn from the seed)")
    p.add_argument("--shared-negatives", type=int, default=None, metavar="P",
                   help="CPU: P positions of a sentence share one draw of negatives and train as one minibatch "
                        "(skipgram: about 1.4x faster, vectors as good); 0: every example alone, with its own negatives "
                        "(default: 1 for skipgram, 0 for cbow, whose vectors lose analogy points when positions "
                        "share negatives; 0 on CUDA)")
    p.add_argument("--init", metavar="VECTORS",
                   help="continue training these vectors (word2vec, fastText .bin or wordembed .pt) on the corpus: "
                        "their words are kept, the corpus's new words added")
    p.add_argument("--resume", action="store_true",
                   help="continue from OUTPUT.work/checkpoint.pt (start afresh if there is none yet)")
    p.add_argument("--chunk-words", type=int, default=None,
                   help="words per call of the compiled trainer (default 2^18 on the CPU, 2^22 on CUDA); in a "
                        "distributed run, the words each rank trains between two syncs (default 2^17 on the CPU)")
    p.add_argument("--checkpoint-seconds", type=float, default=d.checkpoint_seconds,
                   help="save a checkpoint this often, as well as at epoch ends and on Ctrl-C "
                        "(0: after every chunk)")
    p.add_argument("--sync", choices=SYNC_SCHEMES, default=d.sync,
                   help="distributed runs (torchrun): after each rank's --chunk-words words, deltas: the rows "
                        "each rank changed travel; average: the tables are averaged across ranks")
    p.add_argument("--sync-hot-rows", type=int, default=d.sync_hot_rows,
                   help="distributed runs, deltas: the rows of this many most frequent words are summed across "
                        "ranks after every round, the next H every 2 rounds, the next 2H every 4, and so on")
    p.add_argument("--sync-full-every", type=int, default=d.sync_full_every,
                   help="distributed runs, deltas: a subword model's changed n-gram rows are summed every this many "
                        "rounds (and at every epoch's end)")
    p.add_argument("--dist-timeout", type=float, default=d.dist_timeout,
                   help="distributed runs: seconds a rank waits for the others before every rank stops")
    p.add_argument("--plot-curves", metavar="PNG", help="write the loss and learning rate, per chunk and per epoch, as a PNG (redrawn at each epoch's end)")
    p.set_defaults(func=commands.cmd_train)


def _vectors_command(sub, name, help, func):
    p = sub.add_parser(name, help=help, description=help, formatter_class=FORMATTER)
    p.add_argument("vectors", help="vectors file: word2vec .bin or .txt, or wordembed .pt")
    p.add_argument("--limit", type=int, default=None, help="read only the first N vectors")
    p.set_defaults(func=func)
    return p


def add_vectors_commands(sub):
    p = _vectors_command(sub, "similar", "nearest words by cosine similarity", commands.cmd_similar)
    p.add_argument("word")
    p.add_argument("--topn", type=int, default=10, help="how many neighbours to show")

    p = _vectors_command(sub, "analogy", "A is to B as C is to ?", commands.cmd_analogy)
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("c")
    p.add_argument("--topn", type=int, default=5, help="how many answers to show")
    p.add_argument("--cosmul", action="store_true", help="rank by 3CosMul instead of 3CosAdd")

    p = _vectors_command(sub, "eval", "analogy accuracy and word-pair correlations", commands.cmd_eval)
    p.add_argument("--analogies", help="Google-format analogy file (default: gensim's questions-words.txt)")
    p.add_argument("--pairs", nargs="+", help="word-pair files (default: WordSim-353 and SimLex-999)")
    p.add_argument("--restrict-vocab", type=int, default=evaluation.RESTRICT_VOCAB,
                   help="score only questions and pairs whose words are among the N most frequent "
                        "(gensim's default, and the API's)")

    p = _vectors_command(sub, "plot", "2-D map of words and their neighbours, as a PNG", commands.cmd_plot)
    p.add_argument("words", nargs="+")
    p.add_argument("-o", "--output", required=True, help="PNG file to write")
    p.add_argument("--neighbours", type=int, default=5, help="nearest words drawn around each word")
    p.add_argument("--method", choices=["pca", "tsne"], default="pca", help="how the map is flattened to 2-D")

    p = _vectors_command(sub, "export", "write the vectors in another tool's files: TensorBoard's projector",
                         commands.cmd_export)
    p.add_argument("folder", help="folder to write the files in (made if missing)")
    p.add_argument("--projector", action="store_true",
                   help="tensors.tsv, metadata.tsv and projector_config.pbtxt, for `tensorboard --logdir FOLDER`")


def add_classifier_commands(sub):
    p = sub.add_parser("supervised", help="train a text classifier, as `fasttext supervised`", formatter_class=FORMATTER,
                       description="Train fastText's supervised classifier on a file of labelled lines: each line "
                                   "its labels (tokens starting with the label prefix) and its text. Writes "
                                   "fastText's supervised .bin, which `fasttext` loads too.")
    p.add_argument("input", help="training file, fastText's format (__label__A __label__B text ...)")
    p.add_argument("-o", "--output", required=True, help="model file to write (exactly this path)")
    d = ClassifierConfig()
    p.add_argument("--lr", type=float, default=d.lr, help="learning rate at the start; it falls linearly to 0")
    p.add_argument("--dim", type=int, default=d.dim, help="length of the word vectors")
    p.add_argument("--epoch", "--epochs", dest="epochs", type=int, default=d.epochs, help="passes over the data")
    p.add_argument("--word-ngrams", "--wordNgrams", dest="word_ngrams", type=int, default=d.word_ngrams,
                   help="also learn runs of up to this many words (hashed into --bucket rows)")
    p.add_argument("--bucket", type=int, default=None,
                   help="rows for word and char n-grams (default: 2000000 where there are any, as fastText)")
    p.add_argument("--minn", type=int, default=d.minn, help="shortest char n-gram (with --maxn)")
    p.add_argument("--maxn", type=int, default=d.maxn, help="longest char n-gram (0: none)")
    p.add_argument("--min-count", "--minCount", dest="min_count", type=int, default=d.min_count,
                   help="keep words seen at least this often")
    p.add_argument("--min-count-label", "--minCountLabel", dest="min_count_label", type=int,
                   default=d.min_count_label, help="keep labels seen at least this often")
    p.add_argument("--neg", type=int, default=d.neg, help="negatives per example (loss ns)")
    p.add_argument("--loss", choices=LOSSES, default=d.loss,
                   help="softmax; ns: negative sampling; hs: hierarchical softmax; ova: one-vs-all (multi-label)")
    p.add_argument("--label-prefix", "--label", dest="label_prefix", default=d.label_prefix,
                   help="what starts a label token")
    p.add_argument("--pretrained-vectors", "--pretrainedVectors", dest="pretrained_vectors", metavar="VECTORS",
                   help="vectors that start the words they know (word2vec .txt/.vec/.bin, fastText .bin, wordembed "
                        ".pt); --dim must match them")
    p.add_argument("--threads", "--thread", dest="threads", type=int, default=None,
                   help="training threads (default: the cores torch uses)")
    p.add_argument("--seed", type=int, default=d.seed, help="seed of the initial vectors and of every draw")
    p.add_argument("--deterministic", action="store_true",
                   help="one thread: the same seed and settings give bit-identical models")
    p.add_argument("--no-shuffle", dest="shuffle", action="store_false",
                   help="train the lines in the file's order every epoch (default: a fresh order each epoch, "
                        "drawn from the seed; in file order, a file grouped by label learns mostly its last labels)")
    p.add_argument("--resume", action="store_true", help="continue from OUTPUT.work (start afresh if it has nothing)")
    p.add_argument("--checkpoint-seconds", type=float, default=d.checkpoint_seconds,
                   help="save a checkpoint this often, as well as at epoch ends and on Ctrl-C")
    p.set_defaults(func=commands.cmd_supervised)

    p = sub.add_parser("test", help="precision and recall at k of a classifier, as `fasttext test`",
                       formatter_class=FORMATTER, description="Print N, P@K and R@K over the lines of a labelled "
                                                              "file (- for standard input), as `fasttext test`.")
    p.add_argument("model", help="classifier .bin (wordembed's or fastText's)")
    p.add_argument("input", help="labelled file, fastText's format, or - for standard input")
    _add_k_and_threshold(p)
    p.set_defaults(func=commands.cmd_test)

    for name, prob in (("predict", False), ("predict-prob", True)):
        p = sub.add_parser(name, help=f"a classifier's k best labels{' and their probabilities' if prob else ''} "
                                      "for each line, as `fasttext " + name + "`", formatter_class=FORMATTER)
        p.add_argument("model", help="classifier .bin (wordembed's or fastText's)")
        p.add_argument("input", help="text file, one example per line, or - for standard input")
        _add_k_and_threshold(p)
        if not prob:
            p.add_argument("--prob", action="store_true", help="print each label's probability after it")
        p.set_defaults(func=commands.cmd_predict, prob=prob)


def _add_k_and_threshold(p):
    p.add_argument("k_positional", nargs="?", type=int, metavar="K", help="as --k (fastText's way of giving it)")
    p.add_argument("threshold_positional", nargs="?", type=float, metavar="THRESHOLD", help="as --threshold")
    p.add_argument("--k", type=int, default=None, help="labels per line (-1: all) [default: 1]")
    p.add_argument("--threshold", type=float, default=None, help="least probability of a label [default: 0]")
