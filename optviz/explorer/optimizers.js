/* optviz's optimizers in JavaScript: a rule-for-rule mirror of optviz.optim
 * (first_order.py, adam_variants.py, adaptive.py, newton.py) with the same names,
 * defaults, checks and update rules (written above each rule; docs/math.md §3, §4),
 * in the same order of arithmetic. A browser test holds every deterministic rule here
 * to the numpy core's trajectories within 1e-9 relative.
 *
 * Adding an optimizer is one call of define(name, spec) below.
 */
var OptvizOptimizers = (function () {
  "use strict";
  const eigh = OptvizNumeric.eigh, powi = OptvizNumeric.powi;

  // Each optimizer: params (defaults and checks, as its Python __init__), slots
  // (state starting at zero), rule(p, g, S, lr, t, H, delta, x) writing θ's decrement
  // (θ ← θ − delta; x is θ before the step) and updating the slots S in place,
  // observe(p, S, lr, t, out) writing what the run records (Python's observe), needsHessian.
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

  // AdamW: θ ← θ − ηλθ, then Adam's step (Adam's delta plus (ηλ)θ, as Python adds them)
  define("adamw", {
    params: { beta1: [0.9, "unit_interval"], beta2: [0.999, "unit_interval"], eps: [1e-8, "positive"], bias_correction: [true, "bool"], weight_decay: [0.01, "non_negative"] },
    slots: ["m", "v"], observed: ["m_hat", "v_hat", "effective_lr"],
    rule(p, g, S, lr, t, H, delta, x) {
      OPTIMIZERS.adam.rule(p, g, S, lr, t, H, delta);
      const decay = lr * p.weight_decay;
      for (let i = 0; i < g.length; i++) delta[i] = delta[i] + decay * x[i];
    },
    observe(p, S, lr, t, out) { OPTIMIZERS.adam.observe(p, S, lr, t, out); },
  });

  // AMSGrad: m, v as Adam;  v_max ← max(v_max, v);  θ ← θ − η m̂ / (√(v_max / (1 − β₂ᵗ)) + ε)
  define("amsgrad", {
    params: { beta1: [0.9, "unit_interval"], beta2: [0.999, "unit_interval"], eps: [1e-8, "positive"], bias_correction: [true, "bool"] },
    slots: ["m", "v", "v_max"], observed: ["m_hat", "v_hat", "effective_lr"],
    rule(p, g, S, lr, t, H, delta) {
      const m = S.m, v = S.v, vmax = S.v_max, c = adamCorrections(p, t);
      for (let i = 0; i < g.length; i++) {
        m[i] = p.beta1 * m[i] + (1.0 - p.beta1) * g[i];
        v[i] = p.beta2 * v[i] + (1.0 - p.beta2) * (g[i] * g[i]);
        vmax[i] = Math.max(vmax[i], v[i]);
        delta[i] = lr * (m[i] / c[0]) / (Math.sqrt(vmax[i] / c[1]) + p.eps);
      }
    },
    observe(p, S, lr, t, out) {
      const c = adamCorrections(p, t);
      for (let i = 0; i < S.m.length; i++) {
        out.m_hat[i] = S.m[i] / c[0]; out.v_hat[i] = S.v_max[i] / c[1];
        out.effective_lr[i] = lr / (Math.sqrt(out.v_hat[i]) + p.eps);
      }
    },
  });

  // NAdam: μₜ = β₁(1 − ½·0.96^{tψ});  Πₜ = μ₁⋯μₜ (multiplied in order);  m, v as Adam;
  //        θ ← θ − η ((1 − μₜ)/(1 − Πₜ) g + μₜ₊₁/(1 − Πₜμₜ₊₁) m) / (√(v/(1 − β₂ᵗ)) + ε)
  function nadamMu(p, t) { return p.beta1 * (1.0 - 0.5 * Math.pow(0.96, t * p.momentum_decay)); }
  define("nadam", {
    params: { beta1: [0.9, "unit_interval"], beta2: [0.999, "unit_interval"], eps: [1e-8, "positive"], momentum_decay: [4e-3, "non_negative"] },
    slots: ["m", "v"], observed: ["m", "v_hat", "effective_lr"],
    rule(p, g, S, lr, t, H, delta) {
      if (t === 1) S.product = 1.0;
      const m = S.m, v = S.v, mu = nadamMu(p, t), muNext = nadamMu(p, t + 1);
      S.product = S.product * mu;
      const prod = S.product, c2 = 1.0 - powi(p.beta2, t);
      const a = (1.0 - mu) / (1.0 - prod), b = muNext / (1.0 - prod * muNext);
      for (let i = 0; i < g.length; i++) {
        m[i] = p.beta1 * m[i] + (1.0 - p.beta1) * g[i];
        v[i] = p.beta2 * v[i] + (1.0 - p.beta2) * (g[i] * g[i]);
        const denom = Math.sqrt(v[i] / c2) + p.eps;
        delta[i] = lr * (a * g[i] + b * m[i]) / denom;
      }
    },
    observe(p, S, lr, t, out) {
      const c2 = 1.0 - powi(p.beta2, t);
      for (let i = 0; i < S.m.length; i++) {
        out.m[i] = S.m[i]; out.v_hat[i] = S.v[i] / c2;
        out.effective_lr[i] = lr / (Math.sqrt(out.v_hat[i]) + p.eps);
      }
    },
  });

  // RAdam: ρ∞ = 2/(1 − β₂) − 1;  ρₜ = ρ∞ − 2tβ₂ᵗ/(1 − β₂ᵗ);  m, v as Adam;  m̂ = m/(1 − β₁ᵗ).
  //        ρₜ > 5: θ ← θ − η m̂ r √(1 − β₂ᵗ)/(√v + ε), r = √((ρₜ−4)(ρₜ−2)ρ∞/((ρ∞−4)(ρ∞−2)ρₜ));  else θ ← θ − η m̂
  function radamFactor(p, vi, t, array) {
    const b2 = p.beta2, b2t = powi(b2, t), rhoInf = 2.0 / (1.0 - b2) - 1.0;
    const rho = rhoInf - 2.0 * t * b2t / (1.0 - b2t);
    const adaptive = Math.sqrt(1.0 - b2t) / (Math.sqrt(vi) + p.eps);
    if (!array) {  // the rule's scalar branch
      if (rho <= 5.0) return 1.0;
      return adaptive * Math.sqrt((rho - 4) * (rho - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rho));
    }
    const rect = Math.sqrt(Math.max((rho - 4) * (rho - 2), 0.0) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rho));
    return rho > 5.0 ? adaptive * rect : 1.0;
  }
  define("radam", {
    params: { beta1: [0.9, "unit_interval"], beta2: [0.999, "unit_interval"], eps: [1e-8, "positive"] },
    slots: ["m", "v"], observed: ["m_hat", "v_hat", "effective_lr"],
    rule(p, g, S, lr, t, H, delta) {
      const m = S.m, v = S.v, c1 = 1.0 - powi(p.beta1, t);
      for (let i = 0; i < g.length; i++) {
        m[i] = p.beta1 * m[i] + (1.0 - p.beta1) * g[i];
        v[i] = p.beta2 * v[i] + (1.0 - p.beta2) * (g[i] * g[i]);
        delta[i] = (m[i] / c1) * lr * radamFactor(p, v[i], t, false);
      }
    },
    observe(p, S, lr, t, out) {
      const c1 = 1.0 - powi(p.beta1, t), c2 = 1.0 - powi(p.beta2, t);
      for (let i = 0; i < S.m.length; i++) {
        out.m_hat[i] = S.m[i] / c1; out.v_hat[i] = S.v[i] / c2;
        out.effective_lr[i] = lr * radamFactor(p, S.v[i], t, true);
      }
    },
  });

  // Adamax: m ← β₁ m + (1 − β₁) g;  u ← max(β₂ u, |g| + ε);  θ ← θ − η/(1 − β₁ᵗ) · m/u
  define("adamax", {
    params: { beta1: [0.9, "unit_interval"], beta2: [0.999, "unit_interval"], eps: [1e-8, "positive"] },
    slots: ["m", "u"], observed: ["m_hat", "u", "effective_lr"],
    rule(p, g, S, lr, t, H, delta) {
      const m = S.m, u = S.u, scale = lr / (1.0 - powi(p.beta1, t));
      for (let i = 0; i < g.length; i++) {
        m[i] = p.beta1 * m[i] + (1.0 - p.beta1) * g[i];
        u[i] = Math.max(p.beta2 * u[i], Math.abs(g[i]) + p.eps);
        delta[i] = scale * m[i] / u[i];
      }
    },
    observe(p, S, lr, t, out) {
      const c1 = 1.0 - powi(p.beta1, t);
      for (let i = 0; i < S.m.length; i++) { out.m_hat[i] = S.m[i] / c1; out.u[i] = S.u[i]; out.effective_lr[i] = lr / S.u[i]; }
    },
  });

  // Yogi: m as Adam;  v ← v − (1 − β₂) sign(v − g²) g²;  θ ← θ − η m̂ / (√v̂ + ε)  (ε = 1e-3)
  define("yogi", {
    params: { beta1: [0.9, "unit_interval"], beta2: [0.999, "unit_interval"], eps: [1e-3, "positive"] },
    slots: ["m", "v"], observed: ["m_hat", "v_hat", "effective_lr"],
    rule(p, g, S, lr, t, H, delta) {
      const m = S.m, v = S.v, c1 = 1.0 - powi(p.beta1, t), c2 = 1.0 - powi(p.beta2, t);
      for (let i = 0; i < g.length; i++) {
        m[i] = p.beta1 * m[i] + (1.0 - p.beta1) * g[i];
        const g2 = g[i] * g[i];
        v[i] = v[i] - (1.0 - p.beta2) * Math.sign(v[i] - g2) * g2;
        delta[i] = lr * (m[i] / c1) / (Math.sqrt(v[i] / c2) + p.eps);
      }
    },
    observe(p, S, lr, t, out) {
      const c1 = 1.0 - powi(p.beta1, t), c2 = 1.0 - powi(p.beta2, t);
      for (let i = 0; i < S.m.length; i++) {
        out.m_hat[i] = S.m[i] / c1; out.v_hat[i] = S.v[i] / c2;
        out.effective_lr[i] = lr / (Math.sqrt(out.v_hat[i]) + p.eps);
      }
    },
  });

  // Adadelta: s ← ρ s + (1 − ρ) g²;  g′ = √(Δ + ε)/√(s + ε) g;  θ ← θ − η g′;  Δ ← ρ Δ + (1 − ρ) g′²
  define("adadelta", {
    params: { rho: [0.9, "unit_interval"], eps: [1e-6, "positive"] },
    slots: ["s", "delta"], observed: ["delta", "s", "effective_lr"],
    rule(p, g, S, lr, t, H, delta) {
      const s = S.s, d = S.delta;
      for (let i = 0; i < g.length; i++) {
        s[i] = p.rho * s[i] + (1.0 - p.rho) * (g[i] * g[i]);
        const step = Math.sqrt(d[i] + p.eps) / Math.sqrt(s[i] + p.eps) * g[i];
        d[i] = p.rho * d[i] + (1.0 - p.rho) * (step * step);
        delta[i] = lr * step;
      }
    },
    observe(p, S, lr, t, out) {
      for (let i = 0; i < S.s.length; i++) {
        out.delta[i] = S.delta[i]; out.s[i] = S.s[i];
        out.effective_lr[i] = lr * Math.sqrt(S.delta[i] + p.eps) / Math.sqrt(S.s[i] + p.eps);
      }
    },
  });

  // Lion: c = β₁ m + (1 − β₁) g;  θ ← θ − η (sign(c) + λθ);  m ← β₂ m + (1 − β₂) g
  define("lion", {
    params: { beta1: [0.9, "unit_interval"], beta2: [0.99, "unit_interval"], weight_decay: [0.0, "non_negative"] },
    slots: ["m"], observed: ["m"],
    rule(p, g, S, lr, t, H, delta, x) {
      const m = S.m;
      for (let i = 0; i < g.length; i++) {
        let direction = Math.sign((1.0 - p.beta1) * g[i] + p.beta1 * m[i]);
        if (p.weight_decay !== 0) direction = direction + p.weight_decay * x[i];
        m[i] = p.beta2 * m[i] + (1.0 - p.beta2) * g[i];
        delta[i] = lr * direction;
      }
    },
    observe(p, S, lr, t, out) { out.m.set(S.m); },
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
