/* optviz's run loop in JavaScript (optviz.runner; docs/math.md §8): one optimizer from
 * each start point, stopping at the step maximum, when ‖∇f‖ ≤ tol, on divergence
 * (f not finite or max|θ| beyond the bound) or where the gradient is undefined;
 * then the statuses are named as the core names them: a run at ‖∇f‖ ≤ tol has
 * converged only at a minimum, else it stopped at a saddle, a maximum or a
 * degenerate point (OptvizCritical), with the core's wording.
 *
 * OptvizOptim gathers the page's numerical modules under one name.
 */
var OptvizOptim = (function () {
  "use strict";
  const OPTIMIZERS = OptvizOptimizers.OPTIMIZERS;

  /** Per start point, the max|θ| beyond which it counts as diverged:
   * 10⁶ × max(1, |start|, the domain's extent) (optviz.runner.default_bound). */
  function defaultBound(start, domainScale) {
    let own = 1.0;
    for (const a of start) { const v = Math.abs(a); if (Number.isFinite(v) && v > own) own = v; }
    return 1e6 * Math.max(own, Math.max(domainScale === null || domainScale === undefined ? 1.0 : domainScale, 1.0));
  }

  /** max|θᵢ|, NaN when any coordinate is NaN (as numpy's max). */
  function maxAbs(x) {
    let m = 0;
    for (let i = 0; i < x.length; i++) {
      const a = Math.abs(x[i]);
      if (a !== a) return NaN;
      if (a > m) m = a;
    }
    return m;
  }

  function allFinite(a) { for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false; return true; }

  /** An empty record of `steps` steps: every per-step array NaN until written. */
  function newRecord(spec, d, steps, bound) {
    const rec = { theta: new Float64Array((steps + 1) * d).fill(NaN), loss: new Float64Array(steps + 1).fill(NaN),
      gnorm: new Float64Array(steps + 1).fill(NaN), lr: new Float64Array(steps + 1).fill(NaN), state: {},
      steps: 0, status: "max_steps", note: "", final: null, indefiniteSteps: 0, singularSteps: 0, bound: bound };
    for (const key of spec.observed) {
      const size = spec.flags && spec.flags.includes(key) ? 1 : d;
      rec.state[key] = new Float64Array((steps + 1) * size).fill(NaN);
    }
    return rec;
  }

  /** Run one optimizer from one start (optviz.runner.run_optimizer for a single point).
   * cfg: {steps, tol, schedule, bound, domainScale, seed, noise, batch_size, k (start index)}.
   * Returns the record: theta ((T+1)·d), loss, gnorm, lr (index t = after step t),
   * observed state per step, steps taken, status (before naming the kind of point:
   * see runAll) and final, the point where the run stopped (its last finite one). */
  function run(objective, name, hp, start, cfg) {
    const spec = OPTIMIZERS[name], d = objective.dim, steps = cfg.steps, tol = cfg.tol;
    const rate = OptvizSchedules.parseSchedule(cfg.schedule, hp.lr);
    const bound = cfg.bound === undefined || cfg.bound === null ? defaultBound(start, cfg.domainScale) : cfg.bound;
    const oracle = OptvizOracles.makeOracle(objective, name, cfg, cfg.k || 0);
    const rec = newRecord(spec, d, steps, bound), obs = {}, S = {};
    for (const key of spec.observed) obs[key] = new Float64Array(rec.state[key].length / (steps + 1));
    for (const slot of spec.slots) S[slot] = new Float64Array(d);
    const x = Float64Array.from(start), xPrev = new Float64Array(d);
    const fg = new Float64Array(1 + d), g = new Float64Array(d), gUsed = new Float64Array(d);
    const delta = new Float64Array(d), H = new Float64Array(d * d);
    function evaluate(t) {
      objective.fg(x, fg);
      let s = 0;
      for (let j = 0; j < d; j++) { g[j] = fg[1 + j]; s += g[j] * g[j]; }
      rec.theta.set(x, t * d); rec.loss[t] = fg[0]; rec.gnorm[t] = Math.sqrt(s);
      return rec.gnorm[t];
    }
    rec.final = x;
    const gn0 = evaluate(0);
    if (!Number.isFinite(fg[0]) || !(maxAbs(x) <= bound)) { rec.status = "diverged"; return rec; }
    if (!allFinite(g)) { rec.status = "undefined_gradient"; return rec; }
    if (gn0 <= tol) { rec.status = "converged"; return rec; }
    for (let t = 1; t <= steps; t++) {
      const lr = rate(t - 1);
      if (oracle) oracle(x, g, t, gUsed); else gUsed.set(g);
      if (spec.needsHessian) objective.hess(x, H);
      spec.rule(hp, gUsed, S, lr, t, H, delta);
      xPrev.set(x);
      for (let j = 0; j < d; j++) x[j] = x[j] - delta[j];
      const gn = evaluate(t);
      rec.lr[t] = lr; rec.steps = t;
      if (spec.observe) {
        spec.observe(hp, S, lr, t, obs);
        for (const key of spec.observed) rec.state[key].set(obs[key], t * obs[key].length);
      }
      if (S.indefinite) rec.indefiniteSteps += 1;
      if (S.singular) rec.singularSteps += 1;
      // where f is not finite or θ left its bound the run stops at its last point
      if (!Number.isFinite(fg[0]) || !(maxAbs(x) <= bound)) { rec.status = "diverged"; rec.final = xPrev; break; }
      if (!allFinite(g)) { rec.status = "undefined_gradient"; break; }  // f is defined, its gradient is not
      if (tol > 0 && gn <= tol) { rec.status = "converged"; break; }
    }
    return rec;
  }

  // optviz.status: what each status says, with the step where it happened
  const PHRASES = {
    converged: "converged at step {step}", saddle: "stopped at a saddle point at step {step}",
    maximum: "stopped at a maximum at step {step}", degenerate: "stopped at a degenerate stationary point at step {step}",
    undefined_gradient: "gradient undefined at step {step}", max_steps: "used all {step} steps",
    diverged: "diverged at step {step}",
  };
  const ENDPOINT_STATUS = { minimum: "converged", flat: "converged", maximum: "maximum", saddle: "saddle", degenerate: "degenerate" };

  /** The run's status in words, as Trajectory.status_text: 'stopped at a maximum at step 6 (…)'. */
  function statusText(rec) {
    return PHRASES[rec.status].replace("{step}", String(rec.steps)) + (rec.note ? " (" + rec.note + ")" : "");
  }

  /** Name what each stopped run reached (optviz.runner._settle) and write its note:
   * the optimizer's events (Newton's indefinite or singular Hessians), then, where the
   * gradient is undefined, whether f is smallest around the point. */
  function settle(objective, recs) {
    const atTol = recs.filter((r) => r.status === "converged");
    const kinds = OptvizCritical.endpointKinds(objective, atTol.map((r) => r.final));
    atTol.forEach((r, i) => { r.status = ENDPOINT_STATUS[kinds[i]]; });
    for (const r of recs) {
      const parts = [];
      if (r.indefiniteSteps) parts.push("Hessian not positive definite at " + r.indefiniteSteps + " step(s)");
      if (r.singularSteps) parts.push("singular Hessian at " + r.singularSteps + " step(s)");
      if (r.status === "undefined_gradient") {
        parts.push(OptvizCritical.smallestAround(objective, r.final) ? "f is smallest around this point" : "f is not smallest around this point");
      }
      r.note = parts.join("; ");
      r.text = statusText(r);
    }
    return recs;
  }

  /** One optimizer from every start (cfg as for run, k set per start), statuses named. */
  function runAll(objective, name, hp, starts, cfg) {
    return settle(objective, starts.map((s, k) => run(objective, name, hp, s, Object.assign({}, cfg, { k: k }))));
  }

  const N = OptvizNumeric, Ob = OptvizObjectives, Sc = OptvizSchedules, Op = OptvizOptimizers, Or = OptvizOracles;
  return {
    sq: N.sq, powi: N.powi, pairwiseSum: N.pairwiseSum, eigh2: N.eigh2,
    formulaObjective: Ob.formulaObjective, finiteSumObjective: Ob.finiteSumObjective,
    parseSchedule: Sc.parseSchedule, SCHEDULE_SYNTAX: Sc.SCHEDULE_SYNTAX,
    OPTIMIZERS: Op.OPTIMIZERS, define: Op.define, settings: Op.settings,
    uniform: Or.uniform, normal: Or.normal, makeOracle: Or.makeOracle,
    defaultBound: defaultBound, run: run, settle: settle, runAll: runAll, statusText: statusText,
  };
})();
