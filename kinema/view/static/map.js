// The latent-map page: a vsae model's frames as dots; hover, select, draw a path.

import { $, api, el, follow, main, post, say, waitReady } from "/static/common.js";

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

export async function latentMap(id) {
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
  // A collection's frames: which video, and the frame's number in it.
  const where = (i) => {
    const p = data.points[i];
    if (!data.videos) return `frame ${i + 1} of ${n}, ${p.t.toFixed(2)} s`;
    const first = data.points.findIndex((q) => q.video === p.video);
    return `${data.videos[p.video]}, frame ${i - first + 1}, ${p.t.toFixed(2)} s`;
  };
  // The time path, one line per video (a collection's videos are not joined).
  for (const video of new Set(data.points.map((p) => p.video ?? 0))) {
    const line = data.points.filter((p) => (p.video ?? 0) === video).map((p) => `${sx(p.x)},${sy(p.y)}`).join(" ");
    svg.append(el("svg:polyline", { points: line, fill: "none", stroke: "#ccc", "stroke-width": 1 }));
  }
  const dots = data.points.map((p, i) => el("svg:circle", { cx: sx(p.x), cy: sy(p.y), r: 4, "data-index": i }, el("svg:title", {}, `${where(i)}, cluster ${p.cluster + 1}`)));
  svg.append(...dots);
  const drawn = el("svg:polygon", { class: "drawn", points: "" });
  const line = el("svg:polyline", { class: "path", points: "" });
  svg.append(drawn, line);

  const colour = el("select", { id: "colour", onchange: () => paint() }, el("option", { value: "time" }, "time"), el("option", { value: "cluster" }, `cluster (${data.clusters})`),
    data.videos ? el("option", { value: "video" }, `video (${data.videos.length})`) : null);
  const tools = ["box", "lasso", "path"].map((tool) => el("label", {}, el("input", { type: "radio", name: "tool", value: tool, checked: tool === "box" }), ` ${tool === "path" ? "draw a path" : tool === "box" ? "box select" : "lasso select"}`));
  const loop = el("input", { id: "loop", type: "checkbox" });
  const seconds = el("input", { id: "seconds", type: "number", min: 0.2, max: 20, step: 0.2, value: 2, size: 4 });
  const fps = el("input", { id: "fps", type: "number", min: 1, max: 60, step: 1, value: 25, size: 3 });
  const make = el("button", { id: "make-video", disabled: true, onclick: () => makeVideo() }, "Make video");
  const bar = el("progress", { max: 1, value: 0, hidden: true, "aria-label": "working" });
  // The keyboard's way to the frames: a slider over them, in time order.
  const picker = el("input", { id: "frame-picker", type: "range", min: 0, max: n - 1, step: 1, value: 0, "aria-label": "frame", oninput: () => show(Number(picker.value)) });
  const hoverImg = el("img", { id: "hover-frame", alt: "", width: item.size[0], height: item.size[1] });
  const hoverCap = el("figcaption", { id: "hover-caption" }, "Hover a dot to see its frame.");
  const summaryImg = el("img", { id: "summary", alt: "summary of the selected frames", hidden: true });
  const summaryCap = el("figcaption", { id: "summary-caption" }, "Select frames (box or lasso) to see their summary.");
  const video = el("video", { id: "path-video", controls: true, loop: true, muted: true, hidden: true, width: item.size[0], height: item.size[1] });
  const videoCap = el("figcaption", { id: "video-caption" }, "Draw a path, then make a video that follows it.");
  const side = el("div", { class: "side" },
    el("figure", {}, hoverImg, hoverCap, el("label", {}, "frame ", picker)), el("figure", {}, summaryImg, summaryCap), bar, el("figure", {}, video, videoCap));
  main().replaceChildren(
    el("h1", {}, `${item.name}: latent map of ${item.video}`),
    el("div", { class: "controls" }, el("label", {}, "colour by ", colour), el("fieldset", { class: "controls" }, el("legend", {}, "tool"), ...tools),
      el("label", {}, loop, " loop"), el("label", {}, "seconds ", seconds), el("label", {}, "frames/s ", fps), make),
    el("div", { class: "mapview" }, el("div", {}, svg, el("p", { class: "note" }, `axes: the first two principal components (${data.explained.map((v) => `${Math.round(100 * v)} %`).join(", ")} of the variance)`)), side));

  function paint() {
    const by = { cluster: (p) => PALETTE[p.cluster % PALETTE.length], video: (p) => PALETTE[p.video % PALETTE.length] }[colour.value];
    dots.forEach((dot, i) => dot.setAttribute("fill", by ? by(data.points[i]) : timeColour(n > 1 ? i / (n - 1) : 0)));
  }
  paint();

  let hovered = -1, drawing = null, path = null;
  const local = (event) => { const box = svg.getBoundingClientRect(); return [event.clientX - box.left, event.clientY - box.top]; };
  function hover(event) {
    const [px, py] = local(event);
    let best = -1, bestD = 144;  // within 12 px
    data.points.forEach((p, i) => { const d = (sx(p.x) - px) ** 2 + (sy(p.y) - py) ** 2; if (d < bestD) { best = i; bestD = d; } });
    if (best !== -1) show(best);
  }
  function show(i) {  // frame i beside the map, its dot ringed
    if (i === hovered) return;
    if (hovered >= 0) dots[hovered].classList.remove("hovered");
    hovered = i;
    dots[i].classList.add("hovered");
    picker.value = String(i);
    hoverImg.src = `/api/items/${id}/frames/${i}`;
    hoverImg.alt = `frame ${i + 1}`;
    hoverImg.dataset.index = String(i);
    hoverCap.textContent = `${where(i)}, cluster ${data.points[i].cluster + 1}`;
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
}

