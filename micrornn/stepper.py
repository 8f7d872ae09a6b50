"""A self-contained HTML page that steps through pictures: buttons, arrow keys, a slider, a caption each.

Everything is inline (SVGs, style, script), so the page works offline and can be mailed around.

    >>> html = page(["<svg></svg>", "<svg></svg>"], ["forward", "backward"], "demo")
    >>> html.count('class="frame"')
    2
"""

from __future__ import annotations

import html as _html
import json

__all__ = ["page"]

_STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; margin: 0 0 .6em; }
#bar { display: flex; gap: .6em; align-items: center; margin-bottom: .6em; }
#bar button { font-size: 1em; padding: .3em .9em; }
#slider { flex: 1; max-width: 30em; }
#caption { min-height: 2.6em; font-size: 1.05em; margin-bottom: .6em; max-width: 60em; }
.frame svg { max-width: 100%; height: auto; }
.hint { color: #888; font-size: .85em; }
"""

# Frames are plain <div>s toggled by `hidden`; the body's data-frame says which one is shown (tests read it).
_SCRIPT = """
const frames = Array.from(document.querySelectorAll('.frame'));
const captions = JSON.parse(document.getElementById('captions').textContent);
const slider = document.getElementById('slider');
let current = 0;
function show(i) {
  current = Math.max(0, Math.min(frames.length - 1, i));
  frames.forEach((f, k) => { f.hidden = (k !== current); });
  document.getElementById('caption').textContent = captions[current];
  document.getElementById('count').textContent = (current + 1) + ' / ' + frames.length;
  slider.value = current;
  document.body.dataset.frame = current;
}
document.getElementById('prev').addEventListener('click', () => show(current - 1));
document.getElementById('next').addEventListener('click', () => show(current + 1));
slider.addEventListener('input', () => show(Number(slider.value)));
document.addEventListener('keydown', (e) => {
  if (e.key === 'ArrowRight' || e.key === 'ArrowDown') { show(current + 1); e.preventDefault(); }
  if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') { show(current - 1); e.preventDefault(); }
  if (e.key === 'Home') show(0);
  if (e.key === 'End') show(frames.length - 1);
});
show(0);
// #selftest: one step by the arrow key and one by the button, so a headless browser can check both
if (location.hash === '#selftest') {
  document.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight'}));
  document.getElementById('next').click();
}
"""


def _strip_prolog(svg: str) -> str:
    """Keep the <svg> element only: dot's XML declaration and DOCTYPE are not valid inside HTML."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def page(svgs: list[str], captions: list[str], title: str) -> str:
    """The HTML of a stepper over ``svgs`` (one caption each)."""
    if len(svgs) != len(captions):
        raise ValueError(f"page: {len(svgs)} pictures but {len(captions)} captions")
    frames = "\n".join(
        f'<div class="frame" data-index="{i}"{" hidden" if i else ""}>{_strip_prolog(s)}</div>'
        for i, s in enumerate(svgs)
    )
    data = json.dumps(captions).replace("</", "<\\/")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{_html.escape(title)}</title>
<style>{_STYLE}</style></head>
<body data-frame="0">
<h1>{_html.escape(title)}</h1>
<div id="bar"><button id="prev" title="previous (←)">◀ prev</button>
<button id="next" title="next (→)">next ▶</button>
<input id="slider" type="range" min="0" max="{len(svgs) - 1}" value="0" aria-label="frame">
<span id="count"></span><span class="hint">← → keys step</span></div>
<div id="caption"></div>
{frames}
<script type="application/json" id="captions">{data}</script>
<script>{_SCRIPT}</script>
</body></html>
"""
