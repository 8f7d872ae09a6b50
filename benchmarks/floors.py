"""The floors: forward and BPTT derived by hand in numpy, for the simple RNN, the LSTM and the GRU.

A char-RNN step as min-char-rnn does it: token ids in, an output and a cross-entropy loss at every
step, ``L = Σ_t L_t``, the state starting at zero. Each function returns ``(L, grads)`` with grads
keyed like the parameters. They are the least work an engine can do for the same ops, and a
reference: the benchmark checks them against finite differences and PyTorch autograd first.

Notation (the lecture notes'): ``a`` is a pre-activation, ``σ`` the logistic sigmoid, ``⊙`` the
elementwise product, ``dv`` means ``dL/dv``. The token id ``x_t`` picks a column of ``W^X``
(``W^X`` times a one-hot vector), so its gradient lands in that column only.

Parameter layouts are PyTorch's (``nn.RNN``/``nn.LSTM``/``nn.GRU`` + an ``nn.Linear`` head):

    RNN   W_h (H, H)   W_x (H, V)   b (H,)                          W_o (V, H)  b_o (V,)
    LSTM  W_h (4H, H)  W_x (4H, V)  b_x (4H,)  b_h (4H,)  gates i, f, g, o
    GRU   W_h (3H, H)  W_x (3H, V)  b_x (3H,)  b_h (3H,)  gates r, z, n

    >>> rng = np.random.default_rng(0)
    >>> p = init_params("lstm", vocab=5, hidden=3, rng=rng)
    >>> loss, g = lstm_bptt(p, np.array([0, 1, 2]), np.array([1, 2, 3]))
    >>> sorted(g) == sorted(p) and g["W_x"].shape == (12, 5)
    True
"""

from __future__ import annotations

import numpy as np

Params = dict[str, np.ndarray]


def init_params(cell: str, vocab: int, hidden: int, rng: np.random.Generator) -> Params:
    """Uniform in ±1/√hidden, like PyTorch's recurrent layers; the shapes in the module docstring."""
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    k = 1.0 / np.sqrt(hidden)
    shapes = {"W_h": (gates * hidden, hidden), "W_x": (gates * hidden, vocab), "W_o": (vocab, hidden),
              "b_o": (vocab,)}
    shapes.update({"b": (hidden,)} if cell == "rnn" else {"b_x": (gates * hidden,), "b_h": (gates * hidden,)})
    return {name: rng.uniform(-k, k, shape) for name, shape in shapes.items()}


def _softmax_ce(o: np.ndarray, y: int) -> tuple[float, np.ndarray]:
    """L_t = −log softmax(o)[y] and dL_t/do = softmax(o) − onehot(y)."""
    e = np.exp(o - o.max())  # a constant shift: no overflow, same softmax
    p = e / e.sum()
    loss = -np.log(p[y])
    p[y] -= 1.0
    return loss, p


def _one_sequence(where: str, xs: np.ndarray, ys: np.ndarray) -> None:
    if xs.ndim != 1 or ys.shape != xs.shape:
        raise ValueError(f"{where}: takes one sequence, token ids of shape (T,) for xs and ys; "
                         f"got {xs.shape} and {ys.shape}")


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


# -- the simple RNN (batched too: the benchmark's batch-32 row) -----------------------------------------------
def rnn_bptt(params: Params, xs: np.ndarray, ys: np.ndarray) -> tuple[float, Params]:
    """H_t = tanh(W^X x_t + W^H H_{t-1} + b), O_t = W^O H_t + b^O (no W^H term at t = 1: H_0 = 0).

    Backward: dO_t = p_t − onehot(y_t) (divided by the batch for a batch mean),
    dH_t = W^O^T dO_t + dH_t from step t+1,  da_t = (1 − H_t²) ⊙ dH_t,
    dW^H += da_t H_{t-1}^T,  dW^X[:, x_t] += da_t,  db += da_t,  dH_{t-1} (from t) = W^H^T da_t.
    xs and ys are (T,) ids, or (T, batch) ids with the loss averaged over the batch at each step.
    """
    W_h, W_x, b, W_o, b_o = (params[k] for k in ("W_h", "W_x", "b", "W_o", "b_o"))
    batched = xs.ndim == 2
    B = xs.shape[1] if batched else 1
    rows = np.arange(B) if batched else ()
    hs, ps, loss = {}, {}, 0.0
    h = None
    for t in range(len(xs)):
        a = W_x[:, xs[t]].T + b
        if h is not None:
            a += h @ W_h.T
        hs[t] = h = np.tanh(a)
        o = h @ W_o.T + b_o
        e = np.exp(o - o.max(-1, keepdims=True))
        ps[t] = p = e / e.sum(-1, keepdims=True)
        loss -= np.log(p[rows, ys[t]] if batched else p[ys[t]]).mean()
    g = {k: np.zeros_like(v) for k, v in params.items()}
    dh_next = 0.0
    for t in reversed(range(len(xs))):
        do = ps[t].copy()
        if batched:
            do[rows, ys[t]] -= 1.0
            do /= B
        else:
            do[ys[t]] -= 1.0
        h = hs[t]
        g["W_o"] += do.T @ h if batched else np.outer(do, h)
        g["b_o"] += do.sum(0) if batched else do
        da = (1.0 - h * h) * (do @ W_o + dh_next)
        g["b"] += da.sum(0) if batched else da
        if batched:
            np.add.at(g["W_x"].T, xs[t], da)  # a token repeated in the batch accumulates
        else:
            g["W_x"][:, xs[t]] += da
        if t > 0:
            g["W_h"] += da.T @ hs[t - 1] if batched else np.outer(da, hs[t - 1])
            dh_next = da @ W_h
    return loss, g


