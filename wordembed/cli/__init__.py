"""The `wordembed` command line: train, query, evaluate and plot word vectors (commands.py, one
function per command; parser.py, their options). Every expected failure (bad options, files or
words) is a one-line message and exit status 2; a traceback means a bug in wordembed, and says
so. The top layer: it may import everything, and nothing imports it."""
import os
import sys
import traceback

from ..errors import LostRankError, TrainingError
from ..vectors import VectorsFileError
from .parser import build_parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else [os.fspath(a) for a in argv]
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except BrokenPipeError:  # the reader of our output left (`| head`): stop quietly, as SIGPIPE would
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyError as e:  # unknown word: the message already suggests close matches
        return _error(e.args[0] if e.args else e)
    except LostRankError as e:
        # A distributed run lost a rank: say so and leave at once. Exiting the usual way runs
        # the destructors of torch.distributed's threads and store, and with a rank gone they
        # can abort the process (SIGABRT) after the message: it happened once in this project's
        # CI, with a rank stopped (SIGSTOP) for good.
        _error(e)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(2)
    except (VectorsFileError, TrainingError, OSError, ValueError) as e:
        return _error(e)
    except ImportError as e:  # the compiled extension, needed to train, is not built: say how to
        return _error(e)
    except MemoryError:
        return _error("out of memory")
    except Exception:
        traceback.print_exc()
        print("wordembed: internal error: this is a bug in wordembed; please report it with the command "
              "and the traceback above", file=sys.stderr)
        return 1
    return 0


def _error(message):
    print(f"wordembed: error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
