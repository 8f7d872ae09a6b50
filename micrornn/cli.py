"""The ``micrornn`` command: ``micrornn tour | demo NAME | draw …``.

    micrornn draw --topology many-to-one --steps 5 --hidden 3 --out picture.svg
    micrornn demo 07_vanishing_exploding --out out/
    micrornn tour --out out/tour [--quick] [--step]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

__all__ = ["main"]


def _draw(args: argparse.Namespace) -> int:
    from . import unroll, viz
    from .nn import RNN

    rng = np.random.default_rng(args.seed)
    rnn = RNN(args.input, args.hidden, args.output, activation=args.activation, feedback=args.feedback,
              truncate=args.truncate, seed=args.seed)
    T = args.steps
    x = rng.normal(size=(T, args.input))
    y = rng.normal(size=(T, args.output))
    h0 = np.zeros(rnn.context_size) if args.h0 else None
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
    out = viz.render(picture, args.out)
    print(f"wrote {out} ({topology}, T = {u.T}, hidden {args.hidden}, {args.view} view); DOT source: {out}.dot")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .tour import run_demo

    run_demo(args.name, Path(args.out), quick=args.quick)
    return 0


def _tour(args: argparse.Namespace) -> int:
    from .tour import run_tour

    run_tour(Path(args.out), quick=args.quick, step=args.step)
    return 0


def _positive(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be ≥ 1, got {n}")
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="micrornn", description="Recurrent networks, unrolled and drawn.")
    sub = parser.add_subparsers(dest="command", required=True)

    tour = sub.add_parser("tour", help="run every demo in the order of the notes; writes a gallery page")
    tour.add_argument("--out", default="out/tour", help="folder for pictures, plots and index.html")
    tour.add_argument("--quick", action="store_true", help="smaller data and fewer steps (≤ 15 s)")
    tour.add_argument("--step", action="store_true", help="pause between sections (Enter to go on)")
    tour.set_defaults(run=_tour)

    demo = sub.add_parser("demo", help="run one demo, e.g. 07_vanishing_exploding (or just 07)")
    demo.add_argument("name")
    demo.add_argument("--out", default="out/demo")
    demo.add_argument("--quick", action="store_true")
    demo.set_defaults(run=_demo)

    draw = sub.add_parser("draw", help="draw an unrolled RNN with random data")
    draw.add_argument("--topology", choices=["one-to-one", "many-to-one", "many-to-many", "one-to-many"],
                      default="many-to-one")
    draw.add_argument("--steps", type=_positive, default=5, help="T, the number of time steps")
    draw.add_argument("--hidden", type=_positive, default=3)
    draw.add_argument("--input", type=_positive, default=2)
    draw.add_argument("--output", type=_positive, default=2)
    draw.add_argument("--activation", choices=["tanh", "sigmoid", "relu", "identity"], default="tanh")
    draw.add_argument("--feedback", choices=["hidden", "output"], default="hidden")
    draw.add_argument("--truncate", type=_positive, default=None, help="1 = Elman/Jordan copy net")
    draw.add_argument("--h0", action="store_true", help="start from an explicit H_0 (W^H then has T copies)")
    draw.add_argument("--scalar", action="store_true", help="one Value node per number")
    draw.add_argument("--view", choices=["coarse", "ops"], default="coarse")
    draw.add_argument("--max-steps", type=_positive, default=8, help="fold the middle steps beyond this")
    draw.add_argument("--seed", type=int, default=0)
    draw.add_argument("--out", default="picture.svg", help=".svg, .png or .pdf")
    draw.set_defaults(run=_draw)

    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, TypeError, RuntimeError, TimeoutError) as e:  # bad input: one clear line, no traceback
        print(f"micrornn {args.command}: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
