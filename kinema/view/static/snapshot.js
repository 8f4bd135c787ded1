// The snapshot page: the picture, and its expansion playing in place of every tile.

import { api, el, follow, image, main, post, say } from "/static/common.js";

export async function snapshot(id) {
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
    // Forth and back (0 … n−1 … 1), so a clip of a fraction of a second does not jump.
    const n = frames[0].length, cycle = Math.max(1, 2 * n - 2);
    timer = setInterval(() => {
      const at = index % cycle < n ? index % cycle : cycle - (index % cycle);
      frames.forEach((tile, k) => ctx.drawImage(tile[at], (k % cols) * tw, Math.floor(k / cols) * th, tw, th));
      overlay.dataset.frame = String(at);
      index++;
    }, 1000 / item.expanded.fps);
  }
  function stop() { clearInterval(timer); timer = 0; overlay.hidden = true; }
  stage.addEventListener("mouseenter", () => start());
  stage.addEventListener("mouseleave", () => { if (!pinned) stop(); });
  const click = () => { pinned = !pinned; if (pinned) start(); else stop(); };
  stage.addEventListener("click", click);
  stage.addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === " ") { click(); event.preventDefault(); } });
  return stop;
}

