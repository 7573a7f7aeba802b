/* numpy's arithmetic in JavaScript, for the explorable page's mirror of optviz.
 *
 * The numpy core is the reference; where JavaScript's own operation rounds
 * differently (Math.pow on integer powers, plain summation, a hand-written
 * eigen-solve), these helpers compute what numpy computes, so the page's paths
 * match the core's within 1e-9 relative (docs/math.md §11).
 */
var OptvizNumeric = (function () {
  "use strict";

  /** numpy's x**2 on an array: np.square, one rounding. */
  function sq(x) { return x * x; }

  const SPLIT = 134217729; // 2^27 + 1, Dekker's split
  const BIG = 1e150;       // beyond this the split overflows: fall back to Math.pow

  /** Correctly rounded x**n for an integer n (double-double powering). C's pow
   * (Python's float ** int) and numpy's power are within an ulp of it; Math.pow
   * often is not, so bias corrections and decays follow Python here. */
  function powi(x, n) {
    if (!Number.isFinite(x) || Math.abs(x) > BIG || Math.abs(x) < 1 / BIG || Math.abs(n) > 4096) {
      return Math.pow(x, n);
    }
    let k = Math.abs(n), rh = 1, rl = 0, bh = x, bl = 0;
    while (k > 0) {
      if (k & 1) { const p = ddMul(rh, rl, bh, bl); rh = p[0]; rl = p[1]; }
      k >>>= 1;
      if (k > 0) { const p = ddMul(bh, bl, bh, bl); bh = p[0]; bl = p[1]; }
    }
    if (!Number.isFinite(rh) || Math.abs(rh) > BIG || (rh !== 0 && Math.abs(rh) < 1 / BIG)) {
      return Math.pow(x, n);
    }
    if (n >= 0) return rh + rl;
    const q = 1 / rh, e = twoProd(q, rh);  // 1/(rh + rl): q plus one Newton correction
    return q + q * (((1 - e[0]) - e[1]) - q * rl);
  }

  function twoProd(a, b) {
    const p = a * b;
    const A = SPLIT * a, ah = A - (A - a), al = a - ah;
    const B = SPLIT * b, bh = B - (B - b), bl = b - bh;
    return [p, ((ah * bh - p) + ah * bl + al * bh) + al * bl];
  }

  function ddMul(xh, xl, yh, yl) {
    const p = twoProd(xh, yh);
    const e = p[1] + (xh * yl + xl * yh);
    const s = p[0] + e;
    return [s, e - (s - p[0])];
  }

  /** numpy's sum of a[start .. start+n) (pairwise summation, as np.add.reduce). */
  function pairwiseSum(a, start, n) {
    if (n < 8) {
      let res = 0;
      for (let i = 0; i < n; i++) res += a[start + i];
      return res;
    }
    if (n <= 128) {
      const r = [0, 0, 0, 0, 0, 0, 0, 0];
      for (let j = 0; j < 8; j++) r[j] = a[start + j];
      let i = 8;
      for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[start + i + j];
      let res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
      for (; i < n; i++) res += a[start + i];
      return res;
    }
    let n2 = Math.floor(n / 2);
    n2 -= n2 % 8;
    return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
  }

  /** numpy's round (half to even). */
  function roundHalfEven(x) {
    const r = Math.round(x);
    return (Math.abs(x % 1) === 0.5 && r % 2 !== 0) ? r - 1 : r;
  }

  // The symmetric 2×2 eigen-solve of numpy.linalg.eigh (LAPACK dsyevd → dsteqr → dlaev2),
  // step for step, so eigenvalues and vectors are numpy's to the last bit.
  const EPS = Math.pow(2, -53), EPS2 = EPS * EPS, SAFMIN = 2.2250738585072014e-308;

  function dlaev2(a, b, c) {
    const sm = a + c, df = a - c, adf = Math.abs(df), tb = b + b, ab = Math.abs(tb);
    const acmx = Math.abs(a) > Math.abs(c) ? a : c, acmn = Math.abs(a) > Math.abs(c) ? c : a;
    let rt, rt1, rt2, sgn1, sgn2, cs, cs1, sn1;
    if (adf > ab) rt = adf * Math.sqrt(1 + (ab / adf) * (ab / adf));
    else if (adf < ab) rt = ab * Math.sqrt(1 + (adf / ab) * (adf / ab));
    else rt = ab * Math.SQRT2;
    if (sm < 0) { rt1 = 0.5 * (sm - rt); sgn1 = -1; rt2 = (acmx / rt1) * acmn - (b / rt1) * b; }
    else if (sm > 0) { rt1 = 0.5 * (sm + rt); sgn1 = 1; rt2 = (acmx / rt1) * acmn - (b / rt1) * b; }
    else { rt1 = 0.5 * rt; rt2 = -0.5 * rt; sgn1 = 1; }
    if (df >= 0) { cs = df + rt; sgn2 = 1; } else { cs = df - rt; sgn2 = -1; }
    if (Math.abs(cs) > ab) { const ct = -tb / cs; sn1 = 1 / Math.sqrt(1 + ct * ct); cs1 = ct * sn1; }
    else if (ab === 0) { cs1 = 1; sn1 = 0; }
    else { const tn = -cs / tb; cs1 = 1 / Math.sqrt(1 + tn * tn); sn1 = tn * cs1; }
    if (sgn1 === sgn2) { const tn = cs1; cs1 = -sn1; sn1 = tn; }
    return [rt1, rt2, cs1, sn1];
  }

  /** Eigen-decomposition of [[a, b], [b, c]] (b from the lower triangle): w ascending, V row-major. */
  function eigh2(a, b, c) {
    let d1 = a, d2 = c, z = [1, 0, 0, 1];
    const small = b === 0 || Math.abs(b) <= (Math.sqrt(Math.abs(d1)) * Math.sqrt(Math.abs(d2))) * EPS;
    if (!small && Math.max(Math.abs(d1), Math.abs(d2), Math.abs(b)) !== 0
        && !(Math.abs(b) * Math.abs(b) <= (EPS2 * Math.abs(d1)) * Math.abs(d2) + SAFMIN)) {
      const r = dlaev2(d1, b, d2);
      z = [r[2], -r[3], r[3], r[2]]; d1 = r[0]; d2 = r[1];
    }
    return d2 < d1 ? { w: [d2, d1], V: [z[1], z[0], z[3], z[2]] } : { w: [d1, d2], V: z };
  }

  /** eigh of a symmetric d×d matrix (d = 1 or 2), A row-major. */
  function eigh(A, d) { return d === 1 ? { w: [A[0]], V: [1] } : eigh2(A[0], A[2], A[3]); }

  return { sq: sq, powi: powi, pairwiseSum: pairwiseSum, roundHalfEven: roundHalfEven, eigh2: eigh2, eigh: eigh };
})();