# -- the LSTM -----------------------------------------------------------------------------------------------
def lstm_bptt(params: Params, xs: np.ndarray, ys: np.ndarray) -> tuple[float, Params]:
    """One sequence of ids through an LSTM (PyTorch's equations), H_0 = C_0 = 0.

    Forward, with a_t = W^X x_t + b^X + W^H H_{t-1} + b^H split into four blocks of H:
        i = σ(a_i)  f = σ(a_f)  g = tanh(a_g)  o = σ(a_o)
        C_t = f ⊙ C_{t-1} + i ⊙ g,    H_t = o ⊙ tanh(C_t),    O_t = W^O H_t + b^O

    Backward, step t, given dH_t (from O_t and from step t+1) and dC_t from step t+1:
        dO_t = p_t − onehot(y_t),  dW^O += dO_t H_t^T,  dH_t += W^O^T dO_t
        do = dH_t ⊙ tanh(C_t)
        dC_t += dH_t ⊙ o ⊙ (1 − tanh²(C_t))      (H_t depends on C_t through tanh)
        di = dC_t ⊙ g,  df = dC_t ⊙ C_{t-1},  dg = dC_t ⊙ i,  dC_{t-1} = dC_t ⊙ f
        da = [di ⊙ i(1−i), df ⊙ f(1−f), dg ⊙ (1−g²), do ⊙ o(1−o)]   (σ' = σ(1−σ), tanh' = 1−tanh²)
        dW^X[:, x_t] += da,  db^X += da,  db^H += da,  dW^H += da H_{t-1}^T,  dH_{t-1} = W^H^T da
    """
    _one_sequence("lstm_bptt", xs, ys)
    W_h, W_x, b_x, b_h, W_o, b_o = (params[k] for k in ("W_h", "W_x", "b_x", "b_h", "W_o", "b_o"))
    H = W_h.shape[1]
    b = b_x + b_h  # both biases enter every a_t as a sum: one add per step, not two
    h, c = np.zeros(H), np.zeros(H)
    hs, cs, tcs, acts, dos, loss = [h], [c], [], [], [], 0.0
    for x, y in zip(xs, ys):
        a = W_x[:, x] + b + W_h @ h
        act = np.empty(4 * H)  # i, f, g, o after their nonlinearities
        act[:2 * H] = _sigmoid(a[:2 * H])
        act[2 * H:3 * H] = np.tanh(a[2 * H:3 * H])
        act[3 * H:] = _sigmoid(a[3 * H:])
        i, f, g, o = act[:H], act[H:2 * H], act[2 * H:3 * H], act[3 * H:]
        c = f * c + i * g
        tc = np.tanh(c)
        h = o * tc
        loss_t, do_t = _softmax_ce(W_o @ h + b_o, y)
        loss += loss_t
        hs.append(h)
        cs.append(c)
        tcs.append(tc)
        acts.append(act)
        dos.append(do_t)
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    dh_next, dc_next = np.zeros(H), np.zeros(H)
    for t in reversed(range(len(xs))):  # hs[t] is H_{t-1} (hs[0] = H_0), hs[t + 1] is H_t; cs likewise
        do_t, act, tc = dos[t], acts[t], tcs[t]
        grads["W_o"] += np.outer(do_t, hs[t + 1])
        grads["b_o"] += do_t
        dh = W_o.T @ do_t + dh_next
        i, f, g, o = act[:H], act[H:2 * H], act[2 * H:3 * H], act[3 * H:]
        dc = dh * o * (1.0 - tc * tc) + dc_next
        dact = np.concatenate((dc * g, dc * cs[t], dc * i, dh * tc))  # di, df, dg, do
        deriv = act * (1.0 - act)  # σ' for i, f, o ...
        deriv[2 * H:3 * H] = 1.0 - g * g  # ... and tanh' for g
        da = dact * deriv
        grads["W_x"][:, xs[t]] += da
        grads["b_x"] += da
        grads["W_h"] += np.outer(da, hs[t])
        dh_next = W_h.T @ da
        dc_next = dc * f
    grads["b_h"][:] = grads["b_x"]  # a_t = … + b^X + b^H: both biases receive the same da, every step
    return loss, grads


