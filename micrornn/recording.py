"""A film of training: what the gradient does, frame by frame, while a net learns.

``record_training(step_fn, steps, update=…, every=N)`` runs a training loop and keeps, every N steps, a frame:
the contribution norms ‖C[t, k]‖ = ‖∂L_t/∂W_k‖ of one weight (``u.contributions``), the state gradients
‖δL/δH_t‖ and the loss. The loop's contract, step i of ``steps``:

1. ``u = step_fn(i)`` builds the graph of step i and backpropagates it (``u.backward()``), then returns ``u``;
2. on every N-th step (i = 0, N, 2N, …) the frame is read from ``u`` — before the weights change, since a
   graph whose weights were assigned afterwards is stale and ``contributions`` refuses it;
3. ``update()`` changes the weights (clip, ``opt.step()``).

So frame 0 is the untrained net, and ``steps`` steps make ⌈steps / N⌉ frames. A ``Recording`` saves to one
``.npz`` file and loads back with the checkpoint reader's guards (no pickle, bounded reads); ``film``
plays it as a stepper page or a GIF.

    >>> import numpy as np
    >>> from micrornn import optim, unroll
    >>> from micrornn.nn import RNN
    >>> net = RNN(1, 3, 1, seed=0); opt = optim.SGD(net.parameters(), lr=0.1)
    >>> def step(i):
    ...     net.zero_grad()
    ...     u = unroll.many_to_one(net, np.ones((5, 1)), np.zeros(1)); u.backward()
    ...     return u
    >>> film = record_training(step, steps=6, update=opt.step, every=2)
    >>> len(film), film.steps.tolist(), film.contributions.shape   # 3 frames of ‖C[t, k]‖: 1 loss, 4 copies
    (3, [0, 2, 4], (3, 1, 4))
    >>> film.lags().tolist()                                       # t − k for the loss at t = 5
    [[3, 2, 1, 0]]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import checkpoint, files
from .backends import data_of, grad_of
from .flags import positive_int
from .record import Unrolled

__all__ = ["Recording", "record_training", "WHAT", "MAX_BYTES"]

WHAT = ("contributions", "state_grad_norms", "loss")  # what a frame can hold
MAX_BYTES = 256 * 2**20  # a recording's arrays, all together, in memory and on disk
FORMAT = 1  # the version written in the file's "micrornn_recording" member


@dataclass
class Recording:
    """Frames of a training run, one per ``every`` steps; ``steps[f]`` is the training step of frame f.

    ``contributions[f]`` is the (losses, copies) matrix ‖C[t, k]‖ of the weight ``name`` (rows: the loss steps
    ``loss_steps``, columns: the copy steps ``copy_steps``); ``state_grad_norms[f]`` the ‖δL/δH_t‖ of the
    states at ``state_steps``; ``loss[f]`` the loss. What was not asked for is None.
    """

    name: str
    steps: np.ndarray
    loss: np.ndarray | None = None
    contributions: np.ndarray | None = None
    loss_steps: np.ndarray | None = None
    copy_steps: np.ndarray | None = None
    state_grad_norms: np.ndarray | None = None
    state_steps: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        return f"Recording({len(self)} frames of {', '.join(self.what)}; {self.name!r}, steps {self._span()})"

    def _span(self) -> str:
        return f"{self.steps[0]}…{self.steps[-1]}" if len(self) else "none"

    @property
    def what(self) -> tuple[str, ...]:
        """The kinds of frame data this recording holds, in ``WHAT``'s order."""
        return tuple(w for w in WHAT if getattr(self, w) is not None)

    def lags(self) -> np.ndarray:
        """t − k for each entry of a contribution matrix: how many steps back the loss at t reaches W_k."""
        self._need("contributions", "lags")
        return np.subtract.outer(self.loss_steps, self.copy_steps)

    def far_fraction(self, lag: int) -> np.ndarray:
        """For each frame, the share of Σ ‖C[t, k]‖ with t − k > ``lag``: how much of the weight's gradient
        comes from more than ``lag`` steps back (0 where a frame's C is all zero)."""
        self._need("contributions", "far_fraction")
        if isinstance(lag, bool) or not isinstance(lag, (int, np.integer)) or lag < 0:
            raise ValueError(f"far_fraction(lag): lag must be an int ≥ 0 (a number of steps), got {lag!r}")
        far = self.lags() > lag
        total = self.contributions.sum(axis=(1, 2))
        part = (self.contributions * far).sum(axis=(1, 2))
        return np.divide(part, total, out=np.zeros_like(total), where=total > 0)

    def lag_profile(self) -> np.ndarray:
        """(frames, lags) array: for lag = 0, 1, …, Σ ‖C[t, k]‖ over t − k = lag, divided by each frame's
        Σ ‖C‖ — where in the past each frame's gradient comes from (rows of zeros where C is all zero)."""
        self._need("contributions", "lag_profile")
        lags = self.lags()
        n = int(max(lags.max(initial=0), 0)) + 1
        out = np.zeros((len(self), n))
        for lag in range(n):
            out[:, lag] = (self.contributions * (lags == lag)).sum(axis=(1, 2))
        total = out.sum(axis=1, keepdims=True)
        return np.divide(out, total, out=np.zeros_like(out), where=total > 0)

    def _need(self, what: str, who: str) -> None:
        if getattr(self, what) is None:
            raise ValueError(f"Recording.{who}: this recording holds no {what} (it has {', '.join(self.what)}); "
                             f"record it with what=(..., {what!r})")

    # -- one .npz file ---------------------------------------------------------------------------------------
    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays ``save`` writes, by member name (only numbers and text: no pickle is needed)."""
        out = {"micrornn_recording": np.array([FORMAT]), "name": np.array(self.name), "steps": self.steps}
        for key in ("loss", "contributions", "loss_steps", "copy_steps", "state_grad_norms", "state_steps"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    def save(self, path: str | os.PathLike) -> Path:
        """Write the recording to one ``.npz`` file, atomically (as ``Module.save`` writes a checkpoint)."""
        if Path(os.fspath(path)).suffix.lower() != ".npz":  # load() reads an npz: a .json would be one in disguise
            raise ValueError(f"Recording.save(path): a recording is one .npz file; expected a path ending in .npz, "
                             f"got {str(path)!r}")
        arrays = self.arrays()
        size = sum(a.nbytes for a in arrays.values())
        if size > MAX_BYTES:  # load() would refuse it: say so now, not when someone opens it
            raise ValueError(f"Recording.save: {size:,} bytes of frames are more than MAX_BYTES = {MAX_BYTES:,}; "
                             "record fewer frames (a larger every=)")
        checkpoint.write(path, arrays)
        return files.as_path(path, "save")

    @classmethod
    def load(cls, path: str | os.PathLike) -> Recording:
        """A recording written by ``save``. Each member's header is checked before its data is read: a file
        that is not a recording, claims more than ``MAX_BYTES`` or holds pickled objects is a ValueError."""
        try:
            state = checkpoint.read(path, _problem, model="recording")
        except ValueError as e:
            text = str(e).replace("not a micrornn checkpoint", "not a micrornn recording", 1)
            raise ValueError(text if text.startswith("Recording.load") else f"Recording.load: {text}") from None
        if state["micrornn_recording"].tolist() != [FORMAT]:
            raise ValueError(f"Recording.load: {path} is a recording of format {state['micrornn_recording']}, "
                             f"this micrornn reads format {FORMAT}")
        return cls(name=str(state.pop("name")), **{k: np.array(v) for k, v in state.items()
                                                   if k != "micrornn_recording"})


# What each member of a recording file must be: its dtype kind ("i" int, "f" float, "U" text) and its rank.
_MEMBERS = {"micrornn_recording": ("i", 1), "name": ("U", 0), "steps": ("i", 1), "loss": ("f", 1),
            "contributions": ("f", 3), "loss_steps": ("i", 1), "copy_steps": ("i", 1),
            "state_grad_norms": ("f", 2), "state_steps": ("i", 1)}


def _problem(headers: Mapping[str, tuple]) -> str | None:
    """Why the members (name → (shape, dtype), from their headers) are not a recording; raised at once."""
    def refuse(why: str) -> ValueError:
        return ValueError(f"Recording.load: not a micrornn recording: {why}")

    if "micrornn_recording" not in headers:
        raise refuse(f"it has no 'micrornn_recording' member (members: {', '.join(headers) or 'none'}); a model "
                     "checkpoint loads with Module.load")
    for name, (shape, dtype) in headers.items():
        if dtype.hasobject:
            raise refuse(f"member {name!r} holds pickled Python objects; a recording holds only numbers and text")
        if name not in _MEMBERS:
            raise refuse(f"unknown member {name!r} (a recording has {', '.join(_MEMBERS)})")
        kind, rank = _MEMBERS[name]
        if dtype.kind != kind or len(shape) != rank:
            raise refuse(f"member {name!r} is a {len(shape)}-d {dtype} array, expected a {rank}-d array of "
                         f"{ {'i': 'ints', 'f': 'floats', 'U': 'text'}[kind]}")
    size = sum(int(np.prod(shape)) * dtype.itemsize for shape, dtype in headers.values())
    if size > MAX_BYTES:
        raise refuse(f"its members claim {size:,} bytes, more than MAX_BYTES = {MAX_BYTES:,}")
    return _shape_problem({name: shape for name, (shape, _) in headers.items()})


def _shape_problem(shapes: Mapping[str, tuple[int, ...]]) -> str | None:
    """Whether the members' shapes agree: one entry per frame, C's rows and columns as its step lists."""
    frames = shapes.get("steps", (None,))[0]
    expected = {"loss": (frames,)}
    if "contributions" in shapes:
        expected["contributions"] = (frames, shapes.get("loss_steps", (-1,))[0], shapes.get("copy_steps", (-1,))[0])
    if "state_grad_norms" in shapes:
        expected["state_grad_norms"] = (frames, shapes.get("state_steps", (-1,))[0])
    for name, shape in expected.items():
        if name in shapes and shapes[name] != shape:
            return f"member {name!r} has shape {shapes[name]}, expected {shape} (frames, its step lists)"
    return None


# -- recording a training loop ----------------------------------------------------------------------------------
def record_training(step_fn: Callable[[int], Unrolled], steps: int, *, update: Callable[[], Any] | None,
                    every: int = 1, what: Sequence[str] = WHAT, name: str = "W_h") -> Recording:
    """Run ``steps`` training steps and keep a frame every ``every`` steps (see the module docstring).

    ``step_fn(i)`` returns the graph of step i after ``backward()``; ``update()`` then changes the weights
    (``update=None``: nothing changes them, e.g. to film one net on fresh batches). ``what`` picks from
    ``WHAT``; ``name`` is the weight whose contributions are kept (``"W_h"``: W^H)."""
    if not callable(step_fn):
        raise TypeError(f"record_training: step_fn must be callable, step_fn(i) → the Unrolled graph of step i "
                        f"after backward(); got {type(step_fn).__name__}")
    if update is not None and not callable(update):
        raise TypeError(f"record_training: update must be callable (e.g. opt.step) or None, "
                        f"got {type(update).__name__}")
    steps = positive_int(steps, "record_training: steps")
    every = positive_int(every, "record_training: every")
    what = _what(what)
    if not isinstance(name, str):
        raise TypeError(f"record_training: name must be a weight's name such as 'W_h', got {type(name).__name__}")
    frames: list[dict[str, Any]] = []
    for i in range(steps):
        u = step_fn(i)
        if i % every == 0:
            frames.append(_frame(u, i, what, name))
        if update is not None:
            update()
    return _stack(frames, what, name)


def _what(what: Any) -> tuple[str, ...]:
    if isinstance(what, str):
        raise TypeError(f"record_training: what must be a tuple of names from {WHAT}, got the str {what!r}; "
                        f"write what=({what!r},)")
    try:
        picked = tuple(what)
    except TypeError:
        raise TypeError(f"record_training: what must be a tuple of names from {WHAT}, "
                        f"got {type(what).__name__}") from None
    unknown = [w for w in picked if w not in WHAT]
    if unknown or not picked:
        raise ValueError(f"record_training: what must name one or more of {WHAT}; "
                         + (f"unknown: {unknown}" if unknown else "got none"))
    return tuple(w for w in WHAT if w in picked)


def _frame(u: Any, i: int, what: tuple[str, ...], name: str) -> dict[str, Any]:
    """What frame ``i`` keeps of the graph ``u`` that ``step_fn(i)`` returned."""
    if not isinstance(u, Unrolled):
        raise TypeError(f"record_training: step_fn({i}) returned {type(u).__name__}, expected the Unrolled graph "
                        "it backpropagated (from micrornn.unroll: u = many_to_one(…); u.backward(); return u)")
    if not np.any(grad_of(u.loss)):
        raise ValueError(f"record_training: the graph step_fn({i}) returned was not backpropagated; call "
                         "u.backward() before returning it")
    frame: dict[str, Any] = {"step": i}
    if "loss" in what:
        frame["loss"] = float(np.sum(data_of(u.loss)))
    if "state_grad_norms" in what:
        frame["state_grad_norms"] = [float(np.linalg.norm(grad_of(h))) for h in u.H]
        frame["state_steps"] = list(u.steps.get("H", range(1, len(u.H) + 1)))
    if "contributions" in what:
        frame.update(_contribution_norms(u, i, name))
    return frame


def _contribution_norms(u: Unrolled, i: int, name: str) -> dict[str, Any]:
    if name not in u.copies:
        raise KeyError(f"record_training(name=…): name must be one of the weights of step_fn({i})'s graph "
                       f"({', '.join(u.copies)}); got {name!r}")
    try:
        C = u.contributions(name)
    except RuntimeError as e:
        if "assigned after" not in str(e):  # contributions()' stale-graph error; any other is not ours to explain
            raise
        raise RuntimeError(f"record_training: the graph step_fn({i}) returned is stale: its weights were changed "
                           "after it was built (did step_fn call opt.step()?). Return u right after "
                           "u.backward() and pass the weight change as update=opt.step") from None
    return {"contributions": C.norms(),
            "loss_steps": [t if t is not None else k + 1 for k, t in enumerate(C.loss_steps)],
            "copy_steps": [t if t is not None else k + 1 for k, t in enumerate(C.copy_steps)]}


def _stack(frames: list[dict[str, Any]], what: tuple[str, ...], name: str) -> Recording:
    """The frames as one Recording; frames of graphs of different lengths cannot be stacked."""
    first = frames[0]
    for frame in frames[1:]:
        for key in ("loss_steps", "copy_steps", "state_steps"):
            if key in first and frame[key] != first[key]:
                raise ValueError(f"record_training: the graph of step {frame['step']} has {key} {frame[key]}, "
                                 f"the first frame's has {first[key]}; every recorded graph must have the same "
                                 "steps (the same T and topology)")
    arrays: dict[str, Any] = {"steps": np.array([f["step"] for f in frames], dtype=np.int64)}
    for key in ("loss", "contributions", "state_grad_norms"):
        if key in first:
            arrays[key] = np.array([f[key] for f in frames], dtype=np.float64)
    for key in ("loss_steps", "copy_steps", "state_steps"):
        if key in first:
            arrays[key] = np.array(first[key], dtype=np.int64)
    if "contributions" in arrays:
        arrays["contributions"] = arrays["contributions"].reshape(len(frames), len(arrays["loss_steps"]),
                                                                  len(arrays["copy_steps"]))
    return Recording(name=name, **arrays)
