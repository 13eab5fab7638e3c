// SVG drawings: the valence-arousal plane and the small charts over time.
// Colours and strokes come from style.css classes, so both colour schemes apply.

const SVG = "http://www.w3.org/2000/svg";

/** Format a number with two decimals (the page's one rule for shown numbers). */
export const fixed = (x, digits = 2) => Number(x).toFixed(digits);

function node(name, attributes, parent) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  parent?.appendChild(element);
  return element;
}

function text(content, attributes, parent) {
  const element = node("text", attributes, parent);
  element.textContent = content;
  return element;
}

// Tick labels with a true minus sign.
const signed = (tick) => String(tick).replace("-", "−");

function figure(width, height, label) {
  return node("svg", {
    viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label, class: "chart",
  });
}

// Plot area of the plane: a square of side 2R centred on (CX, CY), labels outside it.
const R = 160, CX = 190, CY = 170;
const px = (valence) => CX + valence * R;
const py = (arousal) => CY - arousal * R;

const QUADRANTS = [
  // name, css class, top-left corner, where its name is written, text-anchor
  ["happy/excited", "q-happy", [CX, CY - R], [CX + R - 8, CY - R + 18], "end"],
  ["angry/tense", "q-angry", [CX - R, CY - R], [CX - R + 8, CY - R + 18], "start"],
  ["sad/depressed", "q-sad", [CX - R, CY], [CX - R + 8, CY + R - 10], "start"],
  ["calm/relaxed", "q-calm", [CX, CY], [CX + R - 8, CY + R - 10], "end"],
];

/**
 * The valence-arousal plane with the four named quadrants and the given songs.
 *
 * Each song: {valence, arousal, colour, number?, spread?, windows?, name}; `spread`
 * draws a one-standard-deviation ellipse, `windows` the path of the windows in time.
 */
export function plane(songs, label) {
  const svg = figure(360, 360, label);
  svg.classList.add("plane-chart");
  for (const [, css, [x, y]] of QUADRANTS) {
    node("rect", { x, y, width: R, height: R, class: `quadrant ${css}` }, svg);
  }
  for (const tick of [-0.5, 0.5]) {
    node("line", { x1: px(tick), x2: px(tick), y1: py(1), y2: py(-1), class: "grid" }, svg);
    node("line", { x1: px(-1), x2: px(1), y1: py(tick), y2: py(tick), class: "grid" }, svg);
  }
  node("line", { x1: px(-1), x2: px(1), y1: CY, y2: CY, class: "axis" }, svg);
  node("line", { x1: CX, x2: CX, y1: py(1), y2: py(-1), class: "axis" }, svg);
  node("rect", { x: CX - R, y: CY - R, width: 2 * R, height: 2 * R, class: "frame" }, svg);
  for (const [name, , , [x, y], anchor] of QUADRANTS) {
    text(name, { x, y, "text-anchor": anchor, class: "quadrant-name" }, svg);
  }
  const below = py(-1) + 16;
  for (const tick of [-1, 0, 1]) {
    text(signed(tick), { x: px(tick), y: below, "text-anchor": "middle", class: "tick" }, svg);
    text(signed(tick), { x: px(-1) - 6, y: py(tick) + 4, "text-anchor": "end", class: "tick" }, svg);
  }
  text("valence →", { x: px(0.5), y: below, "text-anchor": "middle", class: "axis-title" }, svg);
  text("arousal →", {
    x: px(-1) - 10, y: py(0.5), "text-anchor": "middle", class: "axis-title",
    transform: `rotate(-90 ${px(-1) - 10} ${py(0.5)})`,
  }, svg);
  for (const song of songs) drawSong(svg, song);
  return svg;
}

function drawSong(svg, song) {
  const group = node("g", { class: `song-mark c${song.colour}` }, svg);
  const [x, y] = [px(song.valence), py(song.arousal)];
  if (song.spread) {
    node("ellipse", {
      cx: x, cy: y, rx: song.spread.valence * R, ry: song.spread.arousal * R, class: "spread",
    }, group);
  }
  if (song.windows?.length > 1) {
    const points = song.windows.map((w) => `${px(w.valence)},${py(w.arousal)}`).join(" ");
    node("polyline", { points, class: "path" }, group);
    song.windows.forEach((w, i) => {
      const [r, css] = i === 0 ? [4, "start"] : [2.5, "window"];
      node("circle", { cx: px(w.valence), cy: py(w.arousal), r, class: css }, group);
    });
  }
  const mean = node("circle", { cx: x, cy: y, r: 6, class: "mean" }, group);
  node("title", {}, mean).textContent =
    `${song.name}: valence ${fixed(song.valence)}, arousal ${fixed(song.arousal)}`;
  if (song.number !== undefined) {
    text(String(song.number), { x: x + 9, y: y - 7, class: "mark-number" }, group);
  }
}

// Round times from 0 to at most `end`, three to six of them.
function timeTicks(end) {
  const step = [1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600].find((s) => end / s <= 5) ?? 600;
  return Array.from({ length: Math.floor(end / step) + 1 }, (_, i) => i * step);
}

/** A small chart of one quantity ("valence" or "arousal") over the windows' centres. */
export function overTime(windows, key, colour) {
  const [width, height, left, right, top, bottom] = [320, 112, 30, 308, 22, 88];
  const end = Math.max(...windows.map((w) => w.end_s));
  const x = (t) => left + (t / end) * (right - left);
  const y = (v) => (top + bottom) / 2 - v * (bottom - top) / 2;
  const svg = figure(width, height, `${key} over time: ` + windows.map(
    (w) => `${fixed(w.start_s, 0)}-${fixed(w.end_s, 0)} s ${fixed(w[key])}`).join(", "));
  svg.classList.add("time-chart");
  text(key[0].toUpperCase() + key.slice(1), { x: left, y: 14, class: "chart-title" }, svg);
  node("rect", { x: left, y: top, width: right - left, height: bottom - top, class: "frame" }, svg);
  node("line", { x1: left, x2: right, y1: y(0), y2: y(0), class: "axis" }, svg);
  for (const tick of [-1, 0, 1]) {
    text(signed(tick), { x: left - 5, y: y(tick) + 4, "text-anchor": "end", class: "tick" }, svg);
  }
  for (const t of timeTicks(end)) {
    node("line", { x1: x(t), x2: x(t), y1: bottom, y2: bottom + 4, class: "axis" }, svg);
    text(`${t} s`, { x: x(t), y: bottom + 16, "text-anchor": "middle", class: "tick time-tick" }, svg);
  }
  const group = node("g", { class: `song-mark c${colour}` }, svg);
  const points = windows.map((w) => [x((w.start_s + w.end_s) / 2), y(w[key])]);
  node("polyline", { points: points.map((p) => p.join(",")).join(" "), class: "path" }, group);
  for (const [cx, cy] of points) node("circle", { cx, cy, r: 3, class: "window" }, group);
  return svg;
}
