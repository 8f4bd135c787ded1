// kinema view: the page. Plain JavaScript, no dependencies; everything it shows comes
// from this server's /api/ (docs/view.md). Pages: #/ (items), #/compare/PAIR,
// #/video/ITEM, #/snapshot/ITEM, #/map/ITEM.

import { $, api, el, main, pageOf, say } from "/static/common.js";
import { compare } from "/static/compare.js";
import { latentMap } from "/static/map.js";
import { snapshot } from "/static/snapshot.js";

let leave = () => {};  // stops the current page's timers and listeners
let visits = 0;

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
  return () => clearTimeout(timer);
}

async function route() {
  leave();
  leave = () => {};
  const visit = ++visits;
  const [page, id] = location.hash.replace(/^#\/?/, "").split("/");
  for (const link of document.querySelectorAll("#nav a")) link.toggleAttribute("aria-current", link.getAttribute("href") === location.hash);
  try {
    let stop;
    if (page === "compare") {
      const pair = await api(`/api/pairs/${id}`);
      stop = await compare([pair.a, pair.b], id);
    } else if (page === "video") stop = await compare([id], null);
    else if (page === "snapshot") stop = await snapshot(id);
    else if (page === "map") stop = await latentMap(id);
    else stop = await home();
    // Each page returns what stops it; one left before it was ready is stopped at once.
    if (visit === visits) leave = stop || (() => {}); else if (stop) stop();
  } catch (error) {
    if (visit === visits) main().replaceChildren(el("p", { class: "failed", role: "alert" }, error.message));
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

