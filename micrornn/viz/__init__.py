"""Graphviz pictures of graphs: every time step, every per-step copy, every gradient.

    >>> import micrornn as mr
    >>> a = mr.Value(2.0); b = mr.Value(-3.0)
    >>> y = a * b + b ** 2; y.backward()
    >>> g = draw(y)                        # a graphviz.Digraph: shows inline in Jupyter
    >>> "**" in g.source and "label=-3" in g.source     # the ops, and ∂(ab)/∂a = b on its edge
    True

``draw`` accepts an ``Unrolled`` (from ``micrornn.unroll``), a ``Tensor`` or a ``Value``. What a node
*is* comes from the unroller's record (``u.roles``: input, H, C, gate, output, loss, per-step weight
copy, parameter, context cut), never from its label; a hand-built graph is read from its structure
and ``node.t``, and labels are only printed. Unrolled graphs are drawn on a grid — time left to
right, one cluster per step; rows X, weight copies, gates, C, H per layer and direction, then O, L —
so nothing overlaps at any T. A shared parameter is drawn once, with an edge to each per-step copy:
the copies show their gradients, the parameter their sum. Node colour is log10 of the gradient
magnitude on one scale for the whole picture; a gradient of exactly 0 is white and "0", a node the
loss does not depend on is grey and "—". Labels are typeset without SVG baseline shifts (each
super/subscript is its own small text in a table cell), so SVG in a browser reads as the PNG does.

The package has one job per module; each imports only modules listed before it (and engine modules such
as ``graph``, ``record``, ``tensor``, ``value``; no engine module imports a picture module):

- ``text``: typesetting labels and numbers · ``heat``: the colour scale · ``nodes``: boxes and their DOT names
- ``source``: what ``draw`` was given · ``edges``: contraction · ``model``: what a picture draws, ``_Frame``
- ``explain``: the legend's lines that say what |x|, twin biases and a first step without W^H mean
- ``overlay``: ``view="contributions"``, each copy's bar of what every loss sends it
- ``labels``: each box's lines · ``layout``: the coarse view's grid · ``emit``: the graphviz.Digraph
- ``dot``: running Graphviz with a guard · ``picture``: ``draw``
- ``compare``: several graphs side by side on one colour scale
- ``paint``: a ``Layout`` drawn by dot once per structure, each frame a patch of its cached SVG
- ``gif``: the slide GIF · ``flow``: the backward captions · ``frames``: the steppers' frames
- ``stepper``: showing frames (patched where they share a layout: ``paint.frame_svgs``), ``save_stepper``
- ``lesson``: the offline lesson page (one SVG per layout, frames as patches) · ``explore``: sliders over a
  net, repainted on its layouts (``mr.explore``: the ipywidgets widget, imported only when it is shown)

This file only re-exports the public API.
"""

from .compare import Comparison, compare
from .dot import DOT_TIMEOUT, FRAME_BUDGET, DotNotFound, dot_formats, render, to_svg
from .explore import Explorer  # (mr.explore is the function; viz.explore stays the module)
from .frames import backward_frames, forward_frames
from .heat import Scale
from .model import NODE_BUDGET
from .paint import Layout, LayoutMismatch
from .picture import MAX_WIDTH, VIEWS, draw, scale_of
from .stepper import save_stepper

__all__ = ["draw", "scale_of", "Scale", "compare", "Comparison", "render", "to_svg", "backward_frames",
           "forward_frames", "save_stepper",
           "Layout", "LayoutMismatch", "Explorer", "DotNotFound", "VIEWS", "MAX_WIDTH", "dot_formats",
           "NODE_BUDGET", "DOT_TIMEOUT", "FRAME_BUDGET"]
