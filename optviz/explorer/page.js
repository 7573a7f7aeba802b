/* The explorable page: its state, readouts, controls, playback and pointer.
 *
 * Data come from the JSON block (never evaluated) and the URL fragment (parsed as
 * numbers and names only, link.js); text reaches the document through textContent.
 * Paths are recomputed by OptvizOptim.runAll (runloop.js), the mirror of optviz's run
 * loop; pictures are draw.js's, controls' building blocks controls.js's and the
 * command command.js's.
 */
(function () {
  "use strict";
  const DATA = JSON.parse(document.getElementById("optviz-data").textContent);
  const O = OptvizOptim;
  const OBJ = DATA.finite_sum ? OptvizObjective.make(DATA.finite_sum.rows) : OptvizObjective;
  const D = DATA.dim;
  const $ = (id) => document.getElementById(id);
  const fmt = OptvizDraw.fmt, plotCanvas = $("plot");
  const C = OptvizControls, L = OptvizLink;
  const num = C.num, parseNumber = C.parseNumber, el = C.el, makeSlider = C.makeSlider;
  const PARAM_UI = C.PARAM_UI, STATE_LABELS = C.STATE_LABELS, SCHEDULE_PARAMS = C.SCHEDULE_PARAMS;
  const MAX_STARTS = L.MAX_STARTS, MAX_STEPS = L.MAX_STEPS;

  // ------------------------------------------------------------------ state
  function initialState() {
    return {
      starts: DATA.starts.map((s) => s.slice()), steps: DATA.steps, tol: DATA.tol, seed: DATA.seed,
      schedule: DATA.schedule, cursor: DATA.steps, shown: 0,
      opts: DATA.optimizers.map((o) => ({ on: true, lr: o.lr, hyper: Object.assign({}, o.hyper), oracle: Object.assign({}, o.oracle || {}) })),
    };
  }
  let state = initialState();
  let results = DATA.optimizers.map(() => []);
  let playing = false, pending = null, lastFragment = "", lastRecomputeMs = NaN, lastUpdateMs = NaN;
  const ui = { opts: [] };

  const view = OptvizDraw.views(DATA, OBJ, plotCanvas, $("loss"));
  function layout() { $("under").style.maxWidth = view.layout($("plot-wrap").clientWidth, window.innerHeight) + "px"; }
  function drawPlot() { view.drawPlot(state, results); }
  function drawLoss() { view.drawLoss(state, results); }
  function vec(arr, off, n) { const out = []; for (let i = 0; i < n; i++) out.push(fmt(arr[off + i])); return n === 1 ? out[0] : "(" + out.join(", ") + ")"; }
  function notice(text) { const n = $("notice"); n.textContent = text; n.hidden = !text; }

  // -------------------------------------------------------------- computing
  function settingsOf(i) {
    const o = state.opts[i];
    return O.settings(DATA.optimizers[i].name, o.lr, o.hyper);
  }
  function runOne(i) {
    const o = state.opts[i], spec = DATA.optimizers[i];
    o.error = "";
    if (!o.on) { results[i] = []; return; }
    try {
      const hp = settingsOf(i);
      results[i] = O.runAll(OBJ, spec.name, hp, state.starts, {
        steps: state.steps, tol: state.tol, schedule: state.schedule, domainScale: DATA.bound_scale,
        seed: state.seed, noise: o.oracle.noise, batch_size: o.oracle.batch_size,
      });
    } catch (err) {
      results[i] = []; o.error = String(err && err.message ? err.message : err);
    }
  }
  function recompute(which) {
    const t0 = performance.now();
    if (which === undefined || which === null) state.opts.forEach((_, i) => runOne(i)); else runOne(which);
    lastRecomputeMs = performance.now() - t0;
    return lastRecomputeMs;
  }
  function lastStep() {
    let m = 0;
    for (const recs of results) for (const r of recs) m = Math.max(m, r.steps);
    return m;
  }

  // --------------------------------------------------------------- readouts
  function statusText(i) {
    const o = state.opts[i], r = results[i][state.shown];
    if (!o.on) return ["hidden", ""];
    if (o.error) return [o.error, "diverged"];
    if (!r) return ["", ""];
    return [r.text, r.status];
  }
  function updateReadouts() {
    ui.opts.forEach((u, i) => {
      const [text, cls] = statusText(i);
      u.status.textContent = text; u.status.className = "status " + cls;
      u.box.classList.toggle("off", !state.opts[i].on);
      const r = results[i][state.shown], rows = [];
      if (r) {
        const t = Math.min(state.cursor, r.steps);
        rows.push(["step", String(t)], ["θ", vec(r.theta, t * D, D)], ["f", fmt(r.loss[t])], ["‖∇f‖", fmt(r.gnorm[t])], ["η", fmt(r.lr[t])]);
        for (const [key, arr] of Object.entries(r.state)) {
          const n = arr.length / (state.steps + 1);
          if (key === "indefinite" || key === "singular") rows.push([STATE_LABELS[key], t === 0 ? "—" : arr[t] ? "yes" : "no"]);
          else rows.push([STATE_LABELS[key] || key, vec(arr, t * n, n)]);
        }
      }
      u.readout.replaceChildren(...rows.map(([k, v]) => { const tr = el("tr"); tr.append(el("th", { scope: "row" }, k), el("td", {}, v)); return tr; }));
    });
    $("cursor-out").textContent = String(state.cursor);
  }
  function updateLegend() {
    $("legend").replaceChildren(...DATA.optimizers.map((o, i) => {
      const s = el("span", { class: state.opts[i].on ? "" : "off" }), sw = el("i");
      sw.style.setProperty("--swatch", o.color); s.append(sw, document.createTextNode(o.label)); return s;
    }));
  }
  function describePlot() {
    const on = DATA.optimizers.filter((_, i) => state.opts[i].on).map((o) => o.label);
    plotCanvas.setAttribute("aria-label", (D === 2 ? "Contour map" : "Curve") + " of the function with the paths of " +
      (on.length ? on.join(", ") : "no optimizer") + " from " + state.starts.map((s) => "(" + s.map(fmt).join(", ") + ")").join(", "));
  }
  function redraw() { drawPlot(); drawLoss(); updateReadouts(); }

  // ---------------------------------------------------------------- command
  function command() { return OptvizCommand.command(DATA, state); }

  // -------------------------------------------------------------- fragment
  function encodeState() { return L.encodeState(DATA, state); }
  function applyFragment(hash) { const out = L.applyFragment(DATA, state, hash); state = out.state; return out.bad; }
  function writeFragment() {
    const text = encodeState();
    if (text === lastFragment) return;
    lastFragment = text;
    try { history.replaceState(null, "", "#" + text); } catch (e) {
      try { location.replace("#" + text); } catch (e2) { /* a sandboxed frame keeps no link */ }
    }
  }

  // -------------------------------------------------------------- controls
  function buildOptimizer(i) {
    const spec = DATA.optimizers[i], o = state.opts[i], box = el("fieldset", { class: "panel opt" });
    box.style.setProperty("--swatch", spec.color);
    const legend = el("legend"), label = el("label"), toggle = el("input", { type: "checkbox", checked: o.on });
    label.append(toggle, document.createTextNode(spec.label)); legend.append(label);
    toggle.addEventListener("change", () => { state.opts[i].on = toggle.checked; changed(i); updateLegend(); describePlot(); });
    const params = el("div", { class: "params" }), controls = {};
    const lrMid = Math.log10(spec.lr);
    controls.lr = makeSlider("o" + i + "-lr", { label: "η (learning rate)", kind: "log", min: Math.floor(lrMid - 3), max: Math.ceil(lrMid + 2), step: 0.01 }, o.lr,
      (v) => { if (!(v > 0)) return false; state.opts[i].lr = v; changed(i); return true; });
    params.append(controls.lr.wrap);
    for (const [key, value] of Object.entries(o.hyper).concat(Object.entries(o.oracle))) {
      const p = PARAM_UI[key] || { label: key, kind: "linear", min: 0, max: 1, step: 0.01 };
      const target = key in o.hyper ? "hyper" : "oracle", id = "o" + i + "-" + key;
      if (p.kind === "bool") {
        const c = el("input", { type: "checkbox", id: id, checked: value }), row = el("label", { class: "check", htmlFor: id });
        row.append(c, document.createTextNode(p.label)); params.append(row);
        c.addEventListener("change", () => { state.opts[i][target][key] = c.checked; changed(i); });
        controls[key] = { show: (v) => { c.checked = v; } };
      } else if (p.kind === "choice") {
        const s = el("select", { id: id }), row = el("label", { class: "row", htmlFor: id });
        for (const ch of p.choices) s.append(el("option", { value: ch }, ch));
        s.value = value; row.append(el("span", {}, p.label), s); params.append(row);
        s.addEventListener("change", () => { state.opts[i][target][key] = s.value; changed(i); });
        controls[key] = { show: (v) => { s.value = v; } };
      } else {
        const q = Object.assign({}, p);
        if (key === "batch_size" && DATA.finite_sum) q.max = DATA.finite_sum.n;
        if (key === "noise") q.max = Math.max(p.max, 5 * value);
        controls[key] = makeSlider(id, q, value, (v) => {
          const trial = Object.assign({}, state.opts[i][target], { [key]: v });
          try { if (target === "hyper") O.settings(spec.name, state.opts[i].lr, trial); else if (v < 0 || (key === "batch_size" && v < 1)) return false; } catch (e) { return false; }
          state.opts[i][target][key] = v; changed(i); return true;
        });
        params.append(controls[key].wrap);
      }
    }
    const status = el("p", { class: "status", role: "status" }), readout = el("table", { class: "readout" });
    readout.setAttribute("aria-label", spec.label + ": state at the step shown");
    box.append(legend, params, status, readout);
    $("optimizers").append(box);
    ui.opts.push({ box: box, toggle: toggle, controls: controls, status: status, readout: readout });
  }
  function syncOptimizerControls() {
    ui.opts.forEach((u, i) => {
      const o = state.opts[i]; u.toggle.checked = o.on; u.controls.lr.show(o.lr);
      for (const [k, v] of Object.entries(o.hyper).concat(Object.entries(o.oracle))) if (u.controls[k]) u.controls[k].show(v);
    });
  }

  // schedule: a kind, its parameters and a warm-up, composed into the CLI syntax
  const sched = { kind: "constant", values: [], warmup: 0 };
  function splitSchedule(spec) { return C.splitSchedule(spec); }
  function composeSchedule() { return C.composeSchedule(sched); }
  function buildScheduleParams() {
    const box = $("schedule-params");
    box.replaceChildren();
    SCHEDULE_PARAMS[sched.kind].forEach(([label, kind, lo, hi, step], j) => {
      const s = makeSlider("schedule-" + j, { label: label, kind: kind === "log0" ? "log" : kind, min: lo, max: hi, step: step },
        sched.values[j] > 0 || kind !== "log0" ? sched.values[j] : 0, (v) => { sched.values[j] = v; return scheduleChanged(); });
      box.append(s.wrap);
    });
  }
  function scheduleChanged() {
    const spec = composeSchedule();
    try { O.parseSchedule(spec, 1); } catch (e) { $("schedule-error").textContent = e.message; return false; }
    $("schedule-error").textContent = ""; state.schedule = spec; $("schedule-text").textContent = spec;
    changed(); return true;
  }
  function syncSchedule() {
    Object.assign(sched, splitSchedule(state.schedule));
    $("schedule-kind").value = sched.kind; $("warmup").value = String(sched.warmup); $("warmup-out").textContent = String(sched.warmup);
    $("schedule-text").textContent = state.schedule; buildScheduleParams();
  }

  function renderStarts() {
    const list = $("starts"), sel = $("readout-start");
    list.replaceChildren(...state.starts.map((s, k) => {
      const li = el("li"), rm = el("button", { type: "button", disabled: state.starts.length === 1 }, "Remove");
      rm.setAttribute("aria-label", "Remove start " + (k + 1));
      rm.addEventListener("click", () => { state.starts.splice(k, 1); state.shown = Math.min(state.shown, state.starts.length - 1); startsChanged(); });
      li.append(el("span", {}, (k + 1) + ": (" + s.map(fmt).join(", ") + ")"), rm); return li;
    }));
    sel.replaceChildren(...state.starts.map((s, k) => el("option", { value: String(k) }, String(k + 1))));
    sel.value = String(state.shown); $("readout-start-row").hidden = state.starts.length < 2;
  }
  function syncGlobals() {
    $("steps").value = String(Math.min(state.steps, 5000)); $("steps-num").value = String(state.steps);
    $("tol").value = num(state.tol); $("seed").value = String(state.seed);
    $("cursor").max = String(state.steps); $("cursor").value = String(state.cursor);
    $("seed-row").hidden = !DATA.optimizers.some((o) => o.name === "sgd" || o.name === "minibatch");
  }
  function syncAll() { syncGlobals(); syncSchedule(); syncOptimizerControls(); renderStarts(); updateLegend(); describePlot(); $("command").textContent = command(); }

  // --------------------------------------------------------------- updates
  function changed(which) {
    const atEnd = state.cursor >= lastStep();
    pending = pending === null ? (which === undefined ? "all" : which) : pending === which ? which : "all";
    requestAnimationFrame(() => {
      if (pending === null) return;
      const job = pending; pending = null;
      const t0 = performance.now();
      recompute(job === "all" ? null : job);
      if (atEnd && !playing) state.cursor = state.steps;
      $("cursor").max = String(state.steps); $("cursor").value = String(state.cursor);
      redraw(); $("command").textContent = command(); writeFragment();
      lastUpdateMs = performance.now() - t0;
    });
  }
  function startsChanged() { renderStarts(); describePlot(); changed(); }
  function setCursor(t) {
    state.cursor = Math.max(0, Math.min(state.steps, Math.round(t)));
    $("cursor").value = String(state.cursor); redraw();
  }

  // playback: the cursor runs to the last step taken in about four seconds
  function play() {
    if (playing) { playing = false; $("play").textContent = "Play"; writeFragment(); return; }
    const end = lastStep();
    if (state.cursor >= end) state.cursor = 0;
    playing = true; $("play").textContent = "Pause";
    const stride = Math.max(1, Math.round(end / 240));
    (function frame() {
      if (!playing) return;
      setCursor(state.cursor + stride);
      if (state.cursor >= end) { setCursor(end); play(); return; }
      requestAnimationFrame(frame);
    })();
  }

  // pointer and keyboard on the map
  let drag = null;
  function eventPoint(ev) {
    const r = plotCanvas.getBoundingClientRect();
    return [ev.clientX - r.left, ev.clientY - r.top];
  }
  const insidePlot = view.inside;
  function pointAt(px, py) { const p = view.fromPx(px, py); return D === 2 ? p : [p[0]]; }
  function nearestStart(px, py) {
    let best = -1, dist = 14;
    state.starts.forEach((s, k) => { const q = D === 2 ? view.toPx(s[0], s[1]) : view.toPx(s[0], OBJ.f(s)); const d = Math.hypot(q[0] - px, q[1] - py); if (d < dist) { dist = d; best = k; } });
    return best;
  }
  plotCanvas.addEventListener("pointerdown", (ev) => {
    const [px, py] = eventPoint(ev);
    if (!insidePlot(px, py) || ev.button > 0) return;
    const p = pointAt(px, py), near = nearestStart(px, py);
    if (ev.shiftKey || ev.ctrlKey || ev.metaKey || ev.altKey) {
      if (state.starts.length >= MAX_STARTS) { notice("At most " + MAX_STARTS + " start points."); return; }
      state.starts.push(p); drag = state.starts.length - 1;
    } else if (near >= 0) { drag = near; state.starts[near] = p; } else { state.starts = [p]; drag = 0; }
    state.shown = drag; plotCanvas.setPointerCapture(ev.pointerId); startsChanged();
  });
  plotCanvas.addEventListener("pointermove", (ev) => {
    const [px, py] = eventPoint(ev);
    if (insidePlot(px, py)) {
      const p = pointAt(px, py), f = OBJ.f(p);
      $("hover").textContent = DATA.function.variables.map((v, j) => v + " = " + fmt(p[j])).join(", ") + ",  f = " + fmt(f);
    }
    if (drag !== null && insidePlot(px, py)) { state.starts[drag] = pointAt(px, py); startsChanged(); }
  });
  const endDrag = () => { drag = null; };
  plotCanvas.addEventListener("pointerup", endDrag);
  plotCanvas.addEventListener("pointercancel", endDrag);
  plotCanvas.addEventListener("keydown", (ev) => {
    const dirs = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
    if (!dirs[ev.key]) return;
    ev.preventDefault();
    const s = state.starts[state.shown], f = ev.shiftKey ? 0.1 : 0.01;
    const box = view.box();
    s[0] += dirs[ev.key][0] * f * (box.x1 - box.x0);
    if (D === 2) s[1] += dirs[ev.key][1] * f * (box.y1 - box.y0);
    startsChanged();
  });
  document.addEventListener("keydown", (ev) => {
    const tag = ev.target && ev.target.tagName;
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || tag === "BUTTON" || ev.target === plotCanvas) return;
    if (ev.key === " ") { ev.preventDefault(); play(); }
    else if (ev.key === "ArrowRight") setCursor(state.cursor + 1);
    else if (ev.key === "ArrowLeft") setCursor(state.cursor - 1);
  });

  // global controls
  $("play").addEventListener("click", play);
  $("back").addEventListener("click", () => setCursor(Math.min(state.cursor, lastStep()) - 1));
  $("forward").addEventListener("click", () => setCursor(state.cursor + 1));
  $("to-end").addEventListener("click", () => { setCursor(state.steps); writeFragment(); });
  $("cursor").addEventListener("input", () => setCursor(Number($("cursor").value)));
  $("cursor").addEventListener("change", writeFragment);
  function setSteps(v) {
    if (!(Number.isInteger(v) && v >= 1 && v <= MAX_STEPS)) return false;
    const atEnd = state.cursor >= state.steps;
    state.steps = v; state.cursor = atEnd ? v : Math.min(state.cursor, v);
    $("steps-num").value = String(v); $("steps").value = String(Math.min(v, 5000)); changed(); return true;
  }
  $("steps").addEventListener("input", () => setSteps(Number($("steps").value)));
  $("steps-num").addEventListener("change", () => { $("steps-num").setAttribute("aria-invalid", String(!setSteps(parseNumber($("steps-num").value)))); });
  $("tol").addEventListener("change", () => {
    const v = parseNumber($("tol").value), ok = Number.isFinite(v) && v >= 0;
    $("tol").setAttribute("aria-invalid", String(!ok));
    if (ok) { state.tol = v; changed(); }
  });
  $("seed").addEventListener("change", () => {
    const v = parseNumber($("seed").value), ok = Number.isInteger(v) && Math.abs(v) <= 2147483647;
    $("seed").setAttribute("aria-invalid", String(!ok));
    if (ok) { state.seed = v; changed(); }
  });
  $("schedule-kind").addEventListener("change", () => {
    sched.kind = $("schedule-kind").value; sched.values = SCHEDULE_PARAMS[sched.kind].map((p) => p[5]);
    buildScheduleParams(); scheduleChanged();
  });
  $("warmup").addEventListener("input", () => { sched.warmup = Number($("warmup").value); $("warmup-out").textContent = String(sched.warmup); scheduleChanged(); });
  $("reset-starts").addEventListener("click", () => { state.starts = DATA.starts.map((s) => s.slice()); state.shown = 0; startsChanged(); });
  $("readout-start").addEventListener("change", () => { state.shown = Number($("readout-start").value); redraw(); });
  $("reset").addEventListener("click", () => { playing = false; $("play").textContent = "Play"; state = initialState(); syncAll(); changed(); });
  function copy(text, what) {
    const done = (ok) => { $("copied").textContent = ok ? what + " copied." : "Copying is blocked here: select the text above and copy it."; };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(() => done(true), () => done(false));
    else done(false);
  }
  $("copy-command").addEventListener("click", () => copy(command(), "Command"));
  $("copy-link").addEventListener("click", () => { writeFragment(); copy(location.href, "Link"); });
  window.addEventListener("hashchange", () => {
    if (location.hash.replace(/^#/, "") === lastFragment) return;
    const bad = applyFragment(location.hash);
    notice(bad.length ? "Some settings in the link were not used: " + bad.slice(0, 10).join(", ") : "");
    syncAll(); changed();
  });

  // ------------------------------------------------------------------ start
  // The static page paints first; the controls, paths and pictures follow one frame later.
  const image = D === 2 ? new Image() : null;
  if (image) { image.src = DATA.background.png; view.setImage(image); }
  function start() {
    DATA.optimizers.forEach((_, i) => buildOptimizer(i));
    const bad = applyFragment(location.hash);
    if (bad.length) notice("Some settings in the link were not used: " + bad.slice(0, 10).join(", "));
    syncAll(); layout(); recompute(); redraw(); $("command").textContent = command();
    lastFragment = location.hash.replace(/^#/, "");
    if (D === 2) {
      if (!image.complete) image.onload = () => drawPlot();
      const bar = el("div", { class: "bar" });
      for (const c of DATA.background.colors) { const s = el("span"); s.style.background = c; bar.append(s); }
      const lv = DATA.background.levels, lab = DATA.background.log ? (v) => OptvizDraw.decade(Math.round(Math.log10(v))) : fmt;
      $("colorbar").append(el("span", {}, (DATA.background.log ? (DATA.f_star === null ? "f − min f " : "f − f* ") : "f ") + lab(lv[0])), bar, el("span", {}, lab(lv[lv.length - 1])));
    }
    let resizeFrame = 0;
    new ResizeObserver(() => { cancelAnimationFrame(resizeFrame); resizeFrame = requestAnimationFrame(() => { layout(); redraw(); }); }).observe($("plot-wrap"));
    window.optvizPage.readyAt = performance.now();
    window.optvizPage.ready = true;
  }
  requestAnimationFrame(() => setTimeout(start, 0));

  // A small read-only handle for tests and benchmarks.
  window.optvizPage = {
    state: () => JSON.parse(JSON.stringify(state)),
    command: command,
    recompute: () => recompute(null),
    lastRecomputeMs: () => lastRecomputeMs,
    lastUpdateMs: () => lastUpdateMs,  // recompute + redraw + readouts after the last change
    results: () => results.map((recs) => recs.map((r) => ({
      theta: Array.from(r.theta.subarray(0, (r.steps + 1) * D), (v) => (Number.isFinite(v) ? v : String(v))),
      loss: Array.from(r.loss.subarray(0, r.steps + 1), (v) => (Number.isFinite(v) ? v : String(v))),
      gnorm: Array.from(r.gnorm.subarray(0, r.steps + 1), (v) => (Number.isFinite(v) ? v : String(v))),
      lr: Array.from(r.lr.subarray(0, r.steps + 1), (v) => (Number.isFinite(v) ? v : String(v))),
      steps: r.steps, status: r.status, text: r.text,
      state: Object.fromEntries(Object.entries(r.state).map(([k, a]) => [k, Array.from(a.subarray(0, (r.steps + 1) * a.length / (state.steps + 1)), (v) => (Number.isFinite(v) ? v : null))])),
    }))),
    errors: () => state.opts.map((o) => o.error || ""),
    pixel: (x, y) => {  // viewport coordinates of the point (x, y) on the map
      const r = plotCanvas.getBoundingClientRect(), p = D === 2 ? view.toPx(x, y) : view.toPx(x, OBJ.f([x]));
      return [r.left + p[0], r.top + p[1]];
    },
    ready: false,  // true once the controls and paths are built
  };
})();
