// kinema view: the page. Plain JavaScript, no dependencies; everything it shows comes
// from this server's /api/ (docs/view.md). Pages: #/ (items), #/compare/PAIR,
// #/video/ITEM, #/snapshot/ITEM, #/map/ITEM.
"use strict";

const $ = (selector, root = document) => root.querySelector(selector);
const main = () => $("#main");
let leave = () => {};  // stops the current page's timers and listeners

function el(tag, attrs = {}, ...children) {
  const node = document.createElementNS(tag.startsWith("svg:") ? "http://www.w3.org/2000/svg" : "http://www.w3.org/1999/xhtml", tag.replace("svg:", ""));
  for (const [key, value] of Object.entries(attrs)) {
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function say(text) { $("#status").textContent = text; }

async function api(path, options = {}) {
  const response = await fetch(path, options);
  if (!response.ok) {
    let message = response.statusText;
    try { message = (await response.json()).error || message; } catch (_) { /* not JSON */ }
    throw new Error(message);
  }
  return response.json();
}

const post = (path, body) => api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

// A job until it ends, its progress shown in `bar` (a <progress>).
async function follow(job, bar) {
  bar.hidden = false;
  while (job.state === "queued" || job.state === "running") {
    bar.value = job.progress;
    await sleep(150);
    job = await api(`/api/jobs/${job.id}`);
  }
  bar.hidden = true;
  if (job.state !== "done") throw new Error(job.message || job.state);
  return job;
}

// Images by address, decoded once.
const images = new Map();
function image(url) {
  if (!images.has(url)) {
    const img = new Image();
    img.src = url;
    images.set(url, img.decode().then(() => img, () => { images.delete(url); throw new Error(`could not load ${url}`); }));
  }
  return images.get(url);
}

// ---------- items ----------

async function waitReady(ids) {
  for (;;) {
    const listing = await api("/api/items");
    const wanted = listing.items.filter((item) => ids.includes(item.id));
    const failed = wanted.find((item) => item.state === "failed");
    if (failed) throw new Error(`${failed.name}: ${failed.message}`);
    if (wanted.every((item) => item.state === "ready")) return listing;
    const share = wanted.reduce((sum, item) => sum + item.progress, 0) / wanted.length;
    say(`loading ${wanted.map((item) => item.name).join(", ")}: ${Math.round(100 * share)} %`);
    await sleep(300);
  }
}

function pageOf(item, pairs) {
  const pair = pairs.find((p) => p.a === item.id || p.b === item.id);
  if (item.kind === "video") return pair ? `#/compare/${pair.id}` : `#/video/${item.id}`;
  return item.kind === "model" ? `#/map/${item.id}` : `#/snapshot/${item.id}`;
}

async function home() {
  const listing = await api("/api/items");
  const cards = el("div", { class: "cards" });
  for (const pair of listing.pairs) {
    const [a, b] = [pair.a, pair.b].map((id) => listing.items.find((item) => item.id === id));
    cards.append(el("section", { class: "card" }, el("div", { class: "kind" }, "compare"), el("a", { href: `#/compare/${pair.id}` }, `${a.name} ↔ ${b.name}`)));
  }
  for (const item of listing.items) {
    const card = el("section", { class: "card" }, el("div", { class: "kind" }, item.kind), el("a", { href: pageOf(item, []) }, item.name));
    if (item.state !== "ready") card.append(el("progress", { max: 1, value: item.progress, "aria-label": `loading ${item.name}` }));
    if (item.message) card.append(el("p", { class: item.state === "failed" ? "note failed" : "note" }, item.message));
    cards.append(card);
  }
  main().replaceChildren(el("h1", {}, "Items"), cards);
  const loading = listing.items.some((item) => item.state === "waiting" || item.state === "loading");
  const timer = loading ? setTimeout(() => route(), 500) : null;
  leave = () => clearTimeout(timer);
}

// ---------- compare (and one video) ----------

function frameAt(times, t) {  // the frame shown at time t: the last that starts at or before it
  let lo = 0, hi = times.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (times[mid][0] <= t + 1e-9) lo = mid; else hi = mid - 1;
  }
  return lo;
}

async function compare(ids, pairId) {
  const listing = await waitReady(ids);
  say("");
  const videos = ids.map((id) => listing.items.find((item) => item.id === id));
  const pair = pairId ? await api(`/api/pairs/${pairId}`) : null;
  const stops = [...new Set(videos.flatMap((v) => v.times.map((t) => t[0])))].sort((x, y) => x - y);
  const end = Math.max(...videos.map((v) => v.times[v.times.length - 1][0] + v.times[v.times.length - 1][1]));
  const [w, h] = videos[0].display;
  const two = videos.length === 2;
  let t = 0, playing = false, last = 0, raf = 0, drawn = "", tickets = 0;

  const canvas = el("canvas", { id: "view", width: two ? 2 * w : w, height: h, "aria-label": "the video frames" });
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const mode = el("select", { id: "mode", onchange: () => { layout(); draw(); } },
    el("option", { value: "side" }, "side by side"), el("option", { value: "wipe" }, "wipe"), el("option", { value: "diff" }, "difference"));
  const split = el("input", { id: "split", type: "range", min: 0, max: 1, step: 0.001, value: 0.5, oninput: () => draw() });
  const gain = el("select", { id: "gain", onchange: () => draw() }, ...[1, 4, 16].map((g) => el("option", { value: g }, `×${g}`)));
  const position = el("output", { id: "position" });
  const playButton = el("button", { id: "play", onclick: () => toggle() }, "Play");
  const controls = el("div", { class: "controls" },
    el("button", { onclick: () => step(-1), "aria-label": "previous frame" }, "◀"), playButton,
    el("button", { onclick: () => step(1), "aria-label": "next frame" }, "▶"), position);
  if (two) controls.append(el("label", {}, "view ", mode), el("label", { id: "split-label" }, "split ", split), el("label", { id: "gain-label" }, "gain ", gain));
  const notes = videos.filter((v) => v.message).map((v) => el("p", { class: "note" }, `${v.name}: ${v.message}`));
  if (pair && pair.note) notes.push(el("p", { class: "note" }, pair.note));
  const title = two ? `${videos[0].name} ↔ ${videos[1].name}` : videos[0].name;
  const psnr = el("div", { class: "psnr" });
  main().replaceChildren(el("h1", {}, title), controls, el("div", { class: "stage" }, canvas), ...notes, psnr);
  if (pair && pair.psnr) plot(psnr, pair.psnr);

  function layout() {
    canvas.width = two && mode.value === "side" ? 2 * w : w;
    // Small videos are shown larger (whole multiples, sharp pixels): a 64-px clip is unreadable.
    const zoom = Math.max(1, Math.floor(480 / w));
    canvas.style.width = `${zoom * canvas.width}px`;
    canvas.style.imageRendering = zoom > 1 ? "pixelated" : "auto";
    if (!two) return;
    $("#split-label").hidden = mode.value !== "wipe";
    $("#gain-label").hidden = mode.value !== "diff";
  }
  layout();

  function plot(box, values) {
    const W = Math.max(320, Math.min(900, w * (two ? 2 : 1))), H = 140, pad = 28;
    const finite = values.filter((v) => v !== null);
    const lo = Math.floor(Math.min(...finite, 60)), hi = Math.ceil(Math.max(...finite, lo + 1));
    const x = (i) => pad + (W - 2 * pad) * (values.length > 1 ? i / (values.length - 1) : 0.5);
    const y = (v) => H - pad - (H - 2 * pad) * ((v === null ? hi : v) - lo) / (hi - lo || 1);
    const marker = el("svg:line", { class: "marker", y1: pad / 2, y2: H - pad / 2 });
    const svg = el("svg:svg", { id: "psnr-plot", width: W, height: H, role: "img", "aria-label": "PSNR of every frame (dB); click to go to a frame" },
      el("svg:polyline", { points: values.map((v, i) => `${x(i)},${y(v)}`).join(" ") }), marker,
      el("svg:text", { x: 2, y: pad }, `${hi} dB`), el("svg:text", { x: 2, y: H - pad }, `${lo} dB`),
      el("svg:text", { x: W / 2 - 60, y: H - 6 }, `PSNR per frame (${values.length})`));
    svg.addEventListener("click", (event) => {
      const box = svg.getBoundingClientRect();
      const i = Math.round((event.clientX - box.left - pad) / (W - 2 * pad) * (values.length - 1));
      seek(videos[0].times[Math.max(0, Math.min(values.length - 1, i))][0]);
    });
    box.replaceChildren(svg);
    plot.mark = (i) => { marker.setAttribute("x1", x(i)); marker.setAttribute("x2", x(i)); };
  }

  async function draw() {
    const index = videos.map((v) => frameAt(v.times, t));
    const key = `${index}|${mode.value}|${split.value}|${gain.value}|${canvas.width}`;
    const ticket = ++tickets;
    const frames = await Promise.all(videos.map((v, k) => image(`/api/items/${v.id}/frames/${index[k]}`)));
    if (ticket !== tickets || key === drawn) return;  // a later draw was asked for meanwhile, or this one is on screen
    drawn = key;
    const [a, b] = frames;
    if (!two || mode.value === "side") {
      frames.forEach((img, k) => ctx.drawImage(img, k * w, 0, w, h));
    } else if (mode.value === "wipe") {
      const cut = Math.round(w * Number(split.value));
      ctx.drawImage(a, 0, 0, w, h);
      ctx.drawImage(b, cut, 0, w - cut, h, cut, 0, w - cut, h);
      ctx.fillStyle = "#fff"; ctx.fillRect(cut, 0, 1, h);
    } else {
      ctx.drawImage(a, 0, 0, w, h);
      const pa = ctx.getImageData(0, 0, w, h);
      ctx.drawImage(b, 0, 0, w, h);
      const pb = ctx.getImageData(0, 0, w, h), k = Number(gain.value);
      for (let i = 0; i < pa.data.length; i += 4) {
        for (let c = 0; c < 3; c++) pb.data[i + c] = Math.min(255, k * Math.abs(pa.data[i + c] - pb.data[i + c]));
      }
      ctx.putImageData(pb, 0, 0);
    }
    position.value = `${index.map((i, k) => `frame ${i + 1}/${videos[k].times.length}`).join(" · ")} · ${t.toFixed(3)} s`;
    canvas.dataset.frames = index.join(",");
    if (plot.mark && pair && pair.psnr) plot.mark(index[0]);
    for (const [k, v] of videos.entries()) for (let j = 1; j <= 3; j++) if (index[k] + j < v.times.length) image(`/api/items/${v.id}/frames/${index[k] + j}`);
  }

  function seek(time) { t = Math.max(0, Math.min(stops[stops.length - 1], time)); draw(); }
  function step(direction) {
    pause();
    const here = stops.findIndex((s) => s > t + 1e-9);
    const at = here === -1 ? stops.length - 1 : here - 1;
    seek(stops[Math.max(0, Math.min(stops.length - 1, at + direction))]);
  }
  function tick(now) {
    if (!playing) return;
    t += (now - last) / 1000;
    last = now;
    if (t >= end) t = 0;
    draw();
    raf = requestAnimationFrame(tick);
  }
  function toggle() { if (playing) pause(); else { playing = true; last = performance.now(); playButton.textContent = "Pause"; raf = requestAnimationFrame(tick); } }
  function pause() { playing = false; cancelAnimationFrame(raf); playButton.textContent = "Play"; }
  function keys(event) {
    if (event.target.tagName === "INPUT" || event.target.tagName === "SELECT") return;
    if (event.key === "ArrowRight") { step(1); event.preventDefault(); }
    else if (event.key === "ArrowLeft") { step(-1); event.preventDefault(); }
    else if (event.key === " ") { toggle(); event.preventDefault(); }
    else if (event.key === "Home") seek(0);
    else if (event.key === "End") seek(stops[stops.length - 1]);
  }
  document.addEventListener("keydown", keys);
  leave = () => { pause(); document.removeEventListener("keydown", keys); };
  await draw();
  canvas.dataset.ready = "1";
}

// ---------- snapshot ----------

async function snapshot(id) {
  let item = await api(`/api/items/${id}`);
  const [tw, th] = item.tile, [cols] = item.grid;
  const still = el("img", { id: "still", class: "frame", src: `/api/items/${id}/still`, alt: `the snapshot ${item.name}`, width: item.size[0], height: item.size[1] });
  const overlay = el("canvas", { class: "overlay", id: "playing", width: item.size[0], height: item.size[1], hidden: true });
  const bar = el("progress", { max: 1, value: 0, hidden: true, "aria-label": "expanding" });
  const hint = el("p", { class: "note" }, `${item.count > 1 ? `A preview sheet of ${item.count} snapshots` : "A snapshot"} of ${item.source}, ${item.frames} frames each. Hover or click to play ${item.count > 1 ? "every tile" : "it"}.`);
  const stage = el("div", { class: "stage", tabindex: 0, role: "button", "aria-label": "play the snapshot" }, still, overlay);
  const zoom = Math.max(1, Math.floor(480 / item.size[0]));  // small snapshots shown larger
  for (const node of [still, overlay]) { node.style.width = `${zoom * item.size[0]}px`; node.style.imageRendering = zoom > 1 ? "pixelated" : "auto"; }
  main().replaceChildren(el("h1", {}, item.name), hint, bar, stage);
  const ctx = overlay.getContext("2d");
  let frames = null, timer = 0, pinned = false, index = 0;

  async function expand() {
    if (frames) return frames;
    if (!item.expanded) {
      const job = await follow(await post(`/api/items/${id}/expand`, {}), bar);
      item = await api(`/api/items/${id}`);
      say(`expanded: ${job.result.frames} frames per tile at ${job.result.fps} frames/s`);
    }
    const n = item.expanded.frames;
    frames = await Promise.all(Array.from({ length: item.count }, (_, tile) => Promise.all(Array.from({ length: n }, (_, i) => image(`/api/items/${id}/tiles/${tile}/frames/${i}`)))));
    return frames;
  }
  async function start() {
    try { await expand(); } catch (error) { say(`could not expand: ${error.message}`); return; }
    if (timer) return;
    overlay.hidden = false;
    timer = setInterval(() => {
      frames.forEach((tile, k) => ctx.drawImage(tile[index % tile.length], (k % cols) * tw, Math.floor(k / cols) * th, tw, th));
      overlay.dataset.frame = String(index % frames[0].length);
      index++;
    }, 1000 / item.expanded.fps);
  }
  function stop() { clearInterval(timer); timer = 0; overlay.hidden = true; }
  stage.addEventListener("mouseenter", () => start());
  stage.addEventListener("mouseleave", () => { if (!pinned) stop(); });
  const click = () => { pinned = !pinned; if (pinned) start(); else stop(); };
  stage.addEventListener("click", click);
  stage.addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === " ") { click(); event.preventDefault(); } });
  leave = stop;
}

