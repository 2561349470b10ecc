"""fastText's quantize, for a trained Classifier (wordembed.quantize_classifier): keep the input
rows that matter most (-cutoff), train them again on the training file (-retrain), then store
each table as product-quantization codes (product_quantizer.py). The result is a Classifier
whose save() writes fastText's .ftz.

Which rows matter: fastText keeps the rows of largest norm, "</s>" always first; the words kept
stay in their order and the n-gram rows follow in order of norm, each bucket mapped to its row
(a bucket not kept leaves the lines it was in)."""
import dataclasses

import torch

from .. import ops
from ..classify.model import Classifier
from ..classify.tree import huffman_paths, noise_cdf
from ..errors import TrainingError
from ..text import labelled
from ..text.subwords import EOS
from ..vectors.quantized import CENTROIDS
from .classifier_config import LOSSES
from .product_quantizer import quantize_table
from .quantize_config import QuantizeConfig

RETRAIN_SEED = 1234


def quantize_classifier(classifier: Classifier, config: QuantizeConfig, input=None) -> Classifier:
    """A compressed copy of a classifier, as fastText's quantize makes it (its save() writes the
    .ftz); input: the labelled file config.retrain trains on."""
    config.check()
    _check_fits(classifier, config, input)
    dictionary, inputs, bucket_rows = classifier.dictionary, classifier.input_vectors.detach(), None
    outputs = classifier.output_vectors.detach().clone()
    if 0 < config.cutoff < len(inputs):
        dictionary, keep, bucket_rows = prune(classifier, select_rows(classifier, config.cutoff))
        inputs = inputs[keep]
        if config.retrain:
            pruned = Classifier(dictionary, inputs, outputs, classifier.settings, bucket_rows)
            retrain(pruned, input, config)
            inputs, outputs = pruned.input_vectors.detach(), pruned.output_vectors.detach()
    quantized_input = quantize_table(inputs, config.dsub, config.qnorm)
    quantized_output = quantize_table(outputs, 2, config.qnorm) if config.qout else None
    decoded_output = outputs if quantized_output is None else quantized_output.decode()
    return Classifier(dictionary, quantized_input.decode(), decoded_output, classifier.settings, bucket_rows,
                      (quantized_input, quantized_output))


def _check_fits(classifier, config, input):
    if classifier.is_quantized:
        raise TrainingError("this model is quantized already: quantize the model it was made from")
    if config.retrain and input is None:
        raise TrainingError("retrain needs the labelled file to train on (input)")
    if config.qout and len(classifier.labels) < CENTROIDS:
        raise TrainingError(f"qout quantizes the output matrix, which needs at least {CENTROIDS} labels; this model "
                            f"has {len(classifier.labels)}")
    rows = len(classifier.input_vectors)
    kept = config.cutoff if 0 < config.cutoff < rows else rows
    if kept < CENTROIDS:
        raise TrainingError(f"quantizing needs at least {CENTROIDS} input rows; {kept} would be kept"
                            + (" (raise cutoff)" if kept < rows else ""))


def select_rows(classifier, cutoff: int) -> torch.Tensor:
    """The `cutoff` input rows of largest norm, "</s>" first wherever its norm puts it."""
    norms = classifier.input_vectors.detach().float().norm(dim=1)
    if not torch.isfinite(norms).all():
        raise ValueError("the input table holds NaN or infinite numbers: it cannot be quantized")
    order = torch.sort(norms, descending=True, stable=True).indices
    if EOS in classifier.dictionary.words:
        eos = classifier.dictionary.words.index(EOS)
        order = torch.cat([order.new_tensor([eos]), order[order != eos]])
    return order[:cutoff]


def prune(classifier, selected: torch.Tensor):
    """(dictionary of the words kept, the input rows to keep in their new order, bucket_rows)."""
    d, nwords = classifier.dictionary, classifier.dictionary.nwords
    words = torch.sort(selected[selected < nwords]).values
    ngrams = selected[selected >= nwords]
    buckets = ngrams - nwords
    bucket_rows = torch.full((classifier.settings["bucket"],), -1, dtype=torch.int64)
    bucket_rows[buckets] = torch.arange(len(buckets))
    kept = words.tolist()
    dictionary = dataclasses.replace(d, words=[d.words[i] for i in kept], word_counts=[d.word_counts[i] for i in kept])
    return dictionary, torch.cat([words, ngrams]), bucket_rows


def retrain(classifier, path, config: QuantizeConfig) -> None:
    """Trains the pruned classifier's tables again, in place, on a labelled file: `epochs` passes
    in a new random order each, the rate falling linearly from lr to 0."""
    s, d = classifier.settings, classifier.dictionary
    epochs = s.get("epoch", 5) if config.epochs is None else config.epochs
    lr = s.get("lr", 0.1) if config.lr is None else config.lr
    ids, starts = labelled.encode(labelled.text_tensor(path), d, s["wordNgrams"], s["bucket"], s["minn"], s["maxn"],
                                  keep_unlabelled=False, bucket_rows=classifier.bucket_rows)
    tree, cdf = huffman_paths(d.label_counts), noise_cdf(d.label_counts)
    generator = torch.Generator().manual_seed(RETRAIN_SEED)
    tables = (classifier.embedding.weight.data, classifier.linear.weight.data)
    threads_before = torch.get_num_threads()
    torch.set_num_threads(config.threads or threads_before)
    try:
        for epoch in range(epochs):
            shuffled_ids, shuffled_starts = shuffle_lines(ids, starts, generator)
            ops.supervised_train_chunk_(*tables, shuffled_ids, shuffled_starts, loss=LOSSES.index(s["loss"]),
                                        negative=s.get("neg", 5), label_cdf=cdf,
                                        tree_offsets=tree[0], tree_nodes=tree[1], tree_codes=tree[2],
                                        lr_start=lr * (1 - epoch / epochs), lr_end=lr * (1 - (epoch + 1) / epochs),
                                        seed=RETRAIN_SEED + epoch)
    finally:
        torch.set_num_threads(threads_before)


def shuffle_lines(ids: torch.Tensor, starts: torch.Tensor, generator: torch.Generator):
    """(ids, starts) of the same lines in a random order: files come sorted by label or date,
    and lines trained in that order teach the last labels most."""
    lines = len(starts) - 1
    order = torch.randperm(lines, generator=generator)
    lengths = starts.diff()[order]
    new_starts = torch.cat([starts.new_zeros(1), lengths.cumsum(0)])
    source = torch.repeat_interleave(starts[:-1][order] - new_starts[:-1], lengths) + torch.arange(len(ids))
    return ids[source], new_starts
