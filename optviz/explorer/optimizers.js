/* optviz's optimizers in JavaScript: a rule-for-rule mirror of optviz.optim
 * (first_order.py, newton.py) with the same names, defaults, checks and update
 * rules (written above each rule; docs/math.md §3). A browser test holds every
 * deterministic rule here to the numpy core's trajectories within 1e-9 relative.
 *
 * Adding an optimizer is one call of define(name, spec) below.
 */
var OptvizOptimizers = (function () {
  "use strict";
  const eigh = OptvizNumeric.eigh, powi = OptvizNumeric.powi;

  // Each optimizer: params (defaults and checks, as its Python __init__), slots
  // (state starting at zero), rule(p, g, S, lr, t, H, delta) writing θ's decrement
  // (θ ← θ − delta) and updating the slots S in place, observe(p, S, lr, t, out)
  // writing what the run records (Python's observe), needsHessian.
  const OPTIMIZERS = {};
  const CHECKS = {
    positive: [(x) => x > 0, "> 0"],
    non_negative: [(x) => x >= 0, "≥ 0"],
    unit_interval: [(x) => x >= 0 && x < 1, "in [0, 1)"],
    closed_unit_interval: [(x) => x >= 0 && x <= 1, "in [0, 1]"],
  };

  function define(name, spec) { OPTIMIZERS[name] = Object.assign({ name: name, needsHessian: false, observed: [] }, spec); }

  // GD, SGD, minibatch SGD: θ ← θ − η g (only the gradient oracle differs)
  for (const name of ["gd", "sgd", "minibatch"]) {
    define(name, {
      params: {}, slots: [],
      rule(p, g, S, lr, t, H, delta) { for (let i = 0; i < g.length; i++) delta[i] = lr * g[i]; },
    });
  }

  // Momentum: v ← β v + (1 − dampening) g;  θ ← θ − η v   (Nesterov: θ ← θ − η (g + β v))
  const momentumRule = {
    slots: ["v"], observed: ["v"],
    rule(p, g, S, lr, t, H, delta) {
      const v = S.v, scale = 1.0 - p.dampening;
      for (let i = 0; i < g.length; i++) {
        v[i] = p.beta * v[i] + (p.dampening === 0 ? g[i] : scale * g[i]);
        delta[i] = lr * (p.nesterov ? g[i] + p.beta * v[i] : v[i]);
      }
    },
    observe(p, S, lr, t, out) { out.v.set(S.v); },
  };
  define("momentum", Object.assign({ params: { beta: [0.9, "unit_interval"], dampening: [0.0, "closed_unit_interval"], nesterov: [false, "bool"] } }, momentumRule));
  define("nesterov", Object.assign({ params: { beta: [0.9, "unit_interval"], dampening: [0.0, "closed_unit_interval"], nesterov: [true, "bool"] } }, momentumRule));

  // AdaGrad: s ← s + g²;  θ ← θ − η g / √(s + ε)
  define("adagrad", {
    params: { eps: [1e-6, "positive"] }, slots: ["s"], observed: ["s", "effective_lr"],
    rule(p, g, S, lr, t, H, delta) {
      const s = S.s;
      for (let i = 0; i < g.length; i++) { s[i] = s[i] + g[i] * g[i]; delta[i] = lr * g[i] / Math.sqrt(s[i] + p.eps); }
    },
    observe(p, S, lr, t, out) {
      for (let i = 0; i < S.s.length; i++) { out.s[i] = S.s[i]; out.effective_lr[i] = lr / Math.sqrt(S.s[i] + p.eps); }
    },
  });

  // RMSprop: s ← β s + (1 − β) g²;  θ ← θ − η g / √(s + ε)
  define("rmsprop", {
    params: { beta: [0.9, "unit_interval"], eps: [1e-6, "positive"] }, slots: ["s"], observed: ["s", "effective_lr"],
    rule(p, g, S, lr, t, H, delta) {
      const s = S.s;
      for (let i = 0; i < g.length; i++) {
        s[i] = p.beta * s[i] + (1.0 - p.beta) * (g[i] * g[i]);
        delta[i] = lr * g[i] / Math.sqrt(s[i] + p.eps);
      }
    },
    observe(p, S, lr, t, out) {
      for (let i = 0; i < S.s.length; i++) { out.s[i] = S.s[i]; out.effective_lr[i] = lr / Math.sqrt(S.s[i] + p.eps); }
    },
  });

  // Adam: m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²;
  //       m̂ = m / (1 − β₁ᵗ);  v̂ = v / (1 − β₂ᵗ);  θ ← θ − η m̂ / (√v̂ + ε)
  function adamCorrections(p, t) {
    return p.bias_correction ? [1.0 - powi(p.beta1, t), 1.0 - powi(p.beta2, t)] : [1.0, 1.0];
  }
  define("adam", {
    params: { beta1: [0.9, "unit_interval"], beta2: [0.999, "unit_interval"], eps: [1e-8, "positive"], bias_correction: [true, "bool"] },
    slots: ["m", "v"], observed: ["m_hat", "v_hat", "effective_lr"],
    rule(p, g, S, lr, t, H, delta) {
      const m = S.m, v = S.v, c = adamCorrections(p, t);
      for (let i = 0; i < g.length; i++) {
        m[i] = p.beta1 * m[i] + (1.0 - p.beta1) * g[i];
        v[i] = p.beta2 * v[i] + (1.0 - p.beta2) * (g[i] * g[i]);
        delta[i] = lr * (m[i] / c[0]) / (Math.sqrt(v[i] / c[1]) + p.eps);
      }
    },
    observe(p, S, lr, t, out) {
      const c = adamCorrections(p, t);
      for (let i = 0; i < S.m.length; i++) {
        out.m_hat[i] = S.m[i] / c[0]; out.v_hat[i] = S.v[i] / c[1];
        out.effective_lr[i] = lr / (Math.sqrt(out.v_hat[i]) + p.eps);
      }
    },
  });

  // Newton: solve (H + λI) p = g;  θ ← θ − η p. Safeguards: "abs" uses |eigenvalues|
  // (floored at 1e-8·max(1, |Λ|max)); "damp" raises λ to −λmin + 1e-3·max(1, |Λ|max)
  // where H + λI is not positive definite. Solved in the eigenbasis, least squares
  // where an eigenvalue is ≈ 0 (|w| ≤ 1e-12·max(1, |Λ|max)): "singular".
  define("newton", {
    params: { damping: [0.0, "non_negative"], safeguard: ["none", ["none", "abs", "damp"]] },
    slots: [], flags: ["indefinite", "singular"], observed: ["indefinite", "singular"], needsHessian: true,
    rule(p, g, S, lr, t, H, delta) {
      const d = g.length, A = new Float64Array(d * d);
      let finite = true;
      for (let i = 0; i < d * d; i++) {
        A[i] = H[i] + (i % (d + 1) === 0 ? p.damping : 0.0);
        if (!Number.isFinite(A[i])) finite = false;
      }
      if (!finite) { A.fill(0); for (let i = 0; i < d; i++) A[i * (d + 1)] = 1; }
      const e = eigh(A, d);
      const w = e.w.slice(), V = e.V;
      S.indefinite = w[0] <= 0 && finite;
      let scale = 1.0;
      for (let i = 0; i < d; i++) scale = Math.max(scale, Math.abs(w[i]));
      if (p.safeguard === "abs") for (let i = 0; i < d; i++) w[i] = Math.max(Math.abs(w[i]), 1e-8 * scale);
      if (p.safeguard === "damp") {
        const shift = S.indefinite ? -w[0] + 1e-3 * scale : 0.0;
        for (let i = 0; i < d; i++) w[i] = w[i] + shift;
      }
      S.singular = false;
      const coeff = new Float64Array(d);
      for (let i = 0; i < d; i++) {
        const tiny = Math.abs(w[i]) <= 1e-12 * scale;
        if (tiny) S.singular = true;
        let c = 0;
        for (let j = 0; j < d; j++) c += V[j * d + i] * g[j];  // Vᵀ g
        coeff[i] = c * (tiny ? 0.0 : 1.0 / w[i]);
      }
      for (let i = 0; i < d; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += V[i * d + j] * coeff[j];
        delta[i] = lr * (finite ? s : NaN);
      }
    },
    observe(p, S, lr, t, out) { out.indefinite[0] = S.indefinite ? 1 : 0; out.singular[0] = S.singular ? 1 : 0; },
  });

  /** Check and complete an optimizer's settings; throws with Python's message. */
  function settings(name, lr, hyper) {
    const spec = OPTIMIZERS[name];
    if (!spec) throw new Error("unknown optimizer " + JSON.stringify(name) + "; choose from " + Object.keys(OPTIMIZERS).join(", "));
    if (!(Number.isFinite(lr) && lr > 0)) throw new Error(name + ": lr must be > 0, got " + lr);
    const out = { lr: lr };
    for (const key of Object.keys(hyper || {})) {
      if (!Object.prototype.hasOwnProperty.call(spec.params, key)) throw new Error(name + " has no parameter " + JSON.stringify(key));
    }
    for (const [key, [dflt, check]] of Object.entries(spec.params)) {
      const value = hyper && Object.prototype.hasOwnProperty.call(hyper, key) ? hyper[key] : dflt;
      if (check === "bool") { if (typeof value !== "boolean") throw new Error(name + ": " + key + " must be true or false"); }
      else if (Array.isArray(check)) { if (!check.includes(value)) throw new Error(name + ": " + key + " must be one of " + check.join(", ")); }
      else if (!(typeof value === "number" && Number.isFinite(value) && CHECKS[check][0](value))) {
        throw new Error(name + ": " + key + " must be " + CHECKS[check][1] + ", got " + value);
      }
      out[key] = value;
    }
    return out;
  }

  return { OPTIMIZERS: OPTIMIZERS, define: define, settings: settings };
})();
