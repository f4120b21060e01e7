"""The review page's HTML, CSS and JavaScript (inline: the page must work offline).

``PAGE`` holds one placeholder, ``__VIDEOSYNC_DATA__``, replaced by the page data (JSON,
with ``</`` escaped). Nothing here is loaded from the network.
"""

PAGE = r"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>videosync review</title>
<link rel="icon" href="data:,">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 16px; background: #fafafa; color: #222; }
  h1 { font-size: 18px; margin: 0 0 4px; } h2 { font-size: 15px; margin: 18px 0 6px; }
  .conv { color: #666; font-size: 12px; margin-bottom: 10px; }
  #grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 10px; }
  .tile { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 6px; }
  .tile video { width: 100%; background: #000; display: block; }
  .tile.out video { opacity: 0.25; }
  .tile .name { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .tile .meta { font-size: 12px; color: #444; }
  .status-reference { color: #0a7ea4; } .status-synced { color: #1a7f37; } .status-low_confidence { color: #b08800; }
  .nudge button { width: 34px; } .nudge .val { display: inline-block; min-width: 70px; text-align: center; }
  #controls { position: sticky; top: 0; background: #fafafa; padding: 8px 0; display: flex; gap: 8px;
              align-items: center; flex-wrap: wrap; z-index: 2; }
  #scrub { flex: 1; min-width: 200px; }
  #clock { font-family: ui-monospace, monospace; min-width: 220px; }
  .pairs { display: flex; flex-wrap: wrap; gap: 12px; }
  .pair { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 6px; }
  .pair svg text { font-size: 10px; fill: #444; }
  .thumb { position: relative; width: 160px; height: 160px; display: inline-block; vertical-align: top; }
  .thumb img, .thumb svg { position: absolute; left: 0; top: 0; width: 160px; height: 160px; image-rendering: pixelated; }
  .legend { font-size: 11px; color: #555; }
</style>
</head>
<body>
<h1>videosync review</h1>
<div class="conv" id="conv"></div>
<div id="controls">
  <button id="play">▶ play</button>
  <button id="back" title="one reference frame back">−1 frame</button>
  <button id="fwd" title="one reference frame forward">+1 frame</button>
  <input id="scrub" type="range" min="0" max="1" step="0.001" value="0">
  <span id="clock"></span>
  <button id="save" title="download the nudges as a corrections JSON (videosync ... --corrections FILE)">save corrections</button>
  <button id="reset">reset nudges</button>
</div>
<div id="grid"></div>
<h2>Pairs: lag-score curves and similarity matrices</h2>
<div class="legend">Curve: score per candidate offset of b relative to a (higher is better).
<span style="color:#d1242f">red</span>: the pair's answer; <span style="color:#e36209">orange</span>: runners-up;
<span style="color:#0969da">blue dashed</span>: the offset the cameras have now (solved, plus nudges).
Matrix: rows = a's time (down), columns = b's time (right); the blue line is where the current offset says the bright diagonal should be.</div>
<div class="pairs" id="pairs"></div>
<script id="vs-data" type="application/json">__VIDEOSYNC_DATA__</script>
<script>
"use strict";
const D = JSON.parse(document.getElementById("vs-data").textContent);
const cams = D.cameras;
const nudges = cams.map(c => c.nudge_frames || 0);
const ref = D.reference_index;
const refFps = cams[ref].fps;
const state = { t: 0, playing: false, master: -1, clock0: 0, t0: 0 };
const $ = id => document.getElementById(id);
const fmt = (x, d) => (x >= 0 ? "+" : "") + x.toFixed(d);
document.title = "videosync review: " + cams.map(c => c.name).join(", ");
$("conv").textContent = D.convention + "  Timeline time below is reference time.";

function camOffset(i) { return cams[i].offset_seconds + nudges[i] / cams[i].fps; }
function camTime(i, t) { return t + camOffset(i); }
function inRange(i, t) { const c = camTime(i, t); return c >= 0 && c < cams[i].duration_seconds; }
const tMin = Math.min(...cams.map((c, i) => -c.offset_seconds));
const tMax = Math.max(...cams.map((c, i) => c.duration_seconds - c.offset_seconds));

const videos = [], tiles = [];
cams.forEach((c, i) => {
  const tile = document.createElement("div");
  tile.className = "tile";
  tile.innerHTML = `<div class="name" title="${c.path}">${c.name}${i === ref ? " (reference)" : ""}</div>
    <video muted playsinline preload="auto" src="${c.src}"></video>
    <div class="meta">offset <b class="off"></b> s (<span class="offf"></span> frames) · ${c.fps.toFixed(3)} fps<br>
    confidence ${c.confidence.toFixed(2)} · <span class="status-${c.status}">${c.status}</span>
    ${c.proxy ? " · proxy" : ""}<br>cam time <span class="ct"></span></div>
    <div class="nudge">${i === ref ? "<i>reference: nudge the others</i>" :
      `nudge <button class="m">−1</button><span class="val"></span><button class="p">+1</button>`}</div>`;
  const v = tile.querySelector("video");
  v.dataset.cam = i;
  if (i !== ref) {
    tile.querySelector(".m").onclick = () => nudge(i, -1);
    tile.querySelector(".p").onclick = () => nudge(i, +1);
  }
  $("grid").appendChild(tile);
  videos.push(v); tiles.push(tile);
});

function updateLabels() {
  cams.forEach((c, i) => {
    const off = camOffset(i);
    tiles[i].querySelector(".off").textContent = fmt(off, 4);
    tiles[i].querySelector(".offf").textContent = fmt(off * c.fps, 2);
    tiles[i].querySelector(".ct").textContent = inRange(i, state.t) ? camTime(i, state.t).toFixed(3) + " s" : "not recording";
    tiles[i].classList.toggle("out", !inRange(i, state.t));
    const val = tiles[i].querySelector(".val");
    if (val) val.textContent = fmt(nudges[i], 0) + " fr";
  });
  const s = $("scrub");
  s.value = state.t;
  $("clock").textContent = `t = ${state.t.toFixed(3)} s · ref frame ${Math.floor(state.t * refFps + 1e-6)}`;
  drawPairs();
}

function place(t) {
  state.t = Math.min(Math.max(t, tMin), tMax);
  videos.forEach((v, i) => {
    const ct = camTime(i, state.t);
    const clamped = Math.min(Math.max(ct, 0), Math.max(0, cams[i].duration_seconds - 1e-3));
    if (Math.abs(v.currentTime - clamped) > 1e-6) v.currentTime = clamped;
  });
}
function seek(t) { pause(); place(t); updateLabels(); }
function step(n) {
  const k = Math.floor(state.t * refFps + 1e-6) + n;  // show reference frame k (its centre)
  seek((k + 0.5) / refFps);
}
function pickMaster() {
  if (inRange(ref, state.t)) return ref;
  for (let i = 0; i < cams.length; i++) if (inRange(i, state.t)) return i;
  return -1;
}
function play() {
  if (state.playing) return;
  if (state.t >= tMax - 1e-3) place(tMin);
  state.playing = true; state.clock0 = performance.now(); state.t0 = state.t;
  state.master = pickMaster();
  $("play").textContent = "❚❚ pause";
  videos.forEach((v, i) => { v.playbackRate = 1; if (inRange(i, state.t)) v.play().catch(() => {}); });
  requestAnimationFrame(tick);
}
function pause() {
  const was = state.playing;
  state.playing = false;
  $("play").textContent = "▶ play";
  videos.forEach(v => { v.pause(); v.playbackRate = 1; });
  if (was) { place(state.t); updateLabels(); }   // every camera exactly on the timeline again
}
function tick() {
  if (!state.playing) return;
  const m = state.master;
  let t;
  if (m >= 0 && !videos[m].paused && inRange(m, state.t)) {
    t = videos[m].currentTime - camOffset(m);             // the master camera is the clock
    state.clock0 = performance.now(); state.t0 = t;
  } else {
    t = state.t0 + (performance.now() - state.clock0) / 1000;
    state.master = pickMaster();
  }
  if (t >= tMax) { state.t = tMax; pause(); return; }
  state.t = t;
  videos.forEach((v, i) => {
    if (i === state.master) return;
    if (!inRange(i, t)) { if (!v.paused) v.pause(); return; }
    const target = camTime(i, t);
    if (v.paused) { v.currentTime = target; v.play().catch(() => {}); return; }
    const drift = v.currentTime - target;
    if (Math.abs(drift) > 0.2) { v.currentTime = target; v.playbackRate = 1; }
    else v.playbackRate = Math.min(1.25, Math.max(0.8, 1 - 2.5 * drift));  // pull in gently
  });
  updateLabels();
  requestAnimationFrame(tick);
}
function nudge(i, n) {
  nudges[i] += n;
  if (state.playing) updateLabels(); else seek(state.t);
}
function corrections() {
  const out = {};
  cams.forEach((c, i) => { if (i !== ref) out[c.path] = nudges[i]; });
  return { schema_version: 1, kind: "videosync-corrections", reference: cams[ref].path, corrections_frames: out };
}
function save() {
  const blob = new Blob([JSON.stringify(corrections(), null, 2) + "\n"], { type: "application/json" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob); a.download = "corrections.json";
  document.body.appendChild(a); a.click(); a.remove();
}

// ---- pairs: lag curve (SVG) and similarity thumbnail
const SVGNS = "http://www.w3.org/2000/svg";
function el(tag, attrs, parent) {
  const e = document.createElementNS(SVGNS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}
const pairViews = [];
D.pairs.forEach(p => {
  const box = document.createElement("div");
  box.className = "pair";
  box.innerHTML = `<div><b>${cams[p.a].name}</b> → <b>${cams[p.b].name}</b>: ${fmt(p.offset_seconds, 4)} s,
    confidence ${p.confidence.toFixed(2)}${p.used ? "" : " · <span class='status-low_confidence'>not used by the solve</span>"}</div>`;
  const view = { p, box };
  if (p.lag_curve) {
    const W = 460, H = 170, L = 34, R = 8, T = 8, B = 26;
    const svg = el("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: "curve" }, box);
    const xs = p.lag_curve.lags_seconds, ys = p.lag_curve.scores;
    const fin = ys.filter(y => y !== null);
    const x0 = Math.min(...xs), x1 = Math.max(...xs);
    const y0 = Math.min(...fin), y1 = Math.max(...fin);
    const X = x => L + (x - x0) / (x1 - x0 || 1) * (W - L - R);
    const Y = y => T + (1 - (y - y0) / (y1 - y0 || 1)) * (H - T - B);
    el("rect", { x: L, y: T, width: W - L - R, height: H - T - B, fill: "none", stroke: "#ccc" }, svg);
    let d = "", pen = false;
    xs.forEach((x, k) => {
      if (ys[k] === null) { pen = false; return; }
      d += (pen ? "L" : "M") + X(x).toFixed(1) + "," + Y(ys[k]).toFixed(1); pen = true;
    });
    el("path", { d, fill: "none", stroke: "#444", "stroke-width": 1 }, svg);
    const pk = p.lag_curve.peak;
    el("line", { x1: X(pk.offset_seconds), x2: X(pk.offset_seconds), y1: T, y2: H - B, stroke: "#d1242f", class: "peak" }, svg);
    if (pk.score !== null) el("circle", { cx: X(pk.offset_seconds), cy: Y(pk.score), r: 4, fill: "#d1242f" }, svg);
    p.lag_curve.runners_up.forEach((r, k) => {
      if (r.score === null) return;
      el("circle", { cx: X(r.offset_seconds), cy: Y(r.score), r: 3.5, fill: "#e36209", class: "runner" }, svg);
      el("text", { x: X(r.offset_seconds) + 5, y: Y(r.score) - 4 }, svg).textContent = (k + 2) + ": " + fmt(r.offset_seconds, 3);
    });
    view.now = el("line", { y1: T, y2: H - B, stroke: "#0969da", "stroke-dasharray": "4 3" }, svg);
    view.X = X; view.x0 = x0; view.x1 = x1;
    el("text", { x: L, y: H - 8 }, svg).textContent = fmt(x0, 2) + " s";
    el("text", { x: W - R - 40, y: H - 8 }, svg).textContent = fmt(x1, 2) + " s";
    el("text", { x: W / 2 - 60, y: H - 8 }, svg).textContent = "offset of b rel. a (s)";
    el("text", { x: 2, y: T + 8 }, svg).textContent = y1.toPrecision(3);
    el("text", { x: 2, y: H - B }, svg).textContent = y0.toPrecision(3);
  } else {
    box.insertAdjacentHTML("beforeend", "<div class='legend'>no lag curve stored for this pair</div>");
  }
  if (p.similarity_thumbnail) {
    const th = p.similarity_thumbnail;
    const wrap = document.createElement("div");
    wrap.className = "thumb";
    wrap.innerHTML = `<img class="matrix" alt="similarity matrix" src="data:image/png;base64,${th.png_base64}">`;
    const svg = el("svg", { viewBox: "0 0 160 160" }, wrap);
    view.diag = el("line", { stroke: "#0969da", "stroke-width": 1.5, "stroke-dasharray": "4 3" }, svg);
    view.th = th;
    box.appendChild(wrap);
  }
  $("pairs").appendChild(box);
  pairViews.push(view);
});
function drawPairs() {
  pairViews.forEach(v => {
    const off = camOffset(v.p.b) - camOffset(v.p.a);
    if (v.now) {
      const x = v.X(Math.min(Math.max(off, v.x0), v.x1));
      v.now.setAttribute("x1", x); v.now.setAttribute("x2", x);
    }
    if (v.diag) {
      const [a0, a1] = v.th.a_seconds, [b0, b1] = v.th.b_seconds;
      const px = tb => (tb - b0) / (b1 - b0 || 1) * 160, py = ta => (ta - a0) / (a1 - a0 || 1) * 160;
      v.diag.setAttribute("x1", px(a0 + off)); v.diag.setAttribute("y1", py(a0));
      v.diag.setAttribute("x2", px(a1 + off)); v.diag.setAttribute("y2", py(a1));
    }
  });
}

$("play").onclick = () => (state.playing ? pause() : play());
$("back").onclick = () => step(-1);
$("fwd").onclick = () => step(+1);
$("save").onclick = save;
$("reset").onclick = () => { nudges.fill(0); seek(state.t); };
const scrub = $("scrub");
scrub.min = tMin; scrub.max = tMax;
scrub.oninput = () => seek(parseFloat(scrub.value));
document.addEventListener("keydown", e => {
  if (e.key === " ") { e.preventDefault(); state.playing ? pause() : play(); }
  if (e.key === "ArrowLeft") step(-1);
  if (e.key === "ArrowRight") step(+1);
});
window.videosyncReview = { cams, videos, nudges, state, seek, play, pause, step, nudge, corrections, camTime, inRange, tMin, tMax };
seek(Math.max(tMin, Math.min(0, tMax)));
</script>
</body>
</html>
"""
