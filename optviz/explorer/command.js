/* The `optviz run` command that reproduces the page's view: the function, each shown
 * optimizer as one item of --opt with its own settings and label
 * (`--opt 'gd(lr=0.001), momentum(lr=0.001, beta=0.75), adam(lr=0.1, label=heavy)'`,
 * optviz.variants), the starts, steps, tol, schedule and the gradient noise.
 */
var OptvizCommand = (function () {
  "use strict";
  const LABEL = /^[^\x00-\x1f\x7f(),=]{1,60}$/;  // what --opt accepts as a label

  /** The shortest text that reads back as the same double. */
  function num(x) { return String(x); }

  /** One shell word: as is when safe, else in single quotes. */
  function quote(s) { return /^[A-Za-z0-9_.\/:,=+@%-]+$/.test(s) ? s : "'" + s.replace(/'/g, "'\\''") + "'"; }

  /** name(lr=…, changed settings…, label=…) for one optimizer of the page. */
  function item(spec, o, label) {
    const settings = ["lr=" + num(o.lr)];
    for (const [k, v] of Object.entries(o.hyper)) if (spec.baseline[k] !== v) settings.push(k + "=" + String(v));
    if (label) settings.push("label=" + label);
    return spec.name + "(" + settings.join(", ") + ")";
  }

  /** The labels the command gives: the page's own where it names a run (not an
   * optimizer's display name), and one for each repeat of the same item. */
  function labels(on) {
    const out = on.map(([, spec]) => (spec.label_arg && LABEL.test(spec.label_arg.trim()) ? spec.label_arg.trim() : ""));
    const seen = new Set();
    on.forEach(([o, spec], j) => {
      const key = item(spec, o, out[j]);
      if (seen.has(key)) out[j] = spec.name + " " + (j + 1);
      seen.add(item(spec, o, out[j]));
    });
    return out;
  }

  function noiseArgs(on, state) {
    const parts = [];
    const stochastic = on.filter(([, spec]) => spec.name === "sgd" || spec.name === "minibatch");
    if (!stochastic.length) return parts;
    parts.push("--seed", String(state.seed));
    const first = stochastic[0][0].oracle;
    if (first.noise !== undefined) parts.push("--noise", num(first.noise));
    const mb = stochastic.find(([, spec]) => spec.name === "minibatch");
    if (mb && mb[0].oracle.batch_size !== undefined) parts.push("--batch-size", String(mb[0].oracle.batch_size));
    return parts;
  }

  /** The command for the page's data and state ("(no optimizer shown)" when none is). */
  function command(DATA, state) {
    const on = state.opts.map((o, i) => [o, DATA.optimizers[i]]).filter(([o]) => o.on);
    if (!on.length) return "(no optimizer shown)";
    const names = labels(on);
    const items = on.map(([o, spec], j) => item(spec, o, names[j]));
    const parts = ["optviz", "run", "--fn", quote(DATA.function.spec), "--opt", quote(items.join(", "))];
    for (const s of state.starts) parts.push("--start=" + s.map(num).join(","));
    parts.push("--steps", String(state.steps));
    if (state.tol !== 1e-6) parts.push("--tol", num(state.tol));
    if (state.schedule !== "constant") parts.push("--schedule", quote(state.schedule));
    return parts.concat(noiseArgs(on, state)).join(" ");
  }

  return { command: command, quote: quote, num: num };
})();
