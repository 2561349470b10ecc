"""The command line's options: one sub-parser per command, with the library's defaults (from
TrainConfig, the one place they are set) shown in every --help."""
import argparse
import difflib

from ..training.classifier_config import ClassifierConfig
from ..training.config import TrainConfig
from ..vectors import evaluation
from . import commands
from .fasttext_parser import add_fasttext_commands, add_fasttext_only, add_input_output, add_k_and_threshold
from .options import FORMATTER, add_settings


class Parser(argparse.ArgumentParser):
    """argparse's parser that takes an option only as it is spelled in full (--out is not --output,
    -output is not -o utput), reports a bad command line in one line, naming an unknown option and
    the closest one there is; its sub-parsers are Parsers too, and report their own errors."""

    def __init__(self, *args, **kwargs):
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)

    def _get_option_tuples(self, option_string):
        return []  # argparse's guesses: a prefix of a long option, or a short one with its value glued on

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(self._unexpected(extras[0]))
        given = getattr(namespace, "given", set())
        for argument in args if args is not None else []:
            action = self._option_string_actions.get(str(argument).partition("=")[0])
            if action is not None:
                given.add(action.dest)
        namespace.given = given  # the settings the command line names (autotune leaves them as they are)
        return namespace, extras

    def _unexpected(self, argument):
        if not argument.startswith("-") or self._negative_number_matcher.match(argument):
            return f"unexpected argument {argument!r}"
        known = [option for option in self._option_string_actions if option not in ("-h", "--help")]
        close = difflib.get_close_matches(argument, known, n=1, cutoff=0.6)
        return f"unknown option {argument}" + (f" (did you mean {close[0]}?)" if close else "")

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
    add_fasttext_commands(sub)
    return parser


TRAIN_SETTINGS = ("model", "minn", "maxn", "bucket", "dim", "window", "negative", "min_count", "tokenize", "lowercase",
                  "max_vocab_size", "max_final_vocab", "sample", "epochs", "alpha", "min_alpha", "threads", "seed",
                  "init_scale", "device", "deterministic", "shuffle", "shared_negatives", "chunk_words",
                  "checkpoint_seconds", "sync", "sync_hot_rows", "sync_full_every", "dist_timeout")


def add_train_command(sub):
    p = sub.add_parser("train", help="train CBOW or skip-gram word vectors on a text file", formatter_class=FORMATTER,
                       description="Train word2vec CBOW or skip-gram (negative sampling) vectors on a text file: "
                                   "one sentence or document per line, whitespace-separated tokens.")
    p.add_argument("corpus", help="UTF-8 text file")
    p.add_argument("-o", "--output", required=True,
                   help="vectors file: .txt for word2vec text, .pt for wordembed's format (keeps subwords), else word2vec binary (see --output-format)")
    p.add_argument("--output-format", choices=["text", "binary", "native", "fasttext"], default=None,
                   help="default by the output's name: .txt/.vec word2vec text, .pt native, else word2vec "
                        "binary; fasttext: a .bin that fastText loads (subword models)")
    add_settings(p, TrainConfig, TRAIN_SETTINGS)
    p.add_argument("--init", metavar="VECTORS",
                   help="continue training these vectors (word2vec, fastText .bin or wordembed .pt) on the corpus: "
                        "their words are kept, the corpus's new words added")
    p.add_argument("--resume", action="store_true",
                   help="continue from OUTPUT.work/checkpoint.pt (start afresh if there is none yet)")
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


CLASSIFIER_SETTINGS = ("lr", "dim", "epochs", "word_ngrams", "bucket", "minn", "maxn", "min_count", "min_count_label",
                       "neg", "loss", "label_prefix", "threads", "seed", "deterministic", "shuffle",
                       "checkpoint_seconds")


def add_classifier_commands(sub):
    p = sub.add_parser("supervised", help="train a text classifier, as `fasttext supervised`", formatter_class=FORMATTER,
                       description="Train fastText's supervised classifier on a file of labelled lines: each line "
                                   "its labels (tokens starting with the label prefix) and its text. Writes "
                                   "fastText's supervised .bin, which `fasttext` loads too. fastText's command "
                                   "line works as it is: -input FILE -output PREFIX writes PREFIX.bin and PREFIX.vec.")
    add_input_output(p, "training file, fastText's format (__label__A __label__B text ...)",
                     "model file to write (exactly this path)")
    add_settings(p, ClassifierConfig, CLASSIFIER_SETTINGS)
    p.add_argument("--pretrained-vectors", "-pretrainedVectors", "--pretrainedVectors", dest="pretrained_vectors",
                   metavar="VECTORS",
                   help="vectors that start the words they know (word2vec .txt/.vec/.bin, fastText .bin, wordembed "
                        ".pt); --dim must match them")
    add_fasttext_only(p, supervised=True)
    p.add_argument("--resume", action="store_true", help="continue from OUTPUT.work (start afresh if it has nothing)")
    p.set_defaults(func=commands.cmd_supervised)

    p = sub.add_parser("test", help="precision and recall at k of a classifier, as `fasttext test`",
                       formatter_class=FORMATTER, description="Print N, P@K and R@K over the lines of a labelled "
                                                              "file (- for standard input), as `fasttext test`.")
    p.add_argument("model", help="classifier .bin (wordembed's or fastText's)")
    p.add_argument("input", help="labelled file, fastText's format, or - for standard input")
    add_k_and_threshold(p)
    p.set_defaults(func=commands.cmd_test)

    for name, prob in (("predict", False), ("predict-prob", True)):
        p = sub.add_parser(name, help=f"a classifier's k best labels{' and their probabilities' if prob else ''} "
                                      "for each line, as `fasttext " + name + "`", formatter_class=FORMATTER)
        p.add_argument("model", help="classifier .bin (wordembed's or fastText's)")
        p.add_argument("input", help="text file, one example per line, or - for standard input")
        add_k_and_threshold(p)
        if not prob:
            p.add_argument("--prob", action="store_true", help="print each label's probability after it")
        p.set_defaults(func=commands.cmd_predict, prob=prob)
