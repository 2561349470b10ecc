"""Ctrl-C during training, taken at a safe point.

A KeyboardInterrupt raised wherever Python happens to be can land after a compiled step has
updated the tables and before the trainer has counted that step: a checkpoint saved then trains
that chunk twice on resume. So the first Ctrl-C only asks the trainer to stop; the trainer stops
after the chunk in hand, when tables and counters agree, saves, and raises KeyboardInterrupt
there. A second Ctrl-C stops at once, keeping the last checkpoint that was saved."""
import contextlib
import signal
import sys
import threading


class DeferredInterrupt:
    def __init__(self, log=None):
        self.requested = False
        self.log = log if log is not None else sys.stderr

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\ninterrupt: stopping after this chunk and saving a checkpoint "
              "(press Ctrl-C again to stop at once, keeping the last checkpoint)", file=self.log, flush=True)


@contextlib.contextmanager
def deferred_interrupt(log=None):
    """Yields a DeferredInterrupt whose `requested` turns True on the first SIGINT. Outside the
    main thread signals cannot be caught: there, `requested` stays False and Ctrl-C acts as usual."""
    state = DeferredInterrupt(log)
    if threading.current_thread() is not threading.main_thread():
        yield state
        return
    previous = signal.signal(signal.SIGINT, state._handler)
    try:
        yield state
    finally:
        # (None: a handler set from C, which Python cannot put back; the default one stands in)
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)