// ---------- latent map ----------

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
function timeColour(share) {  // dark blue → teal → yellow, like viridis
  const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const at = Math.min(stops.length - 1.001, share * (stops.length - 1)), i = Math.floor(at), f = at - i;
  return `rgb(${stops[i].map((c, k) => Math.round(c + f * (stops[i + 1][k] - c))).join(",")})`;
}

function inside(polygon, x, y) {  // even–odd rule
  let hit = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i], [xj, yj] = polygon[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) hit = !hit;
  }
  return hit;
}

async function latentMap(id) {
  await waitReady([id]);
  say("");
  const item = await api(`/api/items/${id}`);
  const data = await api(`/api/items/${id}/map`);
  const W = 560, H = 420, pad = 16;
  const xs = data.points.map((p) => p.x), ys = data.points.map((p) => p.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const sx = (x) => pad + (W - 2 * pad) * (x - x0) / (x1 - x0 || 1);
  const sy = (y) => H - pad - (H - 2 * pad) * (y - y0) / (y1 - y0 || 1);
  const ux = (px) => x0 + (px - pad) / (W - 2 * pad) * (x1 - x0 || 1);
  const uy = (py) => y0 + (H - pad - py) / (H - 2 * pad) * (y1 - y0 || 1);
  const n = data.points.length;

  const svg = el("svg:svg", { id: "map", width: W, height: H, role: "img", "aria-label": `latent map of ${n} frames; hover a dot to see its frame` });
  const trail = el("svg:polyline", { points: data.points.map((p) => `${sx(p.x)},${sy(p.y)}`).join(" "), fill: "none", stroke: "#ccc", "stroke-width": 1 });
  svg.append(trail);
  const dots = data.points.map((p, i) => el("svg:circle", { cx: sx(p.x), cy: sy(p.y), r: 4, "data-index": i }, el("svg:title", {}, `frame ${i + 1}, ${p.t.toFixed(2)} s, cluster ${p.cluster + 1}`)));
  svg.append(...dots);
  const drawn = el("svg:polygon", { class: "drawn", points: "" });
  const line = el("svg:polyline", { class: "path", points: "" });
  svg.append(drawn, line);

  const colour = el("select", { id: "colour", onchange: () => paint() }, el("option", { value: "time" }, "time"), el("option", { value: "cluster" }, `cluster (${data.clusters})`));
  const tools = ["box", "lasso", "path"].map((tool) => el("label", {}, el("input", { type: "radio", name: "tool", value: tool, checked: tool === "box" }), ` ${tool === "path" ? "draw a path" : tool === "box" ? "box select" : "lasso select"}`));
  const loop = el("input", { id: "loop", type: "checkbox" });
  const seconds = el("input", { id: "seconds", type: "number", min: 0.2, max: 20, step: 0.2, value: 2, size: 4 });
  const fps = el("input", { id: "fps", type: "number", min: 1, max: 60, step: 1, value: 25, size: 3 });
  const make = el("button", { id: "make-video", disabled: true, onclick: () => makeVideo() }, "Make video");
  const bar = el("progress", { max: 1, value: 0, hidden: true, "aria-label": "working" });
  const hoverImg = el("img", { id: "hover-frame", alt: "", width: item.size[0], height: item.size[1] });
  const hoverCap = el("figcaption", { id: "hover-caption" }, "Hover a dot to see its frame.");
  const summaryImg = el("img", { id: "summary", alt: "summary of the selected frames", hidden: true });
  const summaryCap = el("figcaption", { id: "summary-caption" }, "Select frames (box or lasso) to see their summary.");
  const video = el("video", { id: "path-video", controls: true, loop: true, muted: true, hidden: true, width: item.size[0], height: item.size[1] });
  const videoCap = el("figcaption", { id: "video-caption" }, "Draw a path, then make a video that follows it.");
  const side = el("div", { class: "side" },
    el("figure", {}, hoverImg, hoverCap), el("figure", {}, summaryImg, summaryCap), bar, el("figure", {}, video, videoCap));
  main().replaceChildren(
    el("h1", {}, `${item.name}: latent map of ${item.video}`),
    el("div", { class: "controls" }, el("label", {}, "colour by ", colour), el("fieldset", { class: "controls" }, el("legend", {}, "tool"), ...tools),
      el("label", {}, loop, " loop"), el("label", {}, "seconds ", seconds), el("label", {}, "frames/s ", fps), make),
    el("div", { class: "mapview" }, el("div", {}, svg, el("p", { class: "note" }, `axes: the first two principal components (${data.explained.map((v) => `${Math.round(100 * v)} %`).join(", ")} of the variance)`)), side));

  function paint() {
    dots.forEach((dot, i) => dot.setAttribute("fill", colour.value === "cluster" ? PALETTE[data.points[i].cluster % PALETTE.length] : timeColour(n > 1 ? i / (n - 1) : 0)));
  }
  paint();

  let hovered = -1, drawing = null, path = null;
  const local = (event) => { const box = svg.getBoundingClientRect(); return [event.clientX - box.left, event.clientY - box.top]; };
  function hover(event) {
    const [px, py] = local(event);
    let best = -1, bestD = 144;  // within 12 px
    data.points.forEach((p, i) => { const d = (sx(p.x) - px) ** 2 + (sy(p.y) - py) ** 2; if (d < bestD) { best = i; bestD = d; } });
    if (best === hovered || best === -1) return;
    if (hovered >= 0) dots[hovered].classList.remove("hovered");
    hovered = best;
    dots[best].classList.add("hovered");
    hoverImg.src = `/api/items/${id}/frames/${best}`;
    hoverImg.alt = `frame ${best + 1}`;
    hoverImg.dataset.index = String(best);
    hoverCap.textContent = `frame ${best + 1} of ${n}, ${data.points[best].t.toFixed(2)} s, cluster ${data.points[best].cluster + 1}`;
  }
  const tool = () => $('input[name="tool"]:checked').value;
  svg.addEventListener("pointerdown", (event) => {
    drawing = [local(event)];
    drawn.setAttribute("points", "");
    line.setAttribute("points", "");
    svg.setPointerCapture(event.pointerId);
    event.preventDefault();
  });
  svg.addEventListener("pointermove", (event) => {
    if (!drawing) return hover(event);
    const here = local(event);
    if (tool() === "box") drawing = [drawing[0], here]; else drawing.push(here);
    const shape = tool() === "box" ? [drawing[0], [here[0], drawing[0][1]], here, [drawing[0][0], here[1]]] : drawing;
    (tool() === "path" ? line : drawn).setAttribute("points", shape.map((p) => p.join(",")).join(" "));
  });
  svg.addEventListener("pointerup", () => {
    if (!drawing) return;
    const points = drawing, kind = tool();
    drawing = null;
    if (kind === "path") {
      path = points.map(([px, py]) => [ux(px), uy(py)]);
      make.disabled = false;
      videoCap.textContent = `A path of ${points.length} points: make a video that follows it.`;
      return;
    }
    const polygon = kind === "box" ? [points[0], [points[points.length - 1][0], points[0][1]], points[points.length - 1], [points[0][0], points[points.length - 1][1]]] : points;
    const picked = data.points.map((p, i) => i).filter((i) => inside(polygon, sx(data.points[i].x), sy(data.points[i].y)));
    dots.forEach((dot, i) => dot.classList.toggle("picked", picked.includes(i)));
    if (picked.length) summarize(picked); else summaryCap.textContent = "No frame inside the selection.";
  });

  async function summarize(picked) {
    summaryCap.textContent = `Summarizing ${picked.length} frames…`;
    try {
      const job = await follow(await post(`/api/items/${id}/summary`, { frames: picked }), bar);
      summaryImg.src = job.url;
      summaryImg.hidden = false;
      summaryImg.dataset.frames = String(job.result.frames);
      summaryCap.replaceChildren(`Summary of ${job.result.frames} frames (latent average, reprojected); most typical: frame ${job.result.medoid + 1}; ${job.result.nearest_psnr} dB from the closest selected frame. `,
        el("a", { href: `${job.url}?download=1`, download: job.filename }, "Export PNG"));
    } catch (error) { summaryCap.textContent = `Summary failed: ${error.message}`; }
  }

  async function makeVideo() {
    make.disabled = true;
    videoCap.textContent = "Making the video…";
    try {
      const body = { points: path, seconds: Number(seconds.value), fps: Number(fps.value), loop: loop.checked };
      const job = await follow(await post(`/api/items/${id}/path`, body), bar);
      const blob = await (await fetch(job.url)).blob();
      video.src = URL.createObjectURL(blob);
      video.hidden = false;
      video.loop = body.loop;
      await video.play().catch(() => {});
      const json = URL.createObjectURL(new Blob([JSON.stringify({ model: item.name, ...body }, null, 1)], { type: "application/json" }));
      videoCap.replaceChildren(`${job.result.frames} frames at ${job.result.fps} frames/s${body.loop ? ", a loop" : ""}. `,
        el("a", { href: `${job.url}?download=1`, download: job.filename }, "Export video"), " · ",
        el("a", { href: json, download: `${job.filename.replace(/\.webm$/, "")}.json` }, "Export path"));
    } catch (error) { videoCap.textContent = `The video failed: ${error.message}`; }
    make.disabled = false;
  }
  leave = () => {};
}

// ---------- routing ----------

async function route() {
  leave();
  leave = () => {};
  const [page, id] = location.hash.replace(/^#\/?/, "").split("/");
  for (const link of document.querySelectorAll("#nav a")) link.toggleAttribute("aria-current", link.getAttribute("href") === location.hash);
  try {
    if (page === "compare") {
      const pair = await api(`/api/pairs/${id}`);
      await compare([pair.a, pair.b], id);
    } else if (page === "video") await compare([id], null);
    else if (page === "snapshot") await snapshot(id);
    else if (page === "map") await latentMap(id);
    else await home();
  } catch (error) {
    main().replaceChildren(el("p", { class: "failed", role: "alert" }, error.message));
  }
}

async function start() {
  try {
    const listing = await api("/api/items");
    const nav = $("#nav");
    nav.replaceChildren(el("a", { href: "#/" }, "items"),
      ...listing.pairs.map((p) => el("a", { href: `#/compare/${p.id}` }, "compare")),
      ...listing.items.filter((i) => i.kind !== "video" || !listing.pairs.length).map((i) => el("a", { href: pageOf(i, listing.pairs) }, i.name)));
    // One thing to look at: open its page (replaceState: no hashchange, no second route).
    if (!location.hash && listing.items.length === 1) history.replaceState(null, "", pageOf(listing.items[0], listing.pairs));
    else if (!location.hash && listing.pairs.length === 1 && listing.items.length === 2) history.replaceState(null, "", `#/compare/${listing.pairs[0].id}`);
  } catch (error) { say(error.message); }
  window.addEventListener("hashchange", route);
  route();
}

start();
