"""A classifier's file: fastText's supervised .bin (vectors/fasttext_format.py has the layout),
so that `fasttext.load_model` reads what wordembed writes and the other way round."""
import os

import torch

from ..text.labelled import LABEL_PREFIX, LabelledDictionary, token_bytes, token_str
from ..vectors.fasttext_format import FastTextFormatError, read_model, write_model

# fastText's settings that a supervised model's file holds but that do not change what it
# predicts: written as fastText writes them.
FIXED = {"ws": 5, "model": "supervised", "lrUpdateRate": 100, "t": 1e-4}


def save_classifier(path, dictionary: LabelledDictionary, input_vectors, output_vectors, settings: dict) -> None:
    """settings: dim, epoch, minCount, neg, wordNgrams, loss, bucket, minn, maxn (fastText's names)."""
    tokens = [token_bytes(t) for t in dictionary.words + dictionary.labels]
    counts = list(dictionary.word_counts) + list(dictionary.label_counts)
    inputs = input_vectors.detach().to("cpu", torch.float32).numpy()
    outputs = output_vectors.detach().to("cpu", torch.float32).numpy()
    write_model(path, tokens, counts, dictionary.nwords, inputs, outputs,
                {**FIXED, **settings, "ntokens": dictionary.ntokens})


def load_classifier(path, label_prefix=LABEL_PREFIX):
    """(dictionary, input_vectors, output_vectors, settings) of a supervised .bin; a clear
    FastTextFormatError for anything else."""
    name = os.path.basename(os.fspath(path))
    model = read_model(path)
    settings, nwords, nlabels = model["settings"], model["nwords"], model["nlabels"]
    if settings["model"] != "supervised":
        raise FastTextFormatError(f"{name}: a fastText {settings['model']} model (word vectors), not a classifier: "
                                  "load it with wordembed.WordVectors.load")
    if settings["loss"] not in ("softmax", "ns", "hs", "ova"):
        raise FastTextFormatError(f"{name}: unknown loss {settings['loss']!r}")
    if nlabels < 1 or model["output"].shape[0] != nlabels:
        raise FastTextFormatError(f"{name}: {nlabels} labels but an output matrix of {model['output'].shape[0]} rows")
    if settings["wordNgrams"] < 1 or settings["maxn"] < 0 or settings["minn"] < 0:
        raise FastTextFormatError(f"{name}: settings out of range (wordNgrams {settings['wordNgrams']}, minn "
                                  f"{settings['minn']}, maxn {settings['maxn']})")
    if settings["bucket"] == 0 and (settings["wordNgrams"] > 1 or settings["maxn"] > 0):
        raise FastTextFormatError(f"{name}: n-grams without n-gram rows (bucket 0)")
    tokens, counts = [token_str(t) for t in model["tokens"]], model["counts"].tolist()
    dictionary = LabelledDictionary(tokens[:nwords], counts[:nwords], tokens[nwords:], counts[nwords:],
                                    int(model["ntokens"]), label_prefix)
    return dictionary, torch.from_numpy(model["input"]), torch.from_numpy(model["output"]), settings
