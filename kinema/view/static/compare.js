// The compare page (and one video alone): two videos in sync by their timestamps.

import { $, api, el, image, main, say, waitReady } from "/static/common.js";

function frameAt(times, t) {  // the frame shown at time t: the last that starts at or before it
  let lo = 0, hi = times.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (times[mid][0] <= t + 1e-9) lo = mid; else hi = mid - 1;
  }
  return lo;
}

// The mean of the finite PSNRs (identical frames score infinity and are left out).
function mean(finite) {
  return finite.length ? `${(finite.reduce((x, y) => x + y, 0) / finite.length).toFixed(2)} dB` : "∞ (identical)";
}

export async function compare(ids, pairId) {
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
  const sides = el("p", { class: "note", id: "sides" });
  main().replaceChildren(el("h1", {}, title), controls, sides, el("div", { class: "stage" }, canvas), ...notes, psnr);
  if (pair && pair.psnr) plot(psnr, pair.psnr);

  function layout() {
    canvas.width = two && mode.value === "side" ? 2 * w : w;
    // Small videos are shown larger (whole multiples, sharp pixels): a 64-px clip is unreadable.
    const zoom = Math.max(1, Math.floor(480 / w));
    canvas.style.width = `${zoom * canvas.width}px`;
    canvas.style.imageRendering = zoom > 1 ? "pixelated" : "auto";
    if (!two) return;
    const [a, b] = videos.map((v) => v.name);
    sides.textContent = { side: `left: ${a} · right: ${b}`, wipe: `left of the line: ${a} · right: ${b}`, diff: `|${a} − ${b}| × gain` }[mode.value];
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
      el("svg:text", { x: W / 2 - 90, y: H - 6 }, `PSNR per frame (${values.length}), mean ${mean(finite)}`));
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
  await draw();
  canvas.dataset.ready = "1";
  return () => { pause(); document.removeEventListener("keydown", keys); };
}

