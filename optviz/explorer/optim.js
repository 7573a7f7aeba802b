/* optviz's optimizers, schedules, gradient oracles and run loop in JavaScript.
 *
 * A rule-for-rule mirror of optviz.optim (first_order.py, newton.py,
 * schedules.py), optviz.oracles and optviz.runner, with the same names and the
 * same update rules (written above each rule; docs/math.md §3, §5, §8 and §11).
 * The numpy core is the reference: a browser test holds every deterministic
 * rule here to its trajectories within 1e-9 relative over 500 steps.
 * SGD and minibatch SGD draw from this page's own seeded generator.
 *
 * Adding an optimizer is one call of define(name, spec) below.
 */
var OptvizOptim = (function () {
  "use strict";

  // ------------------------------------------------------------- numpy's arithmetic
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

  // ------------------------------------------------------------------- objectives
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
    const obj = {
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
    return obj;
  }

  // -------------------------------------------------------------------- schedules
  // Step t uses η = schedule(k), k = t − 1 completed steps (optviz.optim.schedules).
  const SCHEDULE_SYNTAX = "constant | step:K:GAMMA | exp:GAMMA | inverse:D | poly:B:A | cosine:T[:MIN] | warmup:W+SCHEDULE";
  const SCHEDULES = {
    constant: { arity: [0, 0], rate: (lr0) => () => lr0 },
    // step:K:G   η₀ · G^⌊k/K⌋
    step: { arity: [2, 2], rate: (lr0, K, G) => (k) => lr0 * powi(G, Math.floor(k / K)) },
    // exp:G      η₀ · Gᵏ
    exp: { arity: [1, 1], rate: (lr0, G) => (k) => lr0 * powi(G, k) },
    // inverse:D  η₀ / (1 + D k)
    inverse: { arity: [1, 1], rate: (lr0, D) => (k) => lr0 / (1.0 + D * k) },
    // poly:B:A   η₀ · (1 + B k)^(−A)
    poly: { arity: [2, 2], rate: (lr0, B, A) => (k) => lr0 * Math.pow(1.0 + B * k, -A) },
    // cosine:T[:MIN]  MIN + (η₀ − MIN)(1 + cos(π min(k, T)/T)) / 2
    cosine: {
      arity: [1, 2],
      rate: (lr0, T, MIN) => {
        const lo = MIN === undefined ? 0.0 : MIN;
        return (k) => lo + (lr0 - lo) * 0.5 * (1.0 + Math.cos(Math.PI * (Math.min(k, T) / T)));
      },
    },
  };

  function scheduleError(spec, why) { return new Error("schedule " + JSON.stringify(spec) + ": " + why); }

  function scheduleNumber(spec, text, isInt, low, high, name) {
    const ok = isInt ? /^\s*[+-]?\d+\s*$/.test(text) : /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(text);
    if (!ok) throw scheduleError(spec, name + " " + JSON.stringify(text) + " is not a " + (isInt ? "whole " : "") + "number; syntax: " + SCHEDULE_SYNTAX);
    const value = Number(text);
    if (!Number.isFinite(value)) throw scheduleError(spec, name + " must be finite");
    if (low !== null && value <= low) throw scheduleError(spec, name + " must be > " + low + ", got " + text);
    if (high !== null && value > high) throw scheduleError(spec, name + " must be ≤ " + high + ", got " + text);
    return value;
  }

  /** Parse the CLI syntax into k ↦ η for base rate lr0 (mirrors parse_schedule). */
  function parseSchedule(spec, lr0) {
    const text = (spec === null || spec === undefined) ? "" : String(spec).trim();
    if (text === "" || text === "constant" || text === "none") return SCHEDULES.constant.rate(lr0);
    if (text.startsWith("warmup:")) {
      const plus = text.indexOf("+");
      const head = plus < 0 ? text : text.slice(0, plus), rest = plus < 0 ? "" : text.slice(plus + 1);
      const parts = head.split(":");
      if (parts.length !== 2) throw scheduleError(text, "write warmup:W or warmup:W+SCHEDULE; syntax: " + SCHEDULE_SYNTAX);
      const W = scheduleNumber(text, parts[1], true, 0, null, "warm-up steps");
      if (rest.startsWith("warmup")) throw scheduleError(text, "only one warm-up is allowed");
      const after = rest ? parseSchedule(rest, lr0) : SCHEDULES.constant.rate(lr0);
      // linear ramp η(0)·(k+1)/W for k < W, then the schedule with its clock started at W
      return (k) => (k < W ? after(0) * (k + 1) / W : after(k - W));
    }
    const parts = text.split(":"), name = parts[0], args = parts.slice(1);
    const kind = Object.prototype.hasOwnProperty.call(SCHEDULES, name) && name !== "constant" ? SCHEDULES[name] : null;
    if (!kind) throw new Error("unknown schedule " + JSON.stringify(name) + "; syntax: " + SCHEDULE_SYNTAX);
    const [lo, hi] = kind.arity;
    if (args.length < lo || args.length > hi) {
      throw scheduleError(text, name + " takes " + lo + (hi !== lo ? "-" + hi : "") + " value(s); syntax: " + SCHEDULE_SYNTAX);
    }
    if (name === "step") return kind.rate(lr0, scheduleNumber(text, args[0], true, 0, null, "K"), scheduleNumber(text, args[1], false, 0, 1, "gamma"));
    if (name === "exp") return kind.rate(lr0, scheduleNumber(text, args[0], false, 0, 1, "gamma"));
    if (name === "inverse") return kind.rate(lr0, scheduleNumber(text, args[0], false, -1e-300, null, "D"));
    if (name === "poly") return kind.rate(lr0, scheduleNumber(text, args[0], false, -1e-300, null, "B"), scheduleNumber(text, args[1], false, -1e-300, null, "A"));
    const MIN = args.length > 1 ? scheduleNumber(text, args[1], false, -1e-300, null, "MIN") : 0.0;
    if (lr0 < MIN) throw scheduleError(text, "MIN " + MIN + " is above the base learning rate");
    return kind.rate(lr0, scheduleNumber(text, args[0], true, 0, null, "T"), MIN);
  }

  // ------------------------------------------------------------------- optimizers
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
      const e = d === 1 ? { w: [A[0]], V: [1] } : eigh2(A[0], A[2], A[3]);
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

  // The symmetric 2×2 eigen-solve of numpy.linalg.eigh (LAPACK dsyevd → dsteqr → dlaev2),
  // step for step, so Newton's eigenvalues and vectors are numpy's to the last bit.
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

  // ---------------------------------------------------------------------- oracles
  // What each optimizer sees as the gradient (optviz.oracles); the page's own
  // counter-based generator: draw (seed, step, point, coordinate) → uniform.
  function hash32(a) {
    a ^= a >>> 16; a = Math.imul(a, 0x7feb352d); a ^= a >>> 15; a = Math.imul(a, 0x846ca68b); a ^= a >>> 16;
    return a >>> 0;
  }
  function uniform(seed, stream, step, k, j) {
    const h = hash32(hash32(hash32(hash32((seed | 0) ^ 0x9e3779b9) ^ stream) ^ step) ^ k);
    const hi = hash32(h ^ hash32(2 * j + 1)) >>> 5, lo = hash32(h ^ hash32(2 * j + 2) ^ 0x68e31da4) >>> 6;
    return (hi * 67108864 + lo + 0.5) / 9007199254740992;  // in (0, 1), 53 bits
  }
  function normal(seed, step, k, j) {  // Box–Muller
    const u1 = uniform(seed, 1, step, k, 2 * j), u2 = uniform(seed, 1, step, k, 2 * j + 1);
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** The oracle of optimizer name for start k: g ↦ the gradient it uses at step t. */
  function makeOracle(objective, name, cfg, k) {
    const seed = cfg.seed || 0;
    if (name !== "sgd" && name !== "minibatch") return null;
    if (objective.finiteSum) {
      const n = objective.finiteSum.n, b = name === "sgd" ? 1 : Math.min(cfg.batch_size || 10, n);
      const idx = new Int32Array(b), perm = new Int32Array(n);
      let pos = n, epoch = 0;
      return function (x, g, t, out) {
        if (b === 1) {
          idx[0] = Math.floor(uniform(seed, 2, t, k, 0) * n);  // one sample, drawn uniformly
        } else {
          if (pos + b > n) {  // a new epoch: shuffle; the n mod b samples left over are dropped
            epoch += 1; pos = 0;
            for (let i = 0; i < n; i++) perm[i] = i;
            for (let i = n - 1; i > 0; i--) {
              const r = Math.floor(uniform(seed, 3, epoch, k, i) * (i + 1)), tmp = perm[i];
              perm[i] = perm[r]; perm[r] = tmp;
            }
          }
          for (let i = 0; i < b; i++) idx[i] = perm[pos + i];
          pos += b;
        }
        objective.sampleGrad(x, idx, out);
      };
    }
    const b = name === "sgd" ? 1 : (cfg.batch_size || 10), sigma = cfg.noise === undefined ? 1.0 : cfg.noise;
    if (sigma === 0) return null;
    const scale = sigma / Math.sqrt(b);  // ε ~ N(0, σ²/b · I)
    return function (x, g, t, out) { for (let j = 0; j < g.length; j++) out[j] = g[j] + scale * normal(seed, t, k, j); };
  }

  // --------------------------------------------------------------------- run loop
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

  /** Run one optimizer from one start (optviz.runner.run_optimizer for a single point).
   * cfg: {steps, tol, schedule, bound, domainScale, seed, noise, batch_size, k (start index)}.
   * Returns the record: theta ((T+1)·d), loss, gnorm, lr (index t = after step t),
   * observed state per step, steps taken and status. */
  function run(objective, name, hp, start, cfg) {
    const spec = OPTIMIZERS[name], d = objective.dim, steps = cfg.steps, tol = cfg.tol;
    const rate = parseSchedule(cfg.schedule, hp.lr);
    const bound = cfg.bound === undefined || cfg.bound === null ? defaultBound(start, cfg.domainScale) : cfg.bound;
    const oracle = makeOracle(objective, name, cfg, cfg.k || 0);
    const rec = { theta: new Float64Array((steps + 1) * d).fill(NaN), loss: new Float64Array(steps + 1).fill(NaN),
      gnorm: new Float64Array(steps + 1).fill(NaN), lr: new Float64Array(steps + 1).fill(NaN), state: {},
      steps: 0, status: "max_steps", indefiniteSteps: 0, singularSteps: 0, bound: bound };
    const obs = {};
    for (const key of spec.observed) {
      const size = spec.flags && spec.flags.includes(key) ? 1 : d;
      rec.state[key] = new Float64Array((steps + 1) * size).fill(NaN);
      obs[key] = new Float64Array(size);
    }
    const S = {};
    for (const slot of spec.slots) S[slot] = new Float64Array(d);
    let x = Float64Array.from(start), xPrev = new Float64Array(d);
    const fg = new Float64Array(1 + d), g = new Float64Array(d), gUsed = new Float64Array(d);
    const delta = new Float64Array(d), H = new Float64Array(d * d);
    function evaluate(t) {
      objective.fg(x, fg);
      let s = 0;
      for (let j = 0; j < d; j++) { g[j] = fg[1 + j]; s += g[j] * g[j]; }
      rec.theta.set(x, t * d); rec.loss[t] = fg[0]; rec.gnorm[t] = Math.sqrt(s);
      return rec.gnorm[t];
    }
    const gn0 = evaluate(0);
    if (!Number.isFinite(fg[0]) || !(maxAbs(x) <= bound)) { rec.status = "diverged"; return rec; }
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
      if (!Number.isFinite(fg[0]) || !(maxAbs(x) <= bound)) { rec.status = "diverged"; x.set(xPrev); break; }
      if (tol > 0 && gn <= tol) { rec.status = "converged"; break; }
    }
    return rec;
  }

  return {
    sq: sq, powi: powi, pairwiseSum: pairwiseSum, eigh2: eigh2,
    formulaObjective: formulaObjective, finiteSumObjective: finiteSumObjective,
    parseSchedule: parseSchedule, SCHEDULE_SYNTAX: SCHEDULE_SYNTAX,
    OPTIMIZERS: OPTIMIZERS, define: define, settings: settings,
    uniform: uniform, normal: normal, makeOracle: makeOracle, defaultBound: defaultBound, run: run,
  };
})();
if (typeof module !== "undefined") module.exports = OptvizOptim;
