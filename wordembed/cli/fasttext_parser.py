"""fastText's command line, as fastText spells it: `fasttext COMMAND ARGS` runs as `wordembed
COMMAND ARGS`. Its training commands take -input FILE and -output PREFIX (writing PREFIX.bin and
PREFIX.vec) beside wordembed's own INPUT -o PATH, and every setting under both names (options.py);
its other commands take fastText's positional arguments."""
import dataclasses

from ..training.autotune_config import AutotuneConfig
from ..training.quantize_config import QuantizeConfig
from ..training.config import TrainConfig
from . import commands, fasttext_commands
from .options import FORMATTER, add_settings

# fastText's skipgram and cbow: subwords, and its defaults where they differ from wordembed train's
UNSUPERVISED_DEFAULTS = {"bucket": 2_000_000, "minn": 3, "maxn": 6, "sample": 1e-4, "alpha": 0.05, "min_alpha": 0.0}
UNSUPERVISED_SETTINGS = ("minn", "maxn", "bucket", "dim", "window", "negative", "min_count", "sample", "epochs",
                         "alpha", "min_alpha", "threads", "seed", "tokenize", "lowercase", "init_scale", "device", "deterministic",
                         "shuffle", "checkpoint_seconds")
AUTOTUNE_OPTIONS = ("-autotune-validation", "-autotune-metric", "-autotune-predictions", "-autotune-duration",
                    "-autotune-modelsize")


def add_input_output(p, input_help, output_help):
    p.add_argument("input", nargs="?", help=input_help)
    p.add_argument("-input", dest="input_option", metavar="INPUT", help="as INPUT (fastText's spelling)")
    p.add_argument("-o", "--output", help=output_help)
    p.add_argument("-output", dest="output_prefix", metavar="PREFIX",
                   help="write PREFIX.bin and PREFIX.vec (and PREFIX.output with -saveOutput), as fastText does")


def add_fasttext_only(p, supervised):
    """fastText's options that are not settings of wordembed's training."""
    p.add_argument("-verbose", "--verbose", dest="verbose", type=int, choices=(0, 1, 2), default=None,
                   help="0: nothing on stderr; 1: the dictionary's size; 2: that and the progress (default: "
                        "fastText's 2 with -output, else wordembed's own report)")
    p.add_argument("-saveOutput", "--save-output", dest="save_output", action="store_true",
                   help="with -output: also write the output table as PREFIX.output, in fastText's .vec layout")
    p.add_argument("-lrUpdateRate", "--lr-update-rate", dest="lr_update_rate", type=int, default=100,
                   help="fastText's words between two steps of its learning rate: accepted, with no effect "
                        "(wordembed lowers the rate continuously)")
    if supervised:
        p.add_argument("-ws", dest="window", type=int, default=5,
                       help="fastText's context window: accepted, with no effect (its supervised training does "
                            "not read it either)")
        p.add_argument("-t", dest="sample", type=float, default=1e-4,
                       help="fastText's sampling threshold: accepted, with no effect (its supervised training "
                            "does not read it either)")
    else:
        p.add_argument("-loss", dest="loss", choices=("ns", "hs", "softmax"), default="ns",
                       help="wordembed trains word vectors with negative sampling (ns) only")
        for option, what in (("-wordNgrams", "word n-grams"), ("-minCountLabel", "labels"), ("-label", "labels")):
            p.add_argument(option, dest="ignored_" + option[1:], metavar="VALUE",
                           help=f"accepted as fastText accepts it; its cbow and skipgram use no {what} either")
    if supervised:
        add_settings(p, AutotuneConfig, [f.name for f in dataclasses.fields(AutotuneConfig)])
        return
    for option in AUTOTUNE_OPTIONS:
        p.add_argument(option, dest="autotune", action="append", metavar="VALUE",
                       help="fastText's autotune tunes classifiers only: refused here")


def add_k_and_threshold(p):
    p.add_argument("k_positional", nargs="?", type=int, metavar="K", help="as --k (fastText's way of giving it)")
    p.add_argument("threshold_positional", nargs="?", type=float, metavar="THRESHOLD", help="as --threshold")
    p.add_argument("--k", type=int, default=None, help="labels per line (-1: all) [default: 1]")
    p.add_argument("--threshold", type=float, default=None, help="least probability of a label [default: 0]")


