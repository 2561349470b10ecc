"""A classifier's file: fastText's supervised .bin (vectors/fasttext_format.py has the layout),
so that `fasttext.load_model` reads what wordembed writes and the other way round."""
import os

import torch

from ..text.labelled import LABEL_PREFIX, LabelledDictionary, token_bytes, token_str
from ..vectors.fasttext_format import FastTextFormatError, read_model, write_model
from ..vectors.quantized import QuantizedTable

# fastText's settings that a supervised model's file holds but that do not change what it
# predicts: written as fastText writes them.
FIXED = {"ws": 5, "model": "supervised", "lrUpdateRate": 100, "t": 1e-4}


def save_classifier(path, dictionary: LabelledDictionary, input_vectors, output_vectors, settings: dict,
                    bucket_rows=None) -> None:
    """settings: dim, epoch, minCount, neg, wordNgrams, loss, bucket, minn, maxn (fastText's names).
    The tables: tensors, or QuantizedTables (a .ftz); bucket_rows: a pruned model's."""
    tokens = [token_bytes(t) for t in dictionary.words + dictionary.labels]
    counts = list(dictionary.word_counts) + list(dictionary.label_counts)
    inputs, outputs = (t if isinstance(t, QuantizedTable) else t.detach().to("cpu", torch.float32).numpy()
                       for t in (input_vectors, output_vectors))
    prune = None
    if bucket_rows is not None:
        buckets = (bucket_rows >= 0).nonzero()[:, 0]
        prune = (buckets.numpy(), bucket_rows[buckets].numpy())
    write_model(path, tokens, counts, dictionary.nwords, inputs, outputs,
                {**FIXED, **settings, "ntokens": dictionary.ntokens}, prune)


def load_classifier(path, label_prefix=LABEL_PREFIX):
    """(dictionary, input_vectors, output_vectors, settings (fastText's names), bucket_rows) of a
    supervised .bin or .ftz (the tables: tensors, or QuantizedTables; bucket_rows: None, or a
    pruned model's); a clear FastTextFormatError for anything else."""
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
    bucket_rows = None
    if model["prune"] is not None:
        buckets, rows = model["prune"]
        bucket_rows = torch.full((settings["bucket"],), -1, dtype=torch.int64)
        bucket_rows[torch.from_numpy(buckets)] = torch.from_numpy(rows)
    inputs, outputs = (t if isinstance(t, QuantizedTable) else torch.from_numpy(t)
                       for t in (model["input"], model["output"]))
    return dictionary, inputs, outputs, settings, bucket_rows
