/* The explorable page's pictures: the map (contour image or 1-D curve) with the paths,
 * critical points and starts, and the loss panel. Pure drawing: the page passes its
 * state and results; nothing here reads the document or the link.
 */
var OptvizDraw = (function () {
  "use strict";
  const SUPERSCRIPT = { "-": "⁻", "0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹" };
  function decade(e) { return "10" + String(e).replace(/[-0-9]/g, (c) => SUPERSCRIPT[c]); }
  /** A number for a readout: 0.0123, 1.859×10⁻¹⁴. */
  function fmt(x) {
    if (typeof x !== "number" || Number.isNaN(x)) return "—";
    if (!Number.isFinite(x)) return x > 0 ? "∞" : "−∞";
    if (x === 0) return "0";
    const a = Math.abs(x);
    if (a >= 1e-3 && a < 1e5) return String(Number(x.toPrecision(5)));
    const [mantissa, exponent] = x.toExponential(3).split("e");
    return String(Number(mantissa)) + "×" + decade(Number(exponent));
  }

  /** The map and loss views over two canvases, for one page's data and objective. */
  function views(DATA, OBJ, plotCanvas, lossCanvas) {
    const D = DATA.dim;
    const plot = { canvas: plotCanvas, margin: { l: 50, r: 12, t: 8, b: 36 }, w: 0, h: 0, pw: 0, ph: 0, image: null, curve: null };
    const loss = { canvas: lossCanvas, margin: { l: 50, r: 22, t: 20, b: 24 }, w: 0, h: 0 };
    const X0 = DATA.domain[0][0], X1 = DATA.domain[0][1];
    let Y0, Y1;
    if (D === 2) { Y0 = DATA.domain[1][0]; Y1 = DATA.domain[1][1]; } else { sampleCurve(); }

    function sampleCurve() {
      const n = 600, xs = new Float64Array(n), ys = new Float64Array(n);
      let lo = Infinity, hi = -Infinity;
      for (let i = 0; i < n; i++) {
        xs[i] = X0 + (X1 - X0) * i / (n - 1); ys[i] = OBJ.f([xs[i]]);
        if (Number.isFinite(ys[i])) { lo = Math.min(lo, ys[i]); hi = Math.max(hi, ys[i]); }
      }
      if (!(hi > lo)) { lo = (Number.isFinite(lo) ? lo : 0) - 1; hi = lo + 2; }
      const pad = 0.06 * (hi - lo);
      Y0 = lo - pad; Y1 = hi + pad; plot.curve = { xs: xs, ys: ys };
    }
    function toPx(x, y) {
      const m = plot.margin;
      return [m.l + (x - X0) / (X1 - X0) * plot.pw, m.t + (Y1 - y) / (Y1 - Y0) * plot.ph];
    }
    function fromPx(px, py) {
      const m = plot.margin;
      return [X0 + (px - m.l) / plot.pw * (X1 - X0), Y1 - (py - m.t) / plot.ph * (Y1 - Y0)];
    }
    function sizeCanvas(c, w, h) {
      const dpr = Math.min(window.devicePixelRatio || 1, 3);
      c.style.width = w + "px"; c.style.height = h + "px"; c.width = Math.round(w * dpr); c.height = Math.round(h * dpr);
      const ctx = c.getContext("2d"); ctx.setTransform(dpr, 0, 0, dpr, 0, 0); return ctx;
    }
    /** Size both canvases for a column of ``width`` CSS pixels; returns the picture's width. */
    function layout(width, windowHeight) {
      const m = plot.margin, w = Math.max(200, width);
      const aspect = D === 2 ? DATA.background.height / DATA.background.width : 0.62;
      let pw = w - m.l - m.r;
      const maxPh = Math.max(220, windowHeight * 0.72 - m.t - m.b);
      if (pw * aspect > maxPh) pw = maxPh / aspect;
      plot.pw = pw; plot.ph = pw * aspect; plot.w = Math.floor(pw + m.l + m.r); plot.h = plot.ph + m.t + m.b;
      plot.ctx = sizeCanvas(plot.canvas, plot.w, plot.h);
      loss.w = plot.w; loss.h = Math.round(Math.min(220, Math.max(150, plot.w * 0.32)));
      loss.ctx = sizeCanvas(loss.canvas, loss.w, loss.h);
      return plot.w;
    }
    function niceTicks(lo, hi, n) {
      const span = hi - lo, raw = span / Math.max(1, n), mag = Math.pow(10, Math.floor(Math.log10(raw)));
      const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) || 10 * mag;
      const out = [];
      for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * span; v += step) out.push(Math.abs(v) < 1e-12 * span ? 0 : v);
      return out;
    }
    function tickText(v) { return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(0) : String(Number(v.toPrecision(6))); }
    function drawAxes(ctx, box, xt, yt, xlab, ylab, xfmt, yfmt) {
      ctx.strokeStyle = "#333"; ctx.lineWidth = 1; ctx.strokeRect(box.l, box.t, box.w, box.h);
      ctx.fillStyle = "#333"; ctx.font = "12px system-ui, sans-serif";
      ctx.textAlign = "center"; ctx.textBaseline = "top";
      for (const [v, px] of xt) { ctx.beginPath(); ctx.moveTo(px, box.t + box.h); ctx.lineTo(px, box.t + box.h + 4); ctx.stroke(); ctx.fillText(xfmt(v), px, box.t + box.h + 6); }
      ctx.textAlign = "right"; ctx.textBaseline = "middle";
      for (const [v, py] of yt) { ctx.beginPath(); ctx.moveTo(box.l - 4, py); ctx.lineTo(box.l, py); ctx.stroke(); ctx.fillText(yfmt(v), box.l - 6, py); }
      ctx.textAlign = "center"; ctx.textBaseline = "bottom"; ctx.font = "italic 13px system-ui, sans-serif";
      if (xlab) ctx.fillText(xlab, box.l + box.w / 2, box.t + box.h + 34);
      if (ylab) { ctx.save(); ctx.translate(12, box.t + box.h / 2); ctx.rotate(-Math.PI / 2); ctx.textBaseline = "middle"; ctx.fillText(ylab, 0, 0); ctx.restore(); }
    }
    function star(ctx, x, y, r) {
      ctx.beginPath();
      for (let i = 0; i < 10; i++) {
        const a = -Math.PI / 2 + i * Math.PI / 5, rr = i % 2 ? r * 0.45 : r;
        ctx.lineTo(x + rr * Math.cos(a), y + rr * Math.sin(a));
      }
      ctx.closePath();
    }
    function drawMarker(ctx, kind, x, y) {
      ctx.lineWidth = 1.3; ctx.strokeStyle = "#000";
      if (kind === "minimum" || kind === "local minimum") {
        star(ctx, x, y, kind === "minimum" ? 10 : 8); ctx.fillStyle = kind === "minimum" ? "#ffd700" : "#fff"; ctx.fill(); ctx.stroke();
      } else if (kind === "maximum") {
        ctx.beginPath(); ctx.moveTo(x, y - 8); ctx.lineTo(x + 7, y + 5); ctx.lineTo(x - 7, y + 5); ctx.closePath();
        ctx.fillStyle = "#fff"; ctx.fill(); ctx.stroke();
      } else if (kind === "saddle") {
        ctx.lineWidth = 4; ctx.strokeStyle = "#fff";
        ctx.beginPath(); ctx.moveTo(x - 6, y - 6); ctx.lineTo(x + 6, y + 6); ctx.moveTo(x + 6, y - 6); ctx.lineTo(x - 6, y + 6); ctx.stroke();
        ctx.lineWidth = 2; ctx.strokeStyle = "#000"; ctx.stroke();
      } else {
        ctx.beginPath(); ctx.moveTo(x, y - 7); ctx.lineTo(x + 7, y); ctx.lineTo(x, y + 7); ctx.lineTo(x - 7, y); ctx.closePath();
        ctx.fillStyle = "#fff"; ctx.fill(); ctx.stroke();
      }
    }
    function inside(px, py) { const m = plot.margin; return px >= m.l && px <= m.l + plot.pw && py >= m.t && py <= m.t + plot.ph; }
    function pathPoint(r, t) { return D === 2 ? toPx(r.theta[2 * t], r.theta[2 * t + 1]) : toPx(r.theta[t], r.loss[t]); }
    function drawPlot(state, results) {
      const ctx = plot.ctx, m = plot.margin, box = { l: m.l, t: m.t, w: plot.pw, h: plot.ph };
      ctx.clearRect(0, 0, plot.w, plot.h);
      ctx.fillStyle = "#fff"; ctx.fillRect(box.l, box.t, box.w, box.h);
      if (D === 2 && plot.image && plot.image.complete) ctx.drawImage(plot.image, box.l, box.t, box.w, box.h);
      ctx.save(); ctx.beginPath(); ctx.rect(box.l, box.t, box.w, box.h); ctx.clip();
      if (D === 1) {
        ctx.strokeStyle = "#4a6fa5"; ctx.lineWidth = 2; ctx.beginPath();
        plot.curve.xs.forEach((x, i) => { const p = toPx(x, plot.curve.ys[i]); if (Number.isFinite(p[1])) ctx.lineTo(p[0], p[1]); });
        ctx.stroke();
      }
      const cursor = state.cursor;
      // Earlier optimizers are drawn wider, so a path hidden under a later one still shows at its edges.
      const nOpt = results.length;
      results.forEach((recs, i) => {
        const color = DATA.optimizers[i].color, width = 2.2 + (nOpt > 1 ? (2.4 * (nOpt - 1 - i)) / (nOpt - 1) : 0);
        recs.forEach((r, k) => {
          const last = Math.min(cursor, r.steps), n = last + 1, every = Math.max(1, Math.ceil(n / 60));
          ctx.globalAlpha = k === state.shown ? 1 : 0.55;
          ctx.strokeStyle = color; ctx.lineWidth = width; ctx.lineJoin = "round"; ctx.beginPath();
          for (let t = 0; t < n; t++) { const p = pathPoint(r, t); if (Number.isFinite(p[0]) && Number.isFinite(p[1])) ctx.lineTo(p[0], p[1]); }
          ctx.stroke(); ctx.fillStyle = color;
          for (let t = every; t < n; t += every) { const p = pathPoint(r, t); ctx.beginPath(); ctx.arc(p[0], p[1], 2.4, 0, 2 * Math.PI); ctx.fill(); }
          const p = pathPoint(r, last);
          if (Number.isFinite(p[0]) && Number.isFinite(p[1])) {
            ctx.beginPath(); ctx.arc(p[0], p[1], 6, 0, 2 * Math.PI); ctx.fill(); ctx.lineWidth = 2; ctx.strokeStyle = "#fff"; ctx.stroke();
          }
        });
      });
      ctx.globalAlpha = 1;
      for (const cp of DATA.critical_points) {
        const p = D === 2 ? toPx(cp.point[0], cp.point[1]) : toPx(cp.point[0], OBJ.f(cp.point));
        drawMarker(ctx, cp.kind, p[0], p[1]);
      }
      state.starts.forEach((s, k) => {
        const p = D === 2 ? toPx(s[0], s[1]) : toPx(s[0], OBJ.f(s));
        ctx.beginPath(); ctx.arc(p[0], p[1], k === state.shown ? 8 : 6.5, 0, 2 * Math.PI);
        ctx.fillStyle = "#fff"; ctx.fill(); ctx.lineWidth = 2.5; ctx.strokeStyle = "#000"; ctx.stroke();
      });
      ctx.restore();
      const xt = niceTicks(X0, X1, Math.max(3, Math.floor(plot.pw / 80))).map((v) => [v, toPx(v, Y0)[0]]);
      const yt = niceTicks(Y0, Y1, Math.max(3, Math.floor(plot.ph / 60))).map((v) => [v, toPx(X0, v)[1]]);
      const vars = DATA.function.variables;
      drawAxes(ctx, box, xt, yt, vars[0], D === 2 ? vars[1] : "f(" + vars[0] + ")", tickText, tickText);
    }

    function lossValue(v) {
      const fs = DATA.f_star;
      if (fs === null) return v;
      return Math.max(v - fs, Math.max(1e-16 * Math.abs(fs), 1e-30));
    }
    function drawLoss(state, results) {
      const ctx = loss.ctx, m = loss.margin, box = { l: m.l, t: m.t, w: loss.w - m.l - m.r, h: loss.h - m.t - m.b };
      ctx.clearRect(0, 0, loss.w, loss.h);
      let lo = Infinity, hi = -Infinity, first = -Infinity, allPositive = true;
      for (const recs of results) for (const r of recs) for (let t = 0; t <= r.steps; t++) {
        const v = lossValue(r.loss[t]);
        if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); if (v <= 0) allPositive = false; }
        if (t === 0 && Number.isFinite(v)) first = Math.max(first, v);
      }
      const logScale = allPositive && lo > 0;
      // A diverging run leaves through the top: the axis ends three decades above the highest start.
      if (Number.isFinite(first)) hi = Math.min(hi, logScale ? first * 1e3 : first + 2 * Math.abs(first - lo));
      const tr = (v) => (logScale ? Math.log10(v) : v);
      let a = Number.isFinite(lo) ? tr(lo) : 0, b = Number.isFinite(hi) ? tr(hi) : 1;
      if (!(b > a)) { a -= 1; b += 1; }
      const pad = 0.04 * (b - a); a -= pad; b += pad;
      const sx = (t) => box.l + t / Math.max(1, state.steps) * box.w, sy = (v) => box.t + (b - tr(v)) / (b - a) * box.h;
      ctx.fillStyle = "#fff"; ctx.fillRect(box.l, box.t, box.w, box.h);
      ctx.save(); ctx.beginPath(); ctx.rect(box.l, box.t, box.w, box.h); ctx.clip();
      results.forEach((recs, i) => recs.forEach((r, k) => {
        ctx.strokeStyle = DATA.optimizers[i].color; ctx.lineWidth = k === state.shown ? 2 : 1; ctx.globalAlpha = k === state.shown ? 1 : 0.5;
        ctx.beginPath(); let pen = false;
        for (let t = 0; t <= r.steps; t++) {
          const v = lossValue(r.loss[t]);
          if (!Number.isFinite(tr(v))) { pen = false; continue; }
          if (pen) ctx.lineTo(sx(t), sy(v)); else ctx.moveTo(sx(t), sy(v));
          pen = true;
        }
        ctx.stroke();
      }));
      ctx.globalAlpha = 1; ctx.strokeStyle = "#555"; ctx.setLineDash([4, 3]); ctx.beginPath();
      ctx.moveTo(sx(state.cursor), box.t); ctx.lineTo(sx(state.cursor), box.t + box.h); ctx.stroke(); ctx.setLineDash([]);
      ctx.restore();
      const xt = niceTicks(0, state.steps, Math.max(3, Math.floor(box.w / 90))).filter((v) => Number.isInteger(v)).map((v) => [v, sx(v)]);
      let yv = niceTicks(a, b, 4), ylab = tickText;
      if (logScale) {  // decades, or round values when the range spans less than two decades
        const decades = yv.filter((v) => Number.isInteger(v));
        if (decades.length >= 2) { yv = decades; ylab = decade; }
        else { yv = niceTicks(Math.pow(10, a), Math.pow(10, b), 4).filter((v) => v > 0).map(Math.log10); ylab = (v) => fmt(Math.pow(10, v)); }
      }
      const yt = yv.map((v) => [v, box.t + (b - v) / (b - a) * box.h]);
      drawAxes(ctx, box, xt, yt, "", "", String, ylab);
      ctx.font = "12px system-ui, sans-serif"; ctx.textAlign = "left"; ctx.textBaseline = "top"; ctx.fillStyle = "#333";
      const what = DATA.f_star === null ? "f" : "f − f*";
      ctx.fillText(what + (logScale ? " (log scale)" : "") + " per step", box.l, 3);
      loss.canvas.setAttribute("aria-label", what + " per step" + (logScale ? ", log scale" : ""));
    }

    return {
      layout: layout, drawPlot: drawPlot, drawLoss: drawLoss, toPx: toPx, fromPx: fromPx, inside: inside,
      box: () => ({ x0: X0, x1: X1, y0: Y0, y1: Y1 }),
      setImage: (img) => { plot.image = img; },
    };
  }

  return { fmt: fmt, decade: decade, views: views };
})();
