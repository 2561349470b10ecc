"""The commands of the command line, one function each: they turn parsed arguments into calls of
the library and print what they return. No logic that the library lacks lives here."""
import os
import sys

from ..distributed.world import environment_rank
from ..fasttext.model import FastTextModel
from ..fileio import check_input_file, check_output_path, refuse_overwriting_inputs
from ..vectors import evaluation
from . import fasttext_commands
from .options import settings_from


def _load(path, limit=None):
    from ..vectors import WordVectors
    return WordVectors.load(path, limit=limit)


def cmd_train(args):
    from ..train import train_vectors
    from ..training.config import TrainConfig
    config = settings_from(args, TrainConfig)
    config.check()  # every setting, before any file is touched
    outputs = [("output", args.output)] + ([("curves plot", args.plot_curves)] if args.plot_curves else [])
    inputs = [("corpus", args.corpus)] + ([("vectors to continue from", args.init)] if args.init else [])
    refuse_overwriting_inputs(inputs, outputs)
    callbacks = []
    if args.plot_curves and environment_rank() == 0:  # rank 0 draws a distributed run's curves
        from ..vectors.plot import check_installed, plot_training
        check_installed()  # before training, not at the first epoch's end
        callbacks.append(lambda trainer, entry: plot_training(trainer.history, args.plot_curves, trainer.curve))
    try:
        vectors = train_vectors(args.corpus, args.output, config, resume=args.resume, callbacks=callbacks,
                                output_format=args.output_format, init=args.init)
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
                 f"{entry['sync_rounds']} rounds, {entry['sync_seconds']:.1f} s in syncs" if "words_by_rank" in entry else ""))
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
    from ..vectors.plot import check_installed, plot_words
    check_installed(word_map=True, method=args.method)
    refuse_overwriting_inputs([("vectors file", args.vectors)], [("output", args.output)])
    vectors = _load(args.vectors, args.limit)
    drawn = plot_words(vectors, args.words, args.output, neighbours=args.neighbours, method=args.method)
    print(f"wrote {args.output}: {len(drawn)} words")


def cmd_export(args):
    if not args.projector:
        raise ValueError("say what to export: --projector (TensorBoard's projector files)")
    outputs = [(f"output {name}", os.path.join(args.folder, name))
               for name in ("tensors.tsv", "metadata.tsv", "projector_config.pbtxt")]
    refuse_overwriting_inputs([("vectors file", args.vectors)], outputs)
    vectors = _load(args.vectors, args.limit)
    vectors.save_projector(args.folder)
    print(f"wrote {', '.join(path for _, path in outputs)}: {len(vectors)} words, dim {vectors.vector_size}")


def cmd_supervised(args):
    from ..train import train_classifier
    from ..training.autotune_config import AutotuneConfig
    from ..training.classifier_config import ClassifierConfig
    config = settings_from(args, ClassifierConfig)
    config.check()
    settings_from(args, AutotuneConfig).check()
    path, outputs = fasttext_commands.input_and_outputs(args)
    inputs = [("training file", path)] + ([("pretrained vectors", args.pretrained_vectors)]
                                          if args.pretrained_vectors else [])
    refuse_overwriting_inputs(inputs, outputs)
    for what, output in outputs[1:]:
        check_output_path(output, what)
    model_path = outputs[0][1]
    tune = settings_from(args, AutotuneConfig)
    if tune.validation is not None:
        model = fasttext_commands.autotuned(args, path, config, tune)
        model.save(model_path)
        fasttext_commands.write_extra_outputs(args, FastTextModel(classifier=model))
        return
    try:
        model = train_classifier(path, model_path, config, resume=args.resume, log=fasttext_commands.log_for(args),
                                 pretrained_vectors=args.pretrained_vectors)
    except KeyboardInterrupt:
        print(f"\ninterrupted: the state at the last chunk is saved in {model_path}.work; "
              "run the same command with --resume to continue", file=sys.stderr)
        raise SystemExit(130)
    fasttext_commands.write_extra_outputs(args, FastTextModel(classifier=model))
    if args.output_prefix is not None:
        fasttext_commands.report(args, model.history, model.dictionary.ntokens, model.dictionary.nwords,
                                 len(model.labels), config.threads)
        return
    last = model.history[-1]
    print(f"wrote {model_path}: {model.dictionary.nwords:,} words, {len(model.labels):,} labels, loss "
          f"{last['loss']:.4f} per example in the last epoch", file=sys.stderr)


def cmd_fasttext_vectors(args):
    """fastText's skipgram and cbow: subword vectors, PREFIX.bin and PREFIX.vec."""
    from ..train import train_vectors
    from ..training.config import TrainConfig
    config = settings_from(args, TrainConfig)
    config.check()
    if args.loss != "ns":
        raise ValueError(f"wordembed trains word vectors with negative sampling (-loss ns), not {args.loss}")
    path, outputs = fasttext_commands.input_and_outputs(args)
    refuse_overwriting_inputs([("corpus", path)], outputs)
    for what, output in outputs[1:]:
        check_output_path(output, what)
    output_format = "fasttext" if args.output_prefix is not None else None
    vectors = train_vectors(path, outputs[0][1], config, log=fasttext_commands.log_for(args),
                            output_format=output_format)
    fasttext_commands.write_extra_outputs(args, FastTextModel(vectors=vectors))
    counts = int(vectors.counts.sum()) if vectors.counts is not None else 0
    fasttext_commands.report(args, vectors.history, counts, len(vectors), 0, config.threads)


def k_and_threshold(args):
    k = args.k if args.k is not None else args.k_positional if args.k_positional is not None else 1
    threshold = (args.threshold if args.threshold is not None else
                 args.threshold_positional if args.threshold_positional is not None else 0.0)
    return k, threshold


def classifier_input(path):
    """A file's path, or standard input's bytes for -."""
    if path == "-":
        return sys.stdin.buffer.read()
    check_input_file(path, "input")
    return path


def cmd_test(args):
    from ..classify.model import Classifier
    k, threshold = k_and_threshold(args)
    model = Classifier.load(args.model)
    n, precision, recall = model.test(classifier_input(args.input), k, threshold)
    print(f"N\t{n}\nP@{k}\t{precision:.3g}\nR@{k}\t{recall:.3g}")


def cmd_predict(args):
    from ..classify.model import Classifier
    k, threshold = k_and_threshold(args)
    model = Classifier.load(args.model)
    labels, probabilities = model.predict_file(classifier_input(args.input), k, threshold)
    out = []
    for names, probs in zip(labels, probabilities):
        if args.prob:
            out.append(" ".join(f"{name} {p:g}" for name, p in zip(names, probs.tolist())))
        else:
            out.append(" ".join(names))
    sys.stdout.write("".join(line + "\n" for line in out))
