/**
 * The character diff V8's LiveEdit computes for a run of changed lines
 * shorter than 800 characters: Myers' O(ND) algorithm in its linear-space
 * form (a middle snake found from both ends, each half solved the same
 * way), written out here so that an edit whose result is not forced by
 * every shortest diff (matching.ts) can be decided by the one V8 picks.
 *
 * Owns: that reproduction. Invariant: it makes the same choices where
 * several shortest edits exist: the search order (forward then reverse, by
 * diagonal), the tie rule (extend the path that reaches further; at equal
 * reach a forward path moves right, a reverse one up), one work array of
 * n+m+1 entries per side indexed by diagonal with negative diagonals from
 * its end, and the way the path is turned into changes (at each point,
 * matching characters first, then the one step, then matching characters).
 * test/attach/live-edit-match.test.ts checks its verdicts against V8 on
 * every Node line that has LiveEdit.
 */

/** The changes turning `a` into `b`: [aStart, aEnd, bStart, bEnd] for each, in order. */
export function v8Diff(a: string, b: string): number[] {
  const size = a.length + b.length + 1;
  const forward = new Int32Array(size);
  const reverse = new Int32Array(size);
  const at = (k: number): number => (k >= 0 ? k : size + k);

  /** The middle snake of the box (x0, y0)-(x1, y1): [fromX, fromY, toX, toY], or null for an empty box. */
  const middle = (x0: number, y0: number, x1: number, y1: number): number[] | null => {
    const width = x1 - x0;
    const height = y1 - y0;
    if (width + height === 0) return null;
    const delta = width - height;
    const odd = (delta & 1) !== 0;
    forward[at(1)] = x0;
    reverse[at(-1)] = x1;
    const limit = Math.ceil((width + height) / 2);
    for (let d = 0; d <= limit; d++) {
      for (let k = -d; k <= d; k += 2) {
        let fromX: number;
        let toX: number;
        if (k === -d || (k !== d && forward[at(k - 1)]! < forward[at(k + 1)]!)) {
          fromX = toX = forward[at(k + 1)]!;
        } else {
          fromX = forward[at(k - 1)]!;
          toX = fromX + 1;
        }
        let toY = y0 + (toX - x0) - k;
        const fromY = d === 0 || fromX !== toX ? toY : toY - 1;
        while (toX < x1 && toY < y1 && a.charCodeAt(toX) === b.charCodeAt(toY)) {
          toX++;
          toY++;
        }
        forward[at(k)] = toX;
        const l = k - delta;
        if (odd && l >= -d + 1 && l <= d - 1 && toX >= reverse[at(l)]!) return [fromX, fromY, toX, toY];
      }
      for (let l = d; l >= -d; l -= 2) {
        let fromX: number;
        let toX: number;
        if (l === d || (l !== -d && reverse[at(l - 1)]! > reverse[at(l + 1)]!)) {
          fromX = toX = reverse[at(l - 1)]!;
        } else {
          fromX = reverse[at(l + 1)]!;
          toX = fromX - 1;
        }
        const k = l + delta;
        let toY = y0 + (toX - x0) - k;
        const fromY = d === 0 || fromX !== toX ? toY : toY + 1;
        while (x0 < toX && y0 < toY && a.charCodeAt(toX - 1) === b.charCodeAt(toY - 1)) {
          toX--;
          toY--;
        }
        reverse[at(l)] = toX;
        if (!odd && k >= -d && k <= d && toX <= forward[at(k)]!) return [toX, toY, fromX, fromY];
      }
    }
    return null;
  };

  /** The points of a shortest path through the box, or null for an empty box. */
  const path = (x0: number, y0: number, x1: number, y1: number): number[] | null => {
    const s = middle(x0, y0, x1, y1);
    if (s === null) return null;
    const head = path(x0, y0, s[0]!, s[1]!);
    const tail = path(s[2]!, s[3]!, x1, y1);
    return [...(head ?? [s[0]!, s[1]!]), ...(tail ?? [s[2]!, s[3]!])];
  };

  const points = path(0, 0, a.length, b.length);
  const out: number[] = [];
  if (points === null) return out;
  let open = false;
  let sx = 0;
  let sy = 0;
  const same = (x: number, y: number): void => {
    if (!open) return;
    out.push(sx, x, sy, y);
    open = false;
  };
  const differ = (x: number, y: number): void => {
    if (open) return;
    sx = x;
    sy = y;
    open = true;
  };
  for (let i = 2; i < points.length; i += 2) {
    let x = points[i - 2]!;
    let y = points[i - 1]!;
    const px = points[i]!;
    const py = points[i + 1]!;
    const diagonal = (): void => {
      while (x < px && y < py && a.charCodeAt(x) === b.charCodeAt(y)) {
        same(x, y);
        x++;
        y++;
      }
    };
    diagonal();
    const step = (px - x) - (py - y);
    if (step === -1) {
      differ(x, y);
      y++;
    } else if (step === 1) {
      differ(x, y);
      x++;
    }
    diagonal();
  }
  same(points[points.length - 2]!, points[points.length - 1]!);
  return out;
}
