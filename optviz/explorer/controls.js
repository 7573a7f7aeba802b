/* The explorable page's building blocks for controls: how each hyperparameter is
 * shown, labelled sliders with a typed value beside them, elements made from data
 * (text through textContent only), and the schedule split into parts and composed back.
 */
var OptvizControls = (function () {
  "use strict";
  const NUMBER = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;
  /** The shortest text that reads back as the same double. */
  function num(x) { return String(x); }
  /** A number typed or linked: a plain decimal or exponent form, else NaN (never evaluated). */
  function parseNumber(text) { return typeof text === "string" && NUMBER.test(text) ? Number(text) : NaN; }

  // How each hyperparameter is shown; ranges only bound the sliders (typed values may go beyond).
  const PARAM_UI = {
    beta: { label: "β", kind: "linear", min: 0, max: 0.999, step: 0.001 },
    beta1: { label: "β₁", kind: "linear", min: 0, max: 0.999, step: 0.001 },
    beta2: { label: "β₂", kind: "linear", min: 0.9, max: 0.9999, step: 0.0001 },
    dampening: { label: "dampening", kind: "linear", min: 0, max: 1, step: 0.01 },
    eps: { label: "ε", kind: "log", min: -12, max: -1 },
    damping: { label: "λ (damping)", kind: "linear", min: 0, max: 10, step: 0.01 },
    noise: { label: "σ (gradient noise)", kind: "linear", min: 0, max: 50, step: 0.1 },
    batch_size: { label: "b (batch size)", kind: "int", min: 1, max: 100, step: 1 },
    nesterov: { label: "Nesterov look-ahead", kind: "bool" },
    bias_correction: { label: "bias correction", kind: "bool" },
    safeguard: { label: "safeguard", kind: "choice", choices: ["none", "abs", "damp"] },
  };
  const STATE_LABELS = { v: "v", s: "s", m_hat: "m̂", v_hat: "v̂", effective_lr: "effective η", indefinite: "H + λI indefinite", singular: "singular" };
  const SCHEDULE_PARAMS = {
    constant: [],
    step: [["K", "int", 1, 1000, 1, 100], ["γ", "linear", 0.05, 1, 0.05, 0.5]],
    exp: [["γ", "linear", 0.9, 1, 0.0005, 0.99]],
    inverse: [["D", "log", -4, 0, 0.01, 0.01]],
    poly: [["B", "log", -4, 0, 0.01, 0.01], ["A", "linear", 0, 2, 0.05, 0.5]],
    cosine: [["T", "int", 1, 5000, 1, 500], ["MIN", "log0", -8, -1, 0.01, 0]],
  };

  function el(tag, props, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === "class") e.className = v; else if (k in e) e[k] = v; else e.setAttribute(k, v);
    }
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function logSlider(input, value) { input.value = String(Math.log10(value)); }
  function makeSlider(id, spec, value, onChange) {
    const wrap = el("div"), row = el("label", { class: "row", htmlFor: id }), range = el("input", { type: "range", id: id });
    const box = el("input", { type: "text", inputMode: "decimal", size: 9 });
    box.setAttribute("aria-label", spec.label + " (value)");
    row.append(el("span", {}, spec.label), box);
    const log = spec.kind === "log";
    range.min = String(spec.min); range.max = String(spec.max); range.step = String(spec.step || 0.01);
    function show(v) { box.value = num(v); box.removeAttribute("aria-invalid"); if (log) logSlider(range, v); else range.value = String(v); }
    range.addEventListener("input", () => { let v = log ? Number(Math.pow(10, Number(range.value)).toPrecision(4)) : Number(range.value); if (spec.kind === "int") v = Math.round(v); box.value = num(v); onChange(v); });
    box.addEventListener("change", () => {
      const v = parseNumber(box.value);
      if (!Number.isFinite(v) || (spec.kind === "int" && !Number.isInteger(v)) || !onChange(v, true)) { box.setAttribute("aria-invalid", "true"); return; }
      show(v);
    });
    show(value); wrap.append(row, range);
    return { wrap: wrap, show: show };
  }

  function splitSchedule(spec) {
    let text = spec.trim(), warm = 0;
    const m = /^warmup:(\d+)(?:\+(.*))?$/.exec(text);
    if (m) { warm = Number(m[1]); text = m[2] || "constant"; }
    const parts = text.split(":");
    const kind = Object.prototype.hasOwnProperty.call(SCHEDULE_PARAMS, parts[0]) ? parts[0] : "constant";
    const values = SCHEDULE_PARAMS[kind].map((p, j) => (parts[j + 1] !== undefined ? Number(parts[j + 1]) : p[5]));
    return { kind: kind, values: values, warmup: warm };
  }
  /** The schedule in the command line's syntax from its parts {kind, values, warmup}. */
  function composeSchedule(sched) {
    const core = sched.kind === "constant" ? "constant" : [sched.kind].concat(sched.values.map((v, j) => (j === 1 && sched.kind === "cosine" && v === 0 ? null : num(v))).filter((v) => v !== null)).join(":");
    return sched.warmup > 0 ? "warmup:" + sched.warmup + (core === "constant" ? "" : "+" + core) : core;
  }

  return { num: num, parseNumber: parseNumber, el: el, makeSlider: makeSlider, splitSchedule: splitSchedule,
    composeSchedule: composeSchedule, PARAM_UI: PARAM_UI, STATE_LABELS: STATE_LABELS, SCHEDULE_PARAMS: SCHEDULE_PARAMS };
})();
