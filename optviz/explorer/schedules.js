/* Learning-rate schedules on the explorable page, parsed from the command line's
 * syntax and computed as optviz.optim.schedules computes them (docs/math.md §5).
 * Step t uses η = schedule(k), k = t − 1 completed steps.
 */
var OptvizSchedules = (function () {
  "use strict";
  const powi = OptvizNumeric.powi;

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

  return { parseSchedule: parseSchedule, SCHEDULE_SYNTAX: SCHEDULE_SYNTAX };
})();
