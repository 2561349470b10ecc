"""fastText's commands that wordembed's own command line lacks (test-label, print-word-vectors,
print-sentence-vectors, print-ngrams, nn, analogies, dump), and what its training commands print
and write: each prints what `fasttext` prints, in its number formats (a vector's values to 5
significant digits, each followed by a space; scores to 6)."""
import io
import math
import os
import sys

import numpy as np
import torch

from ..fasttext import load_model
from ..fileio import atomic_write, check_input_file
from ..vectors.formats import check_words


def input_and_outputs(args):
    """(the input's path, [(what, path)] of the outputs, the model first): INPUT or -input, and
    -o PATH (that file alone) or -output PREFIX (PREFIX.bin, PREFIX.vec, and PREFIX.output with
    -saveOutput), each given once."""
    if (args.input is None) == (args.input_option is None):
        raise ValueError("give the input once: INPUT or -input INPUT" if args.input is not None else
                         "give the input: -input FILE (or FILE after the command)")
    if (args.output is None) == (args.output_prefix is None):
        raise ValueError("give the output once: -o PATH or -output PREFIX" if args.output is not None else
                         "give the output: -output PREFIX (writes PREFIX.bin and PREFIX.vec) or -o PATH")
    if getattr(args, "autotune", None):
        raise ValueError("fastText's autotune (-autotune-*) tunes classifiers only: use it with supervised")
    if args.output is not None:
        if args.save_output:
            raise ValueError("-saveOutput writes PREFIX.output: give the output as -output PREFIX")
        return args.input or args.input_option, [("output", args.output)]
    prefix = args.output_prefix
    model_file = prefix + (".ftz" if getattr(args, "model_size", None) else ".bin")  # autotune's quantized model
    outputs = [("output", model_file), ("vectors output", prefix + ".vec")]
    if args.save_output:
        outputs.append(("output table", prefix + ".output"))
    return args.input or args.input_option, outputs


def autotuned(args, path, config, tune):
    """The best classifier autotune finds in tune.duration seconds (fastText's progress line on
    stderr, then the settings it chose); the settings the command line names stay as given."""
    from ..training.autotune import TUNED, autotune
    check_input_file(tune.validation, "autotune validation file")
    fixed = {name for name in TUNED if name in args.given}
    log = None if args.verbose == 0 else sys.stderr
    best, trials = autotune(path, config, fixed, tune, log, args.pretrained_vectors)
    if log is not None:
        s = best.settings
        print(f"Best of {len(trials)} trials: score {best.score:.6f} with epoch {s.epochs}, lr {s.lr:.4g}, "
              f"dim {s.dim}, wordNgrams {s.word_ngrams}, minn {s.minn}, maxn {s.maxn}, bucket {s.bucket}, loss {s.loss}"
              + (f", dsub {best.dsub}" if tune.model_size else ""), file=log)
    return best.model


def log_for(args):
    """Where training reports: nowhere at -verbose 0."""
    return io.StringIO() if args.verbose == 0 else None


def write_extra_outputs(args, model):
    """PREFIX.vec (every word's vector) and, with -saveOutput, PREFIX.output (the output table's rows,
    under the words or labels they stand for), as fastText writes them (word2vec's text layout)."""
    if args.output_prefix is None:
        return
    words = model.get_words()
    save_text_vectors(args.output_prefix + ".vec", words, model.word_vector_matrix())
    if args.save_output:
        names = model.get_labels() if model.is_supervised() else words
        save_text_vectors(args.output_prefix + ".output", names, model.get_output_matrix())


def save_text_vectors(path, words, matrix, rows_per_call=1 << 16):
    """word2vec's text layout, each value the shortest text that reads back as the same float32,
    formatted by the compiled library on every thread."""
    from .. import ops  # noqa: F401  (loads the compiled library)
    check_words(words)
    matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    with atomic_write(path) as f:
        f.write(f"{len(words)} {matrix.shape[1]}\n".encode())
        for first in range(0, len(words), rows_per_call):
            names = "".join(word + "\n" for word in words[first:first + rows_per_call]).encode("utf-8")
            text = torch.ops.wordembed.format_text_rows(torch.frombuffer(bytearray(names), dtype=torch.uint8),
                                                        torch.from_numpy(matrix[first:first + rows_per_call]))
            f.write(text.numpy().tobytes())


def format_vector(vector) -> str:
    """fastText's way: each value to 5 significant digits, followed by a space."""
    return "".join(f"{float(v):.5g} " for v in vector)


def report(args, history, ntokens, nwords, nlabels, threads):
    """fastText's lines on stderr after training (verbose 1: the dictionary's size; 2: also the
    last progress line)."""
    verbose = 2 if args.verbose is None else args.verbose
    if verbose >= 1:
        print(f"Read {ntokens // 1_000_000}M words\nNumber of words:  {nwords}\nNumber of labels: {nlabels}",
              file=sys.stderr)
    if verbose >= 2 and history:
        per_thread = history[-1]["words_per_second"] / max(threads or os.cpu_count() or 1, 1)
        print(f"Progress: 100.0% words/sec/thread: {int(per_thread):7d} lr: {0.0:9.6f} avg.loss: "
              f"{history[-1]['loss']:9.6f} ETA:   0h 0m 0s", file=sys.stderr)


