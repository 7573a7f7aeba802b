/* What a run that stopped with ‖∇f‖ ≤ tol reached: a minimum, a maximum, a saddle
 * or a degenerate point, decided as optviz.critical.endpoint_kinds decides it
 * (docs/math.md §8.2 and §9), step for step:
 *
 *   polish    Newton on ∇f = 0 from the endpoint (at most 32 steps), the Jacobian of
 *             ∇f by central differences of the exact gradient (h = 1e-5·max(1, |θ|)),
 *             symmetrized; settled ("exact") when every |step| ≤ 1e-11·max(1, |θ|);
 *             a point that moved farther than 0.1·max(1, |start|) keeps its start.
 *   classify  the eigenvalues λ of that Jacobian at the polished point: counted by
 *             sign where |λ| > 1e-6·max(1, |λ|max) and the point is exact; all > 0
 *             a minimum, all < 0 a maximum, both a saddle; otherwise f on a ring
 *             of radius 1e-3·max(1, |θ|max) (24 points in 2-D, 2 in 1-D) decides.
 *   endpointKinds  endpoints equal to about 1e-5 are classified once (the first).
 */
var OptvizCritical = (function () {
  "use strict";
  const N = OptvizNumeric;
  const ITERATIONS = 32;

  function grad(obj, x) {
    const out = new Float64Array(1 + obj.dim);
    obj.fg(x, out);
    return out.subarray(1);
  }

  /** The symmetrized Jacobian of ∇f at x by central differences (row-major d×d). */
  function gradientJacobian(obj, x) {
    const d = x.length, J = new Float64Array(d * d);
    for (let j = 0; j < d; j++) {
      const h = 1e-5 * Math.max(1.0, Math.abs(x[j]));
      const xp = Float64Array.from(x), xm = Float64Array.from(x);
      xp[j] = x[j] + h; xm[j] = x[j] - h;
      const gp = grad(obj, xp), gm = grad(obj, xm);
      for (let i = 0; i < d; i++) J[i * d + j] = (gp[i] - gm[i]) / (2 * h);
    }
    const S = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) S[i * d + j] = 0.5 * (J[i * d + j] + J[j * d + i]);
    return S;
  }

  function allFinite(a) { for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false; return true; }

  /** J p = g, least squares where J is singular (optviz.critical._solve). */
  function solve(J, g, d) {
    const e = N.eigh(J, d), w = e.w, V = e.V;
    let scale = 1.0;
    for (let i = 0; i < d; i++) scale = Math.max(scale, Math.abs(w[i]));
    const c = new Float64Array(d), p = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      const tiny = Math.abs(w[i]) <= 1e-12 * scale;
      let s = 0;
      for (let j = 0; j < d; j++) s += V[j * d + i] * g[j];
      c[i] = s * (tiny ? 0.0 : 1.0 / w[i]);
    }
    for (let i = 0; i < d; i++) { let s = 0; for (let j = 0; j < d; j++) s += V[i * d + j] * c[j]; p[i] = s; }
    return p;
  }

  /** Newton on ∇f = 0 from x: [the nearby stationary point, reached to rounding?]. */
  function polish(obj, start) {
    const d = start.length, x = Float64Array.from(start);
    let exact = false;
    for (let it = 0; it < ITERATIONS; it++) {
      const g = grad(obj, x), J = gradientJacobian(obj, x);
      if (!(allFinite(J) && allFinite(g))) break;
      const step = solve(J, g, d);
      let settled = true;
      for (let i = 0; i < d; i++) {
        x[i] = x[i] - step[i];
        if (!(Math.abs(step[i]) <= 1e-11 * Math.max(1.0, Math.abs(x[i])))) settled = false;
      }
      if (settled) { exact = true; break; }
    }
    let near = true;
    for (let i = 0; i < d; i++) {
      if (!(Math.abs(x[i] - start[i]) <= 0.1 * Math.max(1.0, Math.abs(start[i])))) near = false;
    }
    return near ? [x, exact] : [Float64Array.from(start), false];
  }

  /** f on a small ring around x decides: minimum, maximum, saddle, flat or degenerate. */
  function ringKind(obj, x) {
    const d = x.length;
    let big = 0;
    for (let i = 0; i < d; i++) big = Math.max(big, Math.abs(x[i]));
    const r = 1e-3 * Math.max(1.0, big), f0 = obj.f(x), slack = 1e-12 * Math.max(1.0, Math.abs(f0));
    const n = d === 1 ? 2 : 24, step = (2 * Math.PI) / 24;
    let lower = false, higher = false, ok = Number.isFinite(f0);
    for (let k = 0; k < n; k++) {
      const dir = d === 1 ? [k === 0 ? 1.0 : -1.0] : [Math.cos(k * step), Math.sin(k * step)];
      const p = new Float64Array(d);
      for (let i = 0; i < d; i++) p[i] = x[i] + r * dir[i];
      const v = obj.f(p);
      if (!Number.isFinite(v)) ok = false;
      if (v < f0 - slack) lower = true;
      if (v > f0 + slack) higher = true;
    }
    if (!ok) return "degenerate";
    if (!(lower || higher)) return "flat";
    if (!lower) return "minimum";
    if (!higher) return "maximum";
    return d === 2 ? "saddle" : "degenerate";
  }

  /** The kind of the stationary point x (found exactly or only approached). */
  function classify(obj, x, exact) {
    const d = x.length, H = gradientJacobian(obj, x);
    if (!allFinite(H)) return "degenerate";
    const w = N.eigh(H, d).w;
    let scale = 1.0;
    for (let i = 0; i < d; i++) scale = Math.max(scale, Math.abs(w[i]));
    let pos = true, neg = true, anyPos = false, anyNeg = false;
    for (let i = 0; i < d; i++) {
      const sure = exact && Math.abs(w[i]) > 1e-6 * scale;
      pos = pos && sure && w[i] > 0; neg = neg && sure && w[i] < 0;
      anyPos = anyPos || (sure && w[i] > 0); anyNeg = anyNeg || (sure && w[i] < 0);
    }
    if (pos) return "minimum";
    if (neg) return "maximum";
    if (anyPos && anyNeg) return "saddle";
    return ringKind(obj, x);
  }

  /** The kind of stationary point each endpoint sits at; endpoints equal to about 1e-5
   * (the same rounded key) share the first one's kind. */
  function endpointKinds(obj, points) {
    const seen = new Map();
    return points.map((x) => {
      const key = Array.from(x, (v) => N.roundHalfEven(v / (1e-5 * Math.max(1.0, Math.abs(v))))).join(",");
      if (!seen.has(key)) {
        const [p, exact] = polish(obj, x);
        seen.set(key, classify(obj, p, exact));
      }
      return seen.get(key);
    });
  }

  /** Whether f at x is no larger than on a small ring around it. */
  function smallestAround(obj, x) { const k = ringKind(obj, x); return k === "minimum" || k === "flat"; }

  return { polish: polish, classify: classify, endpointKinds: endpointKinds, smallestAround: smallestAround,
    gradientJacobian: gradientJacobian };
})();
