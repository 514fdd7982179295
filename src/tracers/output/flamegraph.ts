/**
 * A self-contained HTML flame graph (icicle layout: callers above callees)
 * of folded stacks: one file with inline CSS and script, no network.
 * Click a frame to zoom into it (click an ancestor bar, `all` or press
 * Escape to go back out); the search box highlights frames whose name
 * contains the text (ignoring case) and shows their share of the total;
 * hovering shows name, total and self weight and their percentages. The
 * address can give a starting state: `#q=text&zoom=frame;frame`.
 *
 * Owns: the page's markup, style and script. Invariants:
 * - the data is embedded once, as JSON in `<script type="application/json"
 *   id="fg-data">`, with every `<`, `>` and `&` written as a JSON \u escape,
 *   so no frame name can close the script (`</script`) or open a comment
 *   (`<!--`), and `JSON.parse` of the block's text gives the stacks back;
 * - the page references nothing outside itself (no URL at all), so it
 *   opens offline and from file://;
 * - every drawn frame is a `div.fr` with a `data-name` attribute, so the
 *   rendered DOM can be checked without a screen; frames narrower than
 *   0.1% of the zoomed view are not drawn (they could not be seen or hit).
 */

import { foldChild, foldNode, type FoldNode, walkFold } from './calls.js';
import { functionFirst } from './common.js';
import { type FoldedProfile, type FoldedUnit, type FoldOptions, readFolded } from './folded.js';

export interface FlameOptions extends FoldOptions {
  title?: string;
  /** The runtime's own events over the trace (RuntimeTotals' line): shown above the graph. */
  runtime?: string;
}

/**
 * The embedded data: what the page's script reads. Each distinct frame
 * (a node of the merged stacks) is three numbers, and each name is stored
 * once, so the page grows with the distinct frames, never with the calls.
 */
export interface FlameData {
  title: string;
  unit: FoldedUnit;
  names: string[];
  /** Preorder, three numbers a node: index into names, parent node (-1: the root), self weight. */
  nodes: number[];
}

/** The tree of a folded profile (stacks that share a prefix share its nodes). */
export function foldTree(p: FoldedProfile): FoldNode {
  const root = foldNode('');
  for (const s of p.stacks) {
    let n = root;
    for (const f of s.frames) n = foldChild(n, f);
    n.self += s.weight;
  }
  return root;
}

/** Each node's total (its self and its subtree's), computed without recursion. */
function totals(root: FoldNode): Map<FoldNode, number> {
  const t = new Map<FoldNode, number>();
  const work: [FoldNode, boolean][] = [[root, false]];
  for (let w = work.pop(); w !== undefined; w = work.pop()) {
    const [n, done] = w;
    if (!done) {
      work.push([n, true]);
      for (const k of n.kids.values()) work.push([k, false]);
      continue;
    }
    let sum = Math.round(n.self);
    for (const k of n.kids.values()) sum += t.get(k)!;
    t.set(n, sum);
  }
  return t;
}