def _model(path):
    check_input_file(path, "model")
    return load_model(path)


def _metric(name, value):
    return f"{name} : " + (f"{value:.6f}" if math.isfinite(value) else "--------") + "  "


def cmd_test_label(args):
    from .commands import classifier_input, k_and_threshold
    k, threshold = k_and_threshold(args)
    model = _model(args.model)
    data = classifier_input(args.input)
    classifier = model._supervised("test-label")
    scores = classifier.test_label(data, k, threshold)
    out = [_metric("F1-Score", f) + _metric("Precision", p) + _metric("Recall", r) + " " + label
           for label, (f, p, r) in scores.items()]
    n, precision, recall = classifier.test(data, k, threshold)
    out += [f"N\t{n}", f"P@{k}\t{precision:.3f}", f"R@{k}\t{recall:.3f}"]
    print("\n".join(out))


def cmd_print_word_vectors(args):
    model = _model(args.model)
    for line in sys.stdin:
        for word in line.split():
            sys.stdout.write(f"{word} {format_vector(model.get_word_vector(word))}\n")


def cmd_print_sentence_vectors(args):
    model = _model(args.model)
    for line in sys.stdin:
        sys.stdout.write(format_vector(model.get_sentence_vector(line.rstrip("\n"))) + "\n")


def cmd_print_ngrams(args):
    model = _model(args.model)
    if not model.bucket or not model.maxn:
        raise ValueError(f"{args.model} has no character n-grams (maxn 0 or bucket 0)")
    strings, rows = model.get_subwords(args.word)
    for string, row in zip(strings, rows):
        sys.stdout.write(f"{string} {format_vector(model.get_input_vector(int(row)))}\n")


def cmd_nn(args):
    _check_k(args.k)
    model = _model(args.model)
    _queries("Query word? ", 1, lambda words: model.get_nearest_neighbors(words[0], args.k))


def cmd_analogies(args):
    _check_k(args.k)
    print(f"Loading model {args.model}")
    model = _model(args.model)
    _queries("Query triplet (A - B + C)? ", 3, lambda words: model.get_analogies(*words, k=args.k))


def _check_k(k):
    if k < 1:
        raise ValueError(f"k must be 1 or more, got {k}")


def _queries(prompt, size, answer):
    """fastText's interactive loop: the prompt, then the answer to each `size` words read."""
    sys.stdout.write(prompt)
    sys.stdout.flush()
    pending = []
    for line in sys.stdin:
        pending += line.split()
        while len(pending) >= size:
            query, pending = pending[:size], pending[size:]
            sys.stdout.write("".join(f"{word} {score:.6g}\n" for score, word in answer(query)) + prompt)
            sys.stdout.flush()
    sys.stdout.write("\n")


def cmd_dump(args):
    model = _model(args.model)
    if args.option == "args":
        s = {**model.settings, "loss": {"ova": "one-vs-all"}.get(model.settings["loss"], model.settings["loss"]),
             "model": {"skipgram": "sg", "supervised": "sup"}.get(model.settings["model"], model.settings["model"])}
        names = ("dim", "ws", "epoch", "minCount", "neg", "wordNgrams", "loss", "model", "bucket", "minn", "maxn",
                 "lrUpdateRate", "t")
        sys.stdout.write("".join(f"{name} {s[name]:g}\n" if name == "t" else f"{name} {s[name]}\n" for name in names))
    elif args.option == "dict":
        words, counts = model.get_words(include_freq=True)
        entries = [(w, c, "word") for w, c in zip(words, counts.tolist())]
        if model.is_supervised():
            labels, label_counts = model.get_labels(include_freq=True)
            entries += [(w, c, "label") for w, c in zip(labels, label_counts.tolist())]
        sys.stdout.write(f"{len(entries)}\n" + "".join(f"{w} {c} {kind}\n" for w, c, kind in entries))
    else:
        matrix = model.get_input_matrix() if args.option == "input" else model.get_output_matrix()
        sys.stdout.write(f"{matrix.shape[0]} {matrix.shape[1]}\n")
        for row in matrix:
            sys.stdout.write(" ".join(f"{float(v):.6g}" for v in row) + "\n")


def cmd_quantize(args):
    """fastText's quantize: -output PREFIX reads PREFIX.bin and writes PREFIX.ftz (or MODEL -o PATH)."""
    from ..classify.model import Classifier
    from ..training.quantize import quantize_classifier
    from ..training.quantize_config import QuantizeConfig
    from .options import settings_from
    if (args.model is None) == (args.output_prefix is None):
        raise ValueError("give the model once: -output PREFIX (reads PREFIX.bin, writes PREFIX.ftz) or MODEL -o PATH")
    if args.model is not None and args.output is None:
        raise ValueError("give where the quantized model goes: -o PATH")
    if args.model is None and args.output is not None:
        raise ValueError("-output PREFIX writes PREFIX.ftz: leave out -o")
    config = settings_from(args, QuantizeConfig)
    config.check()
    source = args.model or args.output_prefix + ".bin"
    check_input_file(source, "model")
    if args.input is not None:
        check_input_file(args.input, "input")
    model = quantize_classifier(Classifier.load(source), config, args.input)
    model.save(args.output or args.output_prefix + ".ftz")
