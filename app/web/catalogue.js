// The catalogue view: every song of the service's catalogue a point on the plane (one
// canvas, smooth at 10^5 points), its name on hover, its similar songs on click, and a
// playlist drawn as a path between two chosen points.

import { ApiError, getJson, postForm } from "./api.js";
import { fixed } from "./charts.js";

const MARGIN = 32; // CSS pixels around the plot square; the ticks and titles live there
const CELL = 12; // hover grid cell, CSS pixels
const HIT = 6; // how near the pointer must be to a song, CSS pixels
const QUADRANTS = [["--q-happy", 0, -1], ["--q-angry", -1, -1], ["--q-sad", -1, 0], ["--q-calm", 0, 0]];

const $ = (id) => document.getElementById(id);
const name = (path) => path.split("/").pop();

/** Wire the catalogue panel; `apiKey()` gives the key typed in the page. */
export function catalogueView(apiKey) {
  const panel = $("catalogue"), canvas = $("catalogue-plane"), hover = $("catalogue-hover");
  const said = $("catalogue-status"), list = $("catalogue-list"), heading = $("catalogue-list-title");
  const playlistButton = $("playlist-mode"), lengthInput = $("playlist-length");
  let points = null, grid = null, base = null, size = 0;
  let marked = { chosen: null, similar: [], path: [], ends: [] };
  let picking = null; // null, or the playlist's ends picked so far

  panel.addEventListener("toggle", () => {
    if (panel.open && !points) load();
  });

  async function load() {
    said.textContent = "Loading the catalogue…";
    try {
      points = await getJson("/v1/catalogue/points", apiKey());
    } catch (failure) {
      said.textContent = failure instanceof ApiError ? failure.message : `The page failed: ${failure.message}`;
      return;
    }
    const shown = points.path.length;
    said.textContent = `${points.total} songs` +
      (shown < points.total ? ` (${shown} drawn, an even sample).` : ".") +
      " Point at a song for its name, click it for the songs most like it.";
    layout();
    new ResizeObserver(layout).observe(canvas.parentElement);
  }

  // Plot coordinates of a point, in CSS pixels.
  const px = (valence) => MARGIN + (valence + 1) / 2 * (size - 2 * MARGIN);
  const py = (arousal) => MARGIN + (1 - arousal) / 2 * (size - 2 * MARGIN);
  const toPlane = (x, y) => [
    Math.max(-1, Math.min(1, (x - MARGIN) / (size - 2 * MARGIN) * 2 - 1)),
    Math.max(-1, Math.min(1, 1 - (y - MARGIN) / (size - 2 * MARGIN) * 2)),
  ];

  function layout() {
    const width = Math.round(canvas.parentElement.clientWidth);
    if (!points || !width || width === size) return;
    size = width;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = canvas.height = size * ratio;
    canvas.style.width = canvas.style.height = `${size}px`;
    base = drawBase(ratio);
    grid = hoverGrid();
    draw();
  }

  // The plane and every song, drawn once per size into an offscreen canvas.
  function drawBase(ratio) {
    const layer = document.createElement("canvas");
    layer.width = layer.height = size * ratio;
    const g = layer.getContext("2d");
    g.scale(ratio, ratio);
    const style = getComputedStyle(document.documentElement);
    const colour = (name) => style.getPropertyValue(name).trim();
    const half = (size - 2 * MARGIN) / 2;
    for (const [variable, v, a] of QUADRANTS) {
      g.fillStyle = colour(variable);
      g.fillRect(px(v), py(-a), half, half);
    }
    g.strokeStyle = colour("--axis");
    g.strokeRect(MARGIN, MARGIN, size - 2 * MARGIN, size - 2 * MARGIN);
    g.beginPath();
    g.moveTo(px(0), MARGIN); g.lineTo(px(0), size - MARGIN);
    g.moveTo(MARGIN, py(0)); g.lineTo(size - MARGIN, py(0));
    g.stroke();
    g.fillStyle = colour("--muted");
    g.font = "11px system-ui, sans-serif";
    g.textAlign = "center";
    g.fillText("valence →", px(0.5), size - MARGIN / 3);
    for (const tick of [-1, 0, 1]) g.fillText(String(tick).replace("-", "−"), px(tick), size - MARGIN / 3);
    g.save();
    g.translate(MARGIN / 2.5, py(0.5));
    g.rotate(-Math.PI / 2);
    g.fillText("arousal →", 0, 0);
    g.restore();
    // Small translucent dots: dense regions darken, single songs stay visible.
    g.fillStyle = colour("--c0");
    g.globalAlpha = points.path.length > 20000 ? 0.35 : 0.8;
    const dot = points.path.length > 20000 ? 2 : 4;
    for (let i = 0; i < points.path.length; i += 1) {
      g.fillRect(px(points.valence[i]) - dot / 2, py(points.arousal[i]) - dot / 2, dot, dot);
    }
    return layer;
  }

  // Songs by grid cell of the plot, for finding the one under the pointer quickly.
  function hoverGrid() {
    const cells = new Map();
    for (let i = 0; i < points.path.length; i += 1) {
      const key = `${Math.floor(px(points.valence[i]) / CELL)},${Math.floor(py(points.arousal[i]) / CELL)}`;
      if (!cells.has(key)) cells.set(key, []);
      cells.get(key).push(i);
    }
    return cells;
  }

  function songAt(x, y) {
    let best = -1, bestDistance = HIT;
    const [cx, cy] = [Math.floor(x / CELL), Math.floor(y / CELL)];
    for (let dx = -1; dx <= 1; dx += 1) {
      for (let dy = -1; dy <= 1; dy += 1) {
        for (const i of grid.get(`${cx + dx},${cy + dy}`) ?? []) {
          const d = Math.hypot(px(points.valence[i]) - x, py(points.arousal[i]) - y);
          if (d < bestDistance) [best, bestDistance] = [i, d];
        }
      }
    }
    return best;
  }

  function draw(hovered = -1) {
    const g = canvas.getContext("2d");
    const ratio = canvas.width / size;
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.drawImage(base, 0, 0);
    g.scale(ratio, ratio);
    const style = getComputedStyle(document.documentElement);
    const ring = (v, a, r, colour, width = 2) => {
      g.beginPath();
      g.arc(px(v), py(a), r, 0, 2 * Math.PI);
      g.strokeStyle = colour;
      g.lineWidth = width;
      g.stroke();
    };
    if (marked.path.length) {
      g.beginPath();
      marked.path.forEach((t, i) => (i ? g.lineTo : g.moveTo).call(g, px(t.valence), py(t.arousal)));
      g.strokeStyle = style.getPropertyValue("--c1").trim();
      g.lineWidth = 2;
      g.stroke();
      g.fillStyle = style.getPropertyValue("--fg").trim();
      g.font = "bold 11px system-ui, sans-serif";
      marked.path.forEach((t, i) => g.fillText(String(i + 1), px(t.valence) + 5, py(t.arousal) - 5));
    }
    for (const [v, a] of marked.ends) ring(v, a, 7, style.getPropertyValue("--c1").trim(), 3);
    for (const t of marked.similar) ring(t.valence, t.arousal, 5, style.getPropertyValue("--c2").trim());
    if (marked.chosen !== null) {
      ring(points.valence[marked.chosen], points.arousal[marked.chosen], 7, style.getPropertyValue("--fg").trim(), 3);
    }
    if (hovered >= 0) ring(points.valence[hovered], points.arousal[hovered], 6, style.getPropertyValue("--fg").trim());
  }

  const offset = (event) => {
    const box = canvas.getBoundingClientRect();
    return [event.clientX - box.left, event.clientY - box.top];
  };

  canvas.addEventListener("pointermove", (event) => {
    if (!grid) return;
    const i = songAt(...offset(event));
    hover.textContent = i < 0 ? "" :
      `${name(points.path[i])}: valence ${fixed(points.valence[i])}, arousal ${fixed(points.arousal[i])}`;
    canvas.style.cursor = i < 0 && !picking ? "default" : "pointer";
    draw(i);
  });

  canvas.addEventListener("click", (event) => {
    if (!grid) return;
    const [x, y] = offset(event);
    if (picking) {
      picking.push(toPlane(x, y).map((value) => Number(value.toFixed(2))));
      marked = { ...marked, ends: picking, path: [] };
      draw();
      if (picking.length === 2) playlist(picking);
      else said.textContent = "Now click where the playlist ends.";
      return;
    }
    const i = songAt(x, y);
    if (i >= 0) similar(i);
  });

  playlistButton.addEventListener("click", () => {
    picking = [];
    marked = { chosen: null, similar: [], path: [], ends: [] };
    draw();
    said.textContent = "Click where the playlist starts on the plane.";
    canvas.focus();
  });

  async function similar(i) {
    marked = { chosen: i, similar: [], path: [], ends: [] };
    draw();
    said.textContent = `Finding the songs most like ${name(points.path[i])}…`;
    const form = new FormData();
    form.append("path", points.path[i]);
    try {
      const answer = await postForm("/v1/catalogue/similar?limit=10", form, apiKey());
      marked.similar = answer.tracks;
      draw();
      show(`Most like ${name(points.path[i])}`, answer.tracks, (t) =>
        `${t.duplicate ? "the same audio; " : ""}distance ${fixed(t.distance)}`);
      said.textContent = `The ${answer.tracks.length} songs most like ${name(points.path[i])}, by sound and mood.`;
    } catch (failure) {
      said.textContent = failure.message;
    }
  }

  async function playlist([from, to]) {
    picking = null;
    const length = Math.max(2, Math.min(200, Number(lengthInput.value) || 10));
    const ends = `from ${from.join(",")} to ${to.join(",")}`;
    said.textContent = `Making a playlist of ${length} songs ${ends}…`;
    const query = new URLSearchParams({ from: from.join(","), to: to.join(","), length });
    try {
      const answer = await getJson(`/v1/catalogue/playlist?${query}`, apiKey());
      marked.path = answer.tracks;
      draw();
      show(`Playlist ${ends}`, answer.tracks, (t) => `position ${fixed(t.position)}`);
      said.textContent = `A playlist of ${answer.tracks.length} songs ${ends}.`;
    } catch (failure) {
      said.textContent = failure.message;
    }
  }

  function show(title, tracks, detail) {
    heading.textContent = title;
    list.replaceChildren(...tracks.map((t) => {
      const item = document.createElement("li");
      const label = document.createElement("span");
      label.className = "track-name";
      label.textContent = name(t.path);
      label.title = t.path;
      const numbers = document.createElement("span");
      numbers.className = "hint";
      numbers.textContent = ` valence ${fixed(t.valence)}, arousal ${fixed(t.arousal)}, ${detail(t)}`;
      item.append(label, numbers);
      return item;
    }));
  }
}
