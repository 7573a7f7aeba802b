/* What each optimizer sees as the gradient on the explorable page (optviz.oracles;
 * docs/math.md §2): the exact gradient, or SGD's and minibatch SGD's noisy ones,
 * drawn from the page's own seeded generator (checked for statistics, not bits).
 */
var OptvizOracles = (function () {
  "use strict";

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

  return { uniform: uniform, normal: normal, makeOracle: makeOracle };
})();
