// What every page of kinema view shares: building elements, the API, jobs, images.

export const $ = (selector, root = document) => root.querySelector(selector);
export const main = () => $("#main");
export function el(tag, attrs = {}, ...children) {
  const node = document.createElementNS(tag.startsWith("svg:") ? "http://www.w3.org/2000/svg" : "http://www.w3.org/1999/xhtml", tag.replace("svg:", ""));
  for (const [key, value] of Object.entries(attrs)) {
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
  return node;
}

export function say(text) { $("#status").textContent = text; }

export async function api(path, options = {}) {
  const response = await fetch(path, options);
  if (!response.ok) {
    let message = response.statusText;
    try { message = (await response.json()).error || message; } catch (_) { /* not JSON */ }
    throw new Error(message);
  }
  return response.json();
}

export const post = (path, body) => api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
export const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

// A job until it ends, its progress shown in `bar` (a <progress>).
export async function follow(job, bar) {
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
export function image(url) {
  if (!images.has(url)) {
    const img = new Image();
    img.src = url;
    images.set(url, img.decode().then(() => img, () => { images.delete(url); throw new Error(`could not load ${url}`); }));
  }
  return images.get(url);
}

export async function waitReady(ids) {
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

export function pageOf(item, pairs) {
  const pair = pairs.find((p) => p.a === item.id || p.b === item.id);
  if (item.kind === "video") return pair ? `#/compare/${pair.id}` : `#/video/${item.id}`;
  return item.kind === "model" ? `#/map/${item.id}` : `#/snapshot/${item.id}`;
}
