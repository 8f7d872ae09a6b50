"""The lesson page: ``explore``'s sliders as one offline HTML file — no kernel, no network, no CDN.

The page holds each layout's SVG once and every frame as a patch of it: the slots (``paint._Template``)
whose fill or text differ from what the layout's SVG shows, with the frame's strip and numbers. A short
inline script finds the slots with the same selector the patches were cut by and rewrites them as the
sliders move. Opening ``lesson.html#w=1.1`` sets a slider from the address (the browser tests use it).

    >>> html = page("demo", [("w", ["0.9", "1.1"], 0)], ["<svg></svg>"], [[0, [], "", "a"], [0, [], "", "b"]])
    >>> html.startswith("<!DOCTYPE html>") and 'type="range"' in html and "http" not in html
    True
"""

from __future__ import annotations

import html as _html
import json

from .paint import _Template

_STYLE = """
body { font-family: Helvetica, Arial, sans-serif; color: #222; background: #fff; margin: 1em; }
h1 { font-size: 1.2em; margin: 0 0 .5em; }
.controls { display: flex; flex-wrap: wrap; gap: .5em 2em; margin-bottom: .6em; }
.controls label { display: flex; gap: .5em; align-items: center; }
.controls input { width: 16em; }
.controls .value { min-width: 4em; font-weight: bold; }
.row { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
.pic svg { max-width: 100%; height: auto; }
.numbers { max-width: 36em; }
.numbers p { margin: .2em 0 .5em; }
.numbers table { border-collapse: collapse; font-size: .9em; }
.numbers td, .numbers th { border-bottom: 1px solid #ddd; padding: .1em .6em; text-align: right; }
.numbers .setting { font-weight: bold; margin-bottom: .3em; }
.strip-title { font-size: .9em; color: #555; margin: .4em 0 .1em; }
[hidden] { display: none !important; }
"""

# The data is a JSON block; frames are indexed by the sliders' positions, the last slider fastest.
_SCRIPT = """
(function () {
  const data = JSON.parse(document.getElementById('lesson-data').textContent);
  const pics = Array.from(document.querySelectorAll('.pic'));
  const slots = pics.map(p => Array.from(p.querySelectorAll(data.selector)));
  const base = slots.map(els => els.map(e => [e.getAttribute('fill'), e.tagName === 'text' ? e.textContent : null]));
  const inputs = Array.from(document.querySelectorAll('.controls input'));
  let shownLayout = -1, changed = [];
  function put(el, fill, text) {
    if (fill === null) el.removeAttribute('fill'); else el.setAttribute('fill', fill);
    if (text !== null) el.textContent = text;
  }
  function show() {
    let index = 0;
    inputs.forEach((input, k) => {
      const i = Number(input.value);
      index = index * data.sliders[k][1].length + i;
      input.parentNode.querySelector('.value').textContent = data.sliders[k][1][i];
    });
    const [layout, patch, strip, numbers] = data.frames[index];
    if (layout !== shownLayout) {
      pics.forEach((p, k) => { p.hidden = (k !== layout); });
      changed = []; shownLayout = layout;
    }
    const els = slots[layout];
    changed.forEach(i => put(els[i], base[layout][i][0], base[layout][i][1]));  // back to the layout's own
    changed = [];
    for (let j = 0; j < patch.length; j += 3) {
      put(els[patch[j]], patch[j + 1], patch[j + 2]);
      changed.push(patch[j]);
    }
    document.querySelector('.strip').innerHTML = strip;
    document.querySelector('.numbers').innerHTML = numbers;
    document.body.dataset.frame = index;  // tests read it
  }
  inputs.forEach(input => input.addEventListener('input', show));
  // #w=1.1&activation=tanh: set sliders from the address (to the nearest value a slider offers)
  new URLSearchParams(location.hash.slice(1)).forEach((value, name) => {
    const k = data.sliders.findIndex(s => s[0] === name);
    if (k < 0) return;
    const values = data.sliders[k][1];
    let best = values.indexOf(value);
    if (best < 0) best = values.reduce((b, v, i) => Math.abs(v - value) < Math.abs(values[b] - value) ? i : b, 0);
    inputs[k].value = best;
  });
  show();
})();
"""


def page(title: str, sliders: list[tuple[str, list[str], int]], svgs: list[str], frames: list[list]) -> str:
    """The whole page. ``sliders``: (name, its values as shown, the index it starts at); ``svgs``: each
    layout's SVG; ``frames``: [layout index, patch (slot, fill, text, … flat), strip SVG, numbers HTML],
    indexed by the sliders' positions with the last slider fastest."""
    controls = "".join(
        f'<label>{_html.escape(name)} <input type="range" min="0" max="{len(values) - 1}" value="{start}" '
        f'aria-label="{_html.escape(name)}"><span class="value">{_html.escape(values[start])}</span></label>'
        for name, values, start in sliders)
    pics = "".join(f'<div class="pic"{" hidden" if i else ""}>{svg}</div>' for i, svg in enumerate(svgs))
    data = {"selector": _Template.SLOTS, "sliders": [[n, v] for n, v, _ in sliders], "frames": frames}
    # "</" would end the script element early: JSON allows "<\\/" for it
    blob = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    first = frames[0] if frames else [0, [], "", ""]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{_html.escape(title)}</title><style>{_STYLE}</style></head>
<body data-frame="0"><h1>{_html.escape(title)}</h1>
<div class="controls">{controls}</div>
<div class="row"><div><div class="strip-title">|∂L/∂H<sub>t</sub>| over t (log scale, the picture's colours)</div>
<div class="strip">{first[2]}</div></div><div class="numbers">{first[3]}</div></div>
{pics}
<script type="application/json" id="lesson-data">{blob}</script>
<script>{_SCRIPT}</script>
</body></html>
"""