/** The data of a tree of frames (children in name order, zero-weight subtrees left out). */
export function flameData(root: FoldNode, unit: FoldedUnit, title: string): FlameData {
  const names: string[] = [];
  const index = new Map<string, number>();
  const nodes: number[] = [];
  const total = totals(root);
  /** Node index of the frame at each depth of the current path. */
  const at: number[] = [];
  walkFold(root, (n, path) => {
    if (total.get(n)! <= 0) return false;
    let ni = index.get(n.name);
    if (ni === undefined) {
      ni = names.length;
      names.push(n.name);
      index.set(n.name, ni);
    }
    const depth = path.length - 1;
    at[depth] = nodes.length / 3;
    nodes.push(ni, depth === 0 ? -1 : at[depth - 1]!, Math.round(n.self));
    return true;
  });
  return { title, unit, names, nodes };
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** JSON safe inside a script element: no `<`, `>` or `&` left as such. */
export function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const STYLE = `
body { margin: 0; font: 12px/1.3 system-ui, sans-serif; color: #222; background: #fafafa; }
header { display: flex; gap: 12px; align-items: center; padding: 8px 10px; border-bottom: 1px solid #ddd; flex-wrap: wrap; }
header h1 { font-size: 14px; margin: 0; font-weight: 600; }
#fg-runtime { color: #b22; }
#fg-info, #fg-match { color: #555; }
#fg-search { font: inherit; padding: 2px 6px; width: 16em; }
#fg-reset { font: inherit; }
#fg { position: relative; margin: 8px 10px; }
.fr { position: absolute; height: 16px; box-sizing: border-box; border: 1px solid #fafafa; border-width: 0 1px 1px 0;
  overflow: hidden; white-space: nowrap; text-overflow: ellipsis; padding: 0 3px; font-size: 11px; line-height: 15px;
  cursor: pointer; color: #111; }
.fr:hover { filter: brightness(0.9); }
.fr.anc { opacity: 0.55; }
.fr.hl { background: #c86dd7 !important; color: #fff; }
#fg-tip { position: fixed; display: none; pointer-events: none; background: #fffff0; border: 1px solid #999;
  padding: 4px 6px; white-space: pre; font-size: 11px; box-shadow: 1px 1px 3px rgba(0,0,0,.2); z-index: 2; }
#fg-empty { margin: 20px; color: #777; }
`;

// The page's script, plain ES2017 so any current browser runs it as is.
const SCRIPT = `
(function () {
  'use strict';
  var ROW = 16, MIN_FRACTION = 0.001;
  ${functionFirst.toString()}
  var data = JSON.parse(document.getElementById('fg-data').textContent);
  var box = document.getElementById('fg');
  var tip = document.getElementById('fg-tip');
  var search = document.getElementById('fg-search');
  var matchOut = document.getElementById('fg-match');

  function makeNode(name, parent) {
    return { name: name, self: 0, total: 0, kids: [], byName: new Map(), parent: parent,
      depth: parent === null ? 0 : parent.depth + 1 };
  }
  var root = makeNode('all', null);
  // Nodes in preorder, three numbers each: name index, parent (-1 for the root), self weight.
  var nodes = [], n = data.nodes, i;
  for (i = 0; i < n.length; i += 3) {
    var parent = n[i + 1] < 0 ? root : nodes[n[i + 1]];
    var k = makeNode(data.names[n[i]], parent);
    k.self = n[i + 2];
    k.total = k.self;
    parent.kids.push(k);
    parent.byName.set(k.name, k);
    nodes.push(k);
  }
  // Totals bottom-up: a node's children come after it in preorder.
  for (i = nodes.length - 1; i >= 0; i--) nodes[i].parent.total += nodes[i].total;
  // Children in name order, as flame graphs draw them (time order is lost in folding).
  (function sortKids(n) {
    n.kids.sort(function (a, b) { return a.name < b.name ? -1 : a.name > b.name ? 1 : 0; });
    n.kids.forEach(sortKids);
  })(root);

  function fmt(v) {
    if (data.unit === 'calls') return v + (v === 1 ? ' call' : ' calls');
    if (data.unit === 'counts') return v + (v === 1 ? ' count' : ' counts');
    if (v >= 1e9) return (v / 1e9).toFixed(3) + ' s';
    if (v >= 1e6) return (v / 1e6).toFixed(3) + ' ms';
    if (v >= 1e3) return (v / 1e3).toFixed(3) + ' \\u00b5s';
    return v + ' ns';
  }
  function pct(v, of) { return of > 0 ? (100 * v / of).toFixed(2) + '%' : '0%'; }

  // A warm colour per name, stable across renders and files (the mixing of
  // timeline.ts's nameColour, so a function has one colour in both pictures).
  function colour(name) {
    var h = 0x811c9dc5;
    for (var i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
    h = (h ^ (h >>> 13)) >>> 0;
    return 'hsl(' + (h % 50 + 5) + ',' + (70 + (h >>> 8) % 25) + '%,' + (58 + (h >>> 16) % 14) + '%)';
  }

  var zoom = root;
  var drawn = [];
  var term = '';

  function place(n, x, w, row, cls) {
    var el = document.createElement('div');
    el.className = 'fr' + cls;
    el.style.left = (100 * x) + '%';
    el.style.width = (100 * w) + '%';
    el.style.top = (row * ROW) + 'px';
    el.style.background = n === root ? '#e0b080' : colour(n.name);
    el.setAttribute('data-name', n.name);
    el.setAttribute('data-i', String(drawn.length));
    el.textContent = n === root ? n.name : functionFirst(n.name);
    drawn.push({ node: n, el: el });
    box.appendChild(el);
  }

  function render() {
    box.textContent = '';
    drawn = [];
    if (root.total <= 0) {
      var p = document.createElement('p');
      p.id = 'fg-empty';
      p.textContent = 'No samples.';
      box.appendChild(p);
      box.style.height = 'auto';
      return;
    }
    var chain = [], a = zoom.parent;
    while (a !== null) { chain.unshift(a); a = a.parent; }
    chain.forEach(function (n, i) { place(n, 0, 1, i, ' anc'); });
    var base = chain.length, deepest = base;
    (function lay(n, x, w, row) {
      place(n, x, w, row, '');
      if (row > deepest) deepest = row;
      var at = x;
      n.kids.forEach(function (k) {
        var kw = w * k.total / n.total;
        if (kw >= MIN_FRACTION) lay(k, at, kw, row + 1);
        at += kw;
      });
    })(zoom, 0, 1, base);
    box.style.height = ((deepest + 1) * ROW) + 'px';
    highlight();
  }

  function matches(n) { return term !== '' && n !== root && n.name.toLowerCase().indexOf(term) >= 0; }

  function highlight() {
    drawn.forEach(function (d) { d.el.classList.toggle('hl', matches(d.node)); });
    if (term === '') { matchOut.textContent = ''; return; }
    // Time under a matching frame counts once, however many matches it is nested in.
    var sum = 0;
    (function walk(n) {
      if (matches(n)) { sum += n.total; return; }
      n.kids.forEach(walk);
    })(root);
    matchOut.textContent = 'matched: ' + pct(sum, root.total) + ' (' + fmt(sum) + ')';
  }

  function hit(ev) {
    var t = ev.target;
    var el = t && t.closest ? t.closest('.fr') : null;
    return el === null ? null : drawn[Number(el.getAttribute('data-i'))] || null;
  }

  box.addEventListener('click', function (ev) {
    var d = hit(ev);
    if (d === null) return;
    zoom = d.node;
    render();
  });
  box.addEventListener('mousemove', function (ev) {
    var d = hit(ev);
    if (d === null) { tip.style.display = 'none'; return; }
    var n = d.node;
    tip.textContent = n.name + '\\ntotal: ' + fmt(n.total) + ' (' + pct(n.total, root.total) + ')' +
      '\\nself: ' + fmt(n.self) + ' (' + pct(n.self, root.total) + ')';
    tip.style.display = 'block';
    var x = ev.clientX + 12, y = ev.clientY + 12;
    if (x + tip.offsetWidth > window.innerWidth) x = Math.max(0, ev.clientX - 12 - tip.offsetWidth);
    if (y + tip.offsetHeight > window.innerHeight) y = Math.max(0, ev.clientY - 12 - tip.offsetHeight);
    tip.style.left = x + 'px';
    tip.style.top = y + 'px';
  });
  box.addEventListener('mouseleave', function () { tip.style.display = 'none'; });
  search.addEventListener('input', function () { term = search.value.trim().toLowerCase(); highlight(); });
  document.getElementById('fg-reset').addEventListener('click', function () { zoom = root; render(); });
  document.addEventListener('keydown', function (ev) {
    if (ev.key !== 'Escape') return;
    if (document.activeElement === search && search.value !== '') { search.value = ''; term = ''; highlight(); return; }
    zoom = root;
    render();
  });
  // The address can carry a starting state (#q=text&zoom=frame;frame), so a
  // view can be shared or checked without a pointer.
  var start = new URLSearchParams(location.hash.slice(1));
  if (start.get('q')) { search.value = start.get('q'); term = search.value.trim().toLowerCase(); }
  (start.get('zoom') || '').split(';').forEach(function (f) {
    var k = f === '' ? undefined : zoom.byName.get(f);
    if (k !== undefined) zoom = k;
  });
  document.getElementById('fg-info').textContent = 'total ' + fmt(root.total) +
    (data.unit === 'calls' ? ' (caller;callee call counts)' : data.unit === 'ns' ? ' of self time' : '');
  render();
})();
`;

/** The page for a folded profile. */
export function flameGraphHtml(p: FoldedProfile, opts: FlameOptions = {}): string {
  return flameGraphPage(foldTree(p), p.unit, opts);
}

/** The page for a tree of frames (a Folder's). */
export function flameGraphPage(root: FoldNode, unit: FoldedUnit, opts: FlameOptions = {}): string {
  const title = opts.title ?? 'jsftrace flame graph';
  const data = flameData(root, unit, title);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
<span id="fg-info"></span>
<input id="fg-search" type="search" placeholder="search frames" autocomplete="off">
<span id="fg-match"></span>
<button id="fg-reset" type="button">reset zoom</button>
${opts.runtime !== undefined && opts.runtime !== '' ? `<span id="fg-runtime">${escapeHtml(opts.runtime)}</span>\n` : ''}</header>
<div id="fg"></div>
<div id="fg-tip"></div>
<script type="application/json" id="fg-data">${scriptJson(data)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

/** The flame graph of every thread's current buffer (non-consuming, as `trace`). */
export async function readFlameGraph(opts: FlameOptions = {}): Promise<string> {
  return flameGraphHtml(await readFolded(opts), opts);
}