def add_fasttext_commands(sub):
    for model in ("skipgram", "cbow"):
        p = sub.add_parser(model, help=f"train {model} word vectors with subwords, as `fasttext {model}`",
                           formatter_class=FORMATTER,
                           description=f"fastText's {model}: word vectors with character n-gram subwords and "
                                       "fastText's defaults. -input FILE -output PREFIX writes PREFIX.bin (fastText "
                                       "loads it) and PREFIX.vec; -o PATH writes one file, by its name's format.")
        add_input_output(p, "UTF-8 text file", "vectors file to write (exactly this path; .bin: fastText's)")
        add_settings(p, TrainConfig, UNSUPERVISED_SETTINGS, defaults=UNSUPERVISED_DEFAULTS)
        add_fasttext_only(p, supervised=False)
        p.set_defaults(func=commands.cmd_fasttext_vectors, model=model)

    p = sub.add_parser("test-label", help="precision, recall and F1 of each label, as `fasttext test-label`",
                       formatter_class=FORMATTER)
    _model_and_input(p, "labelled file, fastText's format, or - for standard input")
    add_k_and_threshold(p)
    p.set_defaults(func=fasttext_commands.cmd_test_label)

    for name, what in (("print-word-vectors", "the vector of each word read from standard input"),
                       ("print-sentence-vectors", "the vector of each line of standard input")):
        p = sub.add_parser(name, help=f"{what}, as `fasttext {name}`", formatter_class=FORMATTER)
        p.add_argument("model", help="fastText or wordembed model (.bin, or any vectors file)")
        p.set_defaults(func=getattr(fasttext_commands, "cmd_" + name.replace("-", "_")))
    p = sub.add_parser("print-ngrams", help="a word's subwords and their vectors, as `fasttext print-ngrams`",
                       formatter_class=FORMATTER)
    p.add_argument("model", help="fastText or wordembed model")
    p.add_argument("word")
    p.set_defaults(func=fasttext_commands.cmd_print_ngrams)
    for name, what in (("nn", "nearest neighbours of each word read"), ("analogies", "A - B + C for each triplet read")):
        p = sub.add_parser(name, help=f"{what} from standard input, as `fasttext {name}`", formatter_class=FORMATTER)
        p.add_argument("model", help="fastText or wordembed model")
        p.add_argument("k", nargs="?", type=int, default=10, help="answers per query")
        p.set_defaults(func=getattr(fasttext_commands, "cmd_" + name))
    p = sub.add_parser("dump", help="a model's settings, dictionary or tables as text, as `fasttext dump`",
                       formatter_class=FORMATTER)
    p.add_argument("model", help="fastText or wordembed model (.bin)")
    p.add_argument("option", choices=("args", "dict", "input", "output"))
    p.set_defaults(func=fasttext_commands.cmd_dump)
    p = sub.add_parser("quantize", help="a classifier made small (fastText's .ftz), as `fasttext quantize`",
                       formatter_class=FORMATTER)
    p.add_argument("model", nargs="?", help="the classifier's .bin (then -o PATH)")
    p.add_argument("-output", dest="output_prefix", metavar="PREFIX", help="read PREFIX.bin, write PREFIX.ftz")
    p.add_argument("-o", "--output", help="where the quantized model goes (with MODEL)")
    p.add_argument("-input", "--input", dest="input", metavar="FILE", help="the labelled file -retrain trains on")
    p.add_argument("-verbose", "--verbose", dest="verbose", type=int, choices=(0, 1, 2), default=None,
                   help="accepted as fastText accepts it")
    add_settings(p, QuantizeConfig, [f.name for f in dataclasses.fields(QuantizeConfig)])
    p.set_defaults(func=fasttext_commands.cmd_quantize)


def _model_and_input(p, input_help):
    p.add_argument("model", help="classifier .bin (wordembed's or fastText's)")
    p.add_argument("input", help=input_help)
