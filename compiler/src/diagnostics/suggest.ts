/** "Did you mean" suggestions: the closest candidate by edit distance, if it is close enough. */
export function suggest(input: string, candidates: Iterable<string>): string | undefined {
  const needle = input.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(needle, candidate.toLowerCase());
    if (d < bestDistance || (d === bestDistance && best !== undefined && candidate < best)) {
      best = candidate;
      bestDistance = d;
    }
  }
  // A prefix is a strong hint even when many characters are missing (NET_BIN → NET_BIND_SERVICE).
  if (best !== undefined && bestDistance <= Math.max(2, Math.floor(needle.length / 3))) return best;
  for (const candidate of [...candidates].sort()) {
    if (needle.length >= 3 && candidate.toLowerCase().startsWith(needle)) return candidate;
  }
  return undefined;
}

export function didYouMean(input: string, candidates: Iterable<string>): string {
  const s = suggest(input, candidates);
  return s === undefined ? '' : `; did you mean "${s}"?`;
}

/** Optimal string alignment distance (Levenshtein plus transpositions). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, () => new Array<number>(cols).fill(0));
  for (let i = 0; i < rows; i++) d[i]![0] = i;
  for (let j = 0; j < cols; j++) d[0]![j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = v;
    }
  }
  return d[rows - 1]![cols - 1]!;
}
