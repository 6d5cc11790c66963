// Summaries of per-round samples: median, min, max and the spread (half the min-max range, as a share of the median).
export function summary(samples) {
  const s = samples.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length !== samples.length || !s.length) return { median: NaN, min: NaN, max: NaN, spread: NaN, n: samples.length };
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], spread: (s[s.length - 1] - s[0]) / 2 / median, n: s.length };
}

/** The list rotated left by `k`: round k starts with another client, so drift and order effects cancel. */
export function rotate(list, k) {
  const i = k % list.length;
  return [...list.slice(i), ...list.slice(0, i)];
}

/** Whether every value is a finite number above zero. */
export const positive = (...values) => values.every((v) => Number.isFinite(v) && v > 0);
