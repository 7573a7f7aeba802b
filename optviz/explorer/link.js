/* The page's link: the view (function, starts, settings) as the URL fragment, and a
 * fragment read back as data only: numbers, names and on/off, each checked as the
 * controls check it; anything else is named and left out, never evaluated.
 */
var OptvizLink = (function () {
  "use strict";
  const O = OptvizOptim, C = OptvizControls, num = C.num, parseNumber = C.parseNumber, PARAM_UI = C.PARAM_UI;
  const MAX_STARTS = 8, MAX_STEPS = 100000;

  /** The view as the link's fragment: function, starts, settings, each optimizer's. */
  function encodeState(DATA, state) {
    const p = new URLSearchParams();
    p.set("fn", DATA.function.name);
    p.set("start", state.starts.map((s) => s.map(num).join(",")).join(";"));
    p.set("steps", String(state.steps)); p.set("tol", num(state.tol)); p.set("schedule", state.schedule);
    p.set("seed", String(state.seed)); p.set("step", String(state.cursor));
    state.opts.forEach((o, i) => {
      p.set("o" + i, o.on ? "on" : "off"); p.set("o" + i + ".lr", num(o.lr));
      for (const [k, v] of Object.entries(o.hyper).concat(Object.entries(o.oracle))) p.set("o" + i + "." + k, String(v));
    });
    return p.toString();
  }
  /** The state a fragment asks for, from `state`: {state, bad: the keys not used}. */
  function applyFragment(DATA, state, hash) {
    const text = hash.replace(/^#/, "");
    if (!text) return { state: state, bad: [] };
    const p = new URLSearchParams(text), bad = [], next = JSON.parse(JSON.stringify(state));
    if (p.has("fn") && p.get("fn") !== DATA.function.name) return { state: state, bad: ["fn (the link is for another function)"] };
    for (const [key, value] of p.entries()) {
      if (!applyKey(DATA, next, key, value)) bad.push(key.length > 40 ? key.slice(0, 37) + "…" : key);
    }
    next.opts.forEach((o, i) => { try { O.settings(DATA.optimizers[i].name, o.lr, o.hyper); } catch (e) { bad.push("o" + i); next.opts[i] = state.opts[i]; } });
    try { O.parseSchedule(next.schedule, 1); } catch (e) { bad.push("schedule"); next.schedule = state.schedule; }
    next.cursor = Math.min(next.cursor, next.steps);
    return { state: next, bad: bad };
  }
  function applyKey(DATA, next, key, value) {
    const D = DATA.dim;
    if (key === "fn") return true;
    if (key === "start") {
      const pts = value.split(";").map((s) => s.split(",").map(parseNumber));
      if (!pts.length || pts.length > MAX_STARTS || pts.some((s) => s.length !== D || s.some((v) => !Number.isFinite(v)))) return false;
      next.starts = pts; next.shown = Math.min(next.shown, pts.length - 1); return true;
    }
    if (key === "steps" || key === "step" || key === "seed") {
      const v = parseNumber(value);
      if (!Number.isInteger(v) || (key !== "seed" && (v < (key === "steps" ? 1 : 0) || v > MAX_STEPS)) || Math.abs(v) > 2147483647) return false;
      if (key === "steps") next.steps = v; else if (key === "step") next.cursor = v; else next.seed = v;
      return true;
    }
    if (key === "tol") { const v = parseNumber(value); if (!(Number.isFinite(v) && v >= 0)) return false; next.tol = v; return true; }
    if (key === "schedule") { if (value.length > 100) return false; next.schedule = value.trim() || "constant"; return true; }
    const m = /^o(\d{1,2})(?:\.([a-z_0-9]{1,20}))?$/.exec(key);
    if (!m || Number(m[1]) >= next.opts.length) return false;
    const o = next.opts[Number(m[1])], name = m[2];
    if (!name) { if (value !== "on" && value !== "off") return false; o.on = value === "on"; return true; }
    if (name === "lr") { const v = parseNumber(value); if (!(v > 0) || !Number.isFinite(v)) return false; o.lr = v; return true; }
    const target = Object.prototype.hasOwnProperty.call(o.hyper, name) ? o.hyper : Object.prototype.hasOwnProperty.call(o.oracle, name) ? o.oracle : null;
    if (!target) return false;
    const ui = PARAM_UI[name] || { kind: "linear" };
    if (ui.kind === "bool") { if (value !== "true" && value !== "false") return false; target[name] = value === "true"; return true; }
    if (ui.kind === "choice") { if (!ui.choices.includes(value)) return false; target[name] = value; return true; }
    const v = parseNumber(value);
    if (!Number.isFinite(v) || (name === "noise" && v < 0) || (name === "batch_size" && !(Number.isInteger(v) && v >= 1 && v <= (DATA.finite_sum ? DATA.finite_sum.n : 100000)))) return false;
    if (target === o.hyper) {
      try { O.settings(DATA.optimizers[Number(m[1])].name, o.lr, Object.assign({}, o.hyper, { [name]: v })); } catch (e) { return false; }
    }
    target[name] = v; return true;
  }

  return { encodeState: encodeState, applyFragment: applyFragment, MAX_STARTS: MAX_STARTS, MAX_STEPS: MAX_STEPS };
})();
