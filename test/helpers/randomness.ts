/**
 * Sanity checks for random output that cannot flake: a length proves nothing about entropy (zeros,
 * a counter or a constant prefix have the right length), so callers draw several samples and check
 *
 * - that no two samples are equal (for samples of 8 bytes or more, a repeat has probability < 2^-50
 *   in any test here);
 * - that the share of one bits over all samples is within 8 standard deviations of one half;
 * - with 64 samples or more: that no bit position is the same in every sample, and each position's
 *   count of ones is within 8 standard deviations of half the samples (so a fixed byte or a counter
 *   shows). Fewer samples could be constant in a position by chance.
 *
 * Eight standard deviations: a truly random source fails one of these checks with probability below
 * 10^-12 per run even across hundreds of bit positions, while every broken source above fails at once.
 */
const SIGMAS = 8;

function ones(byte: number): number {
  let n = 0;
  for (let b = byte; b !== 0; b >>= 1) n += b & 1;
  return n;
}

/** What looks non-random about `samples` (equal lengths); empty when nothing does. */
export function randomnessProblems(samples: readonly Uint8Array[]): string[] {
  const problems: string[] = [];
  if (samples.length < 2) return ["need at least two samples"];
  const length = samples[0]!.length;
  if (samples.some((s) => s.length !== length)) return ["samples differ in length"];
  if (length >= 8) {
    const distinct = new Set(samples.map((s) => Buffer.from(s).toString("hex"))).size;
    if (distinct !== samples.length) problems.push(`${samples.length - distinct} repeated sample(s)`);
  }

  const bits = samples.length * length * 8;
  const total = samples.reduce((n, s) => n + s.reduce((m, b) => m + ones(b), 0), 0);
  if (Math.abs(total - bits / 2) > (SIGMAS * Math.sqrt(bits)) / 2) problems.push(`${total} of ${bits} bits set`);

  const m = samples.length;
  if (m < 64) return problems;
  for (let bit = 0; bit < length * 8; bit++) {
    const count = samples.reduce((n, s) => n + ((s[bit >> 3]! >> (7 - (bit & 7))) & 1), 0);
    if (count === 0 || count === m || Math.abs(count - m / 2) > (SIGMAS * Math.sqrt(m)) / 2) {
      problems.push(`bit ${bit} is set in ${count} of ${m} samples`);
    }
  }
  return problems;
}
