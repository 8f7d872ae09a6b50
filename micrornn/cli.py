"""The ``micrornn`` command: ``micrornn tour | demo NAME | draw …``.

    micrornn draw --topology many-to-one --steps 5 --hidden 3 --out picture.svg
    micrornn demo 07_vanishing_exploding --out out/
    micrornn tour --out out/tour [--quick] [--step] [--jobs N]

A user error (a bad number, an ``--out`` that cannot be written, an unknown demo) is one line on
stderr that names the argument, and exit code 2, argparse's convention; never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["main"]

FORMATS = ("svg", "png", "pdf", "jpg", "jpeg", "gif", "ps", "eps")  # what `draw --out` can write
MAX_STEPS = 10_000  # --steps: a picture folds the middle anyway; this bounds the time to build the graph
MAX_SIZE = 1_000  # --hidden, --input, --output
MAX_NUMBERS = 20_000_000  # numbers in all per-step weight copies (T × weights): 160 MB of float64 each for data, grad
MAX_SCALAR_NUMBERS = 100_000  # the same with --scalar, where each number is a Python Value node


class UsageError(Exception):
    """A bad command line found after parsing: ``argument`` is the option to name in the message."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(f"argument {argument}: {message}")


class _Parser(argparse.ArgumentParser):
    """argparse with each error on one line (no usage block), still exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# -- argument types: each names what it expected -------------------------------------------------------------
def _whole(low: int, high: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if n < low or (high is not None and n > high):
            bounds = f"≥ {low}" if high is None else f"from {low} to {high:,}"
            raise argparse.ArgumentTypeError(f"must be {bounds}, got {n}")
        return n

    parse.__name__ = "whole number"
    return parse


def _picture_file(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError(f"needs a file name such as picture.svg, got {text!r}")
    path = Path(text)
    if any(len(part.encode()) > 255 for part in path.parts):  # the OS refuses such a name (ENAMETOOLONG)
        raise argparse.ArgumentTypeError(f"a part of the path is longer than 255 bytes: {text[:60]}…")
    if path.is_dir() or text.endswith(("/", os.sep)):
        raise argparse.ArgumentTypeError(f"{text} is a folder; name a file in it, such as {path / 'picture.svg'}")
    suffix = path.suffix.lstrip(".").lower()
    if suffix not in FORMATS:
        raise argparse.ArgumentTypeError(f"the file name must end in one of .{', .'.join(FORMATS)}, got {text!r}")
    return path


def _folder(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError(f"needs a folder name such as out/tour, got {text!r}")
    return Path(text)


def _check_folder(path: Path) -> None:
    """Check ``--out`` before any work (without creating it: a bad demo name must leave no folder behind)."""
    if path.exists() and not path.is_dir():
        raise UsageError("--out", f"{path} is a file, not a folder")
    existing = next(p for p in [path, *path.absolute().parents] if p.exists())
    if not existing.is_dir():
        raise UsageError("--out", f"cannot create the folder {path}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError("--out", f"cannot create the folder {path}: {existing} is not writable")


def _cannot_write(e: OSError, out: Path) -> OSError | UsageError:
    if isinstance(e, BrokenPipeError):  # the reader of our output went away (`| head`): not about --out (main)
        return e
    if e.filename is None and e.strerror is None:  # micrornn's own message (files.py), which names the path
        return UsageError("--out", str(e).partition(": ")[2] or str(e))
    if isinstance(e, (FileExistsError, NotADirectoryError)):  # a file where the path needs a folder
        return UsageError("--out", f"cannot write {out}: {e.filename} is a file, not a folder")
    return UsageError("--out", f"cannot write {e.filename or out}: {e.strerror or e}")


# -- the commands ----------------------------------------------------------------------------------------
GATES = {"rnn": 1, "elman": 1, "jordan": 1, "lstm": 4, "gru": 3}  # weight blocks per cell: sizes the guard


def _check_size(args: argparse.Namespace) -> None:
    h = args.hidden
    numbers = args.steps * (GATES[args.cell] * (h * h + h * args.input) + args.output * h)
    limit = MAX_SCALAR_NUMBERS if args.scalar else MAX_NUMBERS
    if numbers > limit:
        what = "Value nodes (--scalar makes one per number)" if args.scalar else "numbers in the per-step copies"
        raise UsageError("--steps", f"--steps {args.steps} with --hidden {h}, --input {args.input}, --output "
                         f"{args.output} makes {numbers:,} {what}; this command draws at most {limit:,}: "
                         "use fewer steps or a smaller net")


def _cell(args: argparse.Namespace) -> Any:
    """The cell ``--cell`` names; the simple RNN's options (--activation, --feedback) are refused for the
    others rather than ignored, and --truncate for the copy nets, whose truncation is 1 by definition."""
    from .nn import GRU, LSTM, RNN, Elman, Jordan

    if args.feedback is not None and args.cell != "rnn":
        raise UsageError("--feedback", f"--feedback is an option of --cell rnn, not of --cell {args.cell} "
                                       "(elman feeds back the hidden state, jordan the output)")
    if args.activation is not None and args.cell in ("lstm", "gru"):
        raise UsageError("--activation", f"--activation is an option of --cell rnn, elman and jordan, not of "
                                         f"--cell {args.cell} (its gates fix their own)")
    if args.cell in ("elman", "jordan") and args.truncate is not None:
        raise UsageError("--truncate", f"--cell {args.cell} is a copy net: its truncation is 1 by definition "
                                       "(use --cell rnn --truncate k for other windows)")
    sizes, seed = (args.input, args.hidden, args.output), args.seed
    activation = args.activation or "tanh"
    if args.cell == "rnn":
        return RNN(*sizes, activation=activation, feedback=args.feedback or "hidden", truncate=args.truncate,
                   seed=seed)
    if args.cell in ("elman", "jordan"):
        return (Elman if args.cell == "elman" else Jordan)(*sizes, activation=activation, seed=seed)
    return (LSTM if args.cell == "lstm" else GRU)(*sizes, seed=seed, truncate=args.truncate)


def _draw(args: argparse.Namespace) -> int:
    from . import unroll, viz

    _check_size(args)
    rng = np.random.default_rng(args.seed)
    rnn = _cell(args)
    T = args.steps
    x = rng.normal(size=(T, args.input))
    y = rng.normal(size=(T, args.output))
    h0 = None
    if args.h0:  # an LSTM starts from the pair (h0, c0)
        zeros = tuple(np.zeros(rnn.context_size) for _ in rnn.state_names)
        h0 = zeros if len(zeros) > 1 else zeros[0]
    topology = args.topology
    if topology == "one-to-one":
        u = unroll.one_to_one(rnn, x[0], y[0], scalar=args.scalar)
    elif topology == "many-to-one":
        u = unroll.many_to_one(rnn, x, y[-1], h0=h0, scalar=args.scalar)
    elif topology == "many-to-many":
        u = unroll.many_to_many(rnn, x, y, h0=h0, scalar=args.scalar)
    else:
        u = unroll.one_to_many(rnn, x[0], y, h0=h0, scalar=args.scalar)
    u.backward()
    picture = viz.draw(u, view=args.view, max_steps=args.max_steps)
    try:
        out = viz.render(picture, args.out)
    except OSError as e:
        raise _cannot_write(e, args.out) from None
    print(f"wrote {out} ({args.cell}, {topology}, T = {u.T}, hidden {args.hidden}, {args.view} view); "
          f"DOT source: {out}.dot")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .tour import run_demo

    if args.out is not None:
        _check_folder(args.out)
    try:
        run_demo(args.name, args.out, quick=args.quick)
    except OSError as e:
        raise _cannot_write(e, args.out or Path("out/demo")) from None
    return 0


def _tour(args: argparse.Namespace) -> int:
    from .tour import run_tour

    _check_folder(args.out)
    if args.step and args.jobs not in (None, 1):
        raise UsageError("--jobs", "--step runs the demos one at a time (it pauses after each): leave --jobs out")
    try:
        run_tour(args.out, quick=args.quick, step=args.step, jobs=args.jobs)
    except OSError as e:
        raise _cannot_write(e, args.out) from None
    return 0


def _too_big(args: argparse.Namespace) -> str:
    """One line for a MemoryError: what was too big, and what to try."""
    if args.command == "draw":
        return (f"out of memory building the graph of --steps {args.steps} with --hidden {args.hidden}, --input "
                f"{args.input}, --output {args.output}{' and --scalar' if args.scalar else ''}; "
                "use fewer --steps or a smaller net")
    return f"out of memory running the {args.command}; try --quick, or close other programs"


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="micrornn", description="Recurrent networks, unrolled and drawn.")
    sub = parser.add_subparsers(dest="command", required=True)

    tour = sub.add_parser("tour", help="run every demo in the order of the notes; writes a gallery page")
    tour.add_argument("--out", type=_folder, default=Path("out/tour"), help="folder for pictures, plots and "
                      "index.html")
    tour.add_argument("--quick", action="store_true", help="smaller data and fewer steps (≤ 5 s on 2 cores)")
    tour.add_argument("--step", action="store_true", help="pause between sections (Enter to go on)")
    tour.add_argument("--jobs", type=_whole(1, 64), default=None, help="demos run at once, each in a process of "
                      "its own (default: one per core, at most 4; --step runs one at a time)")
    tour.set_defaults(run=_tour)

    demo = sub.add_parser("demo", help="run one demo, e.g. 07_vanishing_exploding (or just 07)")
    demo.add_argument("name")
    demo.add_argument("--out", type=_folder, default=None,
                      help="folder for the demo's pictures (default out/demo/NN_name)")
    demo.add_argument("--quick", action="store_true")
    demo.set_defaults(run=_demo)

    draw = sub.add_parser("draw", help="draw an unrolled RNN with random data")
    draw.add_argument("--topology", choices=["one-to-one", "many-to-one", "many-to-many", "one-to-many"],
                      default="many-to-one")
    draw.add_argument("--steps", type=_whole(1, MAX_STEPS), default=5,
                      help=f"T, the number of time steps (1 to {MAX_STEPS:,})")
    for name, default in (("--hidden", 3), ("--input", 2), ("--output", 2)):
        draw.add_argument(name, type=_whole(1, MAX_SIZE), default=default, help=f"a size from 1 to {MAX_SIZE:,}")
    draw.add_argument("--cell", choices=list(GATES), default="rnn",
                      help="the simple RNN, the Elman or Jordan copy net, an LSTM or a GRU")
    draw.add_argument("--activation", choices=["tanh", "sigmoid", "relu", "identity"], default=None,
                      help="f of the simple RNN and the copy nets (default tanh)")
    draw.add_argument("--feedback", choices=["hidden", "output"], default=None,
                      help="what the simple RNN feeds back (default hidden; output: Jordan)")
    draw.add_argument("--truncate", type=_whole(1), default=None, help="1 = Elman/Jordan copy net")
    draw.add_argument("--h0", action="store_true", help="start from an explicit H_0 (W^H then has T copies)")
    draw.add_argument("--scalar", action="store_true", help="one Value node per number")
    draw.add_argument("--view", choices=["coarse", "ops"], default="coarse")
    draw.add_argument("--max-steps", type=_whole(2, MAX_STEPS), default=8,
                      help="fold the middle steps beyond this (≥ 2: the first and last are always drawn)")
    draw.add_argument("--seed", type=_whole(0), default=0, help="a whole number ≥ 0")
    draw.add_argument("--out", type=_picture_file, default=Path("picture.svg"), help=f"one of .{', .'.join(FORMATS)}")
    draw.set_defaults(run=_draw)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit code, 2 for a user error.

        >>> main(["draw", "--seed", "-1"])
        2
    """
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:  # argparse has printed --help (0) or a one-line error (2)
        return e.code if isinstance(e.code, int) else 2
    try:
        return args.run(args)
    except (UsageError, ValueError, TypeError, LookupError, RuntimeError, TimeoutError) as e:  # found after parsing
        message = str(e)
    except MemoryError:  # the size guard is an estimate: a machine with little free memory still runs out
        print(f"micrornn {args.command}: error: {_too_big(args)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C: the tour's workers got it too and are gone; no traceback for a choice
        print(f"micrornn {args.command}: interrupted", file=sys.stderr)
        return 130  # the shell's code for "ended by SIGINT"
    except BrokenPipeError:  # `micrornn tour | head`: stop quietly, as a command killed by SIGPIPE does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush cannot fail again
        return 141  # 128 + SIGPIPE
    print(f"micrornn {args.command}: error: {' '.join(message.split())}", file=sys.stderr)  # one line
    return 2


if __name__ == "__main__":
    sys.exit(main())
