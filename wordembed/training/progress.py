"""What a run shows while it trains: a tqdm bar on a terminal, plain log lines every few seconds
otherwise (a log file, CI), nothing on the ranks that do not speak for a distributed run."""
import sys
import time


class Progress:
    """A tqdm bar on a terminal; plain log lines every few seconds otherwise."""

    def __init__(self, total_words, stream=None, interval=5.0, quiet=False):
        self.stream = stream or sys.stderr
        self.total, self.done, self.interval, self.quiet = total_words, 0, interval, quiet
        self.start = self.last_print = time.perf_counter()
        self.bar = None
        if self.stream.isatty() and not quiet:
            from tqdm import tqdm
            self.bar = tqdm(total=total_words, unit="word", unit_scale=True, file=self.stream,
                            dynamic_ncols=True, smoothing=0.1)

    def update(self, words, epoch, lr, loss):
        self.done += words
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.set_postfix_str(f"epoch {epoch} lr {lr:.5f} loss {loss:.4f}", refresh=False)
            self.bar.update(words)
            return
        now = time.perf_counter()
        if now - self.last_print >= self.interval or self.done == self.total:
            self.last_print = now
            rate = self.done / max(now - self.start, 1e-9)
            print(f"epoch {epoch}: {100 * self.done / self.total:5.1f}% of words, {rate / 1e6:.2f} M words/s, "
                  f"lr {lr:.5f}, loss {loss:.4f}", file=self.stream, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()
