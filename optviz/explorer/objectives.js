/* Objectives on the explorable page: a compiled formula, or the mean of a compiled
 * fᵢ over data rows (a finite sum), both with f, ∇f and the Hessian
 * (optviz.objective; docs/math.md §1.2, §1.3). The compiled code comes from
 * optviz.explorer.jscode and calls these constructors.
 */
var OptvizObjectives = (function () {
  "use strict";
  const pairwiseSum = OptvizNumeric.pairwiseSum;

  /** A formula objective: fg(v, out) writes [f, ∇f]; hess(v, out) writes H row-major. */
  function formulaObjective(dim, fg, hess) {
    const buf = new Float64Array(1 + dim);
    return {
      dim: dim, fg: fg, hess: hess, finiteSum: null,
      f: function (v) { fg(v, buf); return buf[0]; },
    };
  }

  /** f(θ) = (1/n) Σᵢ fᵢ(θ) over the data rows, averaged as numpy's mean does. */
  function finiteSumObjective(dim, value, grad, hess, rows) {
    const n = rows.length, vals = new Float64Array(n), per = new Float64Array(dim * dim);
    const cols = Array.from({ length: dim * dim }, () => new Float64Array(n));
    function meanOf(fn, v, idx, m, out, offset) {
      const b = idx ? idx.length : n;
      for (let i = 0; i < b; i++) {
        fn(v, rows[idx ? idx[i] : i], per);
        for (let c = 0; c < m; c++) cols[c][i] = per[c];
      }
      for (let c = 0; c < m; c++) out[offset + c] = pairwiseSum(cols[c], 0, b) / b;
    }
    function value1(v, u, out) { out[0] = value(v, u); }
    return {
      dim: dim, finiteSum: { n: n },
      fg: function (v, out) {
        for (let i = 0; i < n; i++) vals[i] = value(v, rows[i]);
        out[0] = pairwiseSum(vals, 0, n) / n;
        meanOf(grad, v, null, dim, out, 1);
      },
      hess: function (v, out) { meanOf(hess, v, null, dim * dim, out, 0); },
      sampleGrad: function (v, idx, out) { meanOf(grad, v, idx, dim, out, 0); },
      f: function (v) { const o = [0]; meanOf(value1, v, null, 1, o, 0); return o[0]; },
    };
  }

  return { formulaObjective: formulaObjective, finiteSumObjective: finiteSumObjective };
})();