# -- the GRU ------------------------------------------------------------------------------------------------
def gru_bptt(params: Params, xs: np.ndarray, ys: np.ndarray) -> tuple[float, Params]:
    """One sequence of ids through a GRU (PyTorch's equations: b^H_n inside the reset product), H_0 = 0.

    Forward, with ax = W^X x_t + b^X and ah = W^H H_{t-1} + b^H, each split into blocks r, z, n:
        r = σ(ax_r + ah_r)   z = σ(ax_z + ah_z)   n = tanh(ax_n + r ⊙ ah_n)
        H_t = (1 − z) ⊙ n + z ⊙ H_{t-1},    O_t = W^O H_t + b^O

    Backward, step t, given dH_t (from O_t and from step t+1):
        dn = dH_t ⊙ (1 − z),  dz = dH_t ⊙ (H_{t-1} − n),  dH_{t-1} gets dH_t ⊙ z directly
        da_n = dn ⊙ (1 − n²)                     (the pre-activation of n)
        dr = da_n ⊙ ah_n,  da_r = dr ⊙ r(1−r),  da_z = dz ⊙ z(1−z)
        dax = [da_r, da_z, da_n],  dah = [da_r, da_z, da_n ⊙ r]   (ah_n is scaled by r)
        dW^X[:, x_t] += dax,  db^X += dax,  dW^H += dah H_{t-1}^T,  db^H += dah,
        dH_{t-1} = W^H^T dah + dH_t ⊙ z
    """
    _one_sequence("gru_bptt", xs, ys)
    W_h, W_x, b_x, b_h, W_o, b_o = (params[k] for k in ("W_h", "W_x", "b_x", "b_h", "W_o", "b_o"))
    H = W_h.shape[1]
    h = np.zeros(H)
    hs, acts, ahns, dos, loss = [h], [], [], [], 0.0
    for x, y in zip(xs, ys):
        ax = W_x[:, x] + b_x
        ah = W_h @ h + b_h
        act = np.empty(3 * H)  # r, z, n after their nonlinearities
        act[:2 * H] = _sigmoid(ax[:2 * H] + ah[:2 * H])
        r, z = act[:H], act[H:2 * H]
        act[2 * H:] = n = np.tanh(ax[2 * H:] + r * ah[2 * H:])
        h = n + z * (h - n)  # (1 − z) ⊙ n + z ⊙ H_{t-1}
        loss_t, do_t = _softmax_ce(W_o @ h + b_o, y)
        loss += loss_t
        hs.append(h)
        acts.append(act)
        ahns.append(ah[2 * H:])
        dos.append(do_t)
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    dh_next = np.zeros(H)
    for t in reversed(range(len(xs))):  # hs[t] is H_{t-1}, hs[t + 1] is H_t
        do_t, act, h_prev = dos[t], acts[t], hs[t]
        grads["W_o"] += np.outer(do_t, hs[t + 1])
        grads["b_o"] += do_t
        dh = W_o.T @ do_t + dh_next
        r, z, n = act[:H], act[H:2 * H], act[2 * H:]
        da_n = dh * (1.0 - z) * (1.0 - n * n)
        da_r = da_n * ahns[t] * r * (1.0 - r)
        da_z = dh * (h_prev - n) * z * (1.0 - z)
        dax = np.concatenate((da_r, da_z, da_n))
        dah = np.concatenate((da_r, da_z, da_n * r))
        grads["W_x"][:, xs[t]] += dax
        grads["b_x"] += dax
        grads["W_h"] += np.outer(dah, h_prev)
        grads["b_h"] += dah
        dh_next = W_h.T @ dah + dh * z
    return loss, grads


FLOORS = {"rnn": rnn_bptt, "lstm": lstm_bptt, "gru": gru_bptt}


def finite_difference_check(cell: str, params: Params, xs: np.ndarray, ys: np.ndarray, entries: int = 4,
                            eps: float = 1e-6, seed: int = 0) -> None:
    """Central differences at a few random entries of every parameter must match the floor's gradient."""
    floor = FLOORS[cell]
    _, grads = floor(params, xs, ys)
    rng = np.random.default_rng(seed)
    for name, p in params.items():
        for flat in rng.choice(p.size, size=min(entries, p.size), replace=False):
            idx = np.unravel_index(flat, p.shape)
            old = p[idx]
            p[idx] = old + eps
            up = floor(params, xs, ys)[0]
            p[idx] = old - eps
            down = floor(params, xs, ys)[0]
            p[idx] = old
            numeric = (up - down) / (2 * eps)
            if not abs(numeric - grads[name][idx]) <= 1e-6 * max(1.0, abs(numeric)):
                raise AssertionError(f"{cell} floor: dL/d{name}{list(idx)} = {grads[name][idx]:.10g} by BPTT, "
                                     f"{numeric:.10g} by finite differences")
