// The results as DOM, from the templates in index.html. Every text from the service is
// set with textContent: nothing it sends is ever parsed as HTML.

import { problemSentence } from "./api.js";
import { fixed, overTime, plane } from "./charts.js";

const PALETTE_SIZE = 8;

const FEATURES = [
  ["Tempo", "tempo_bpm", "BPM"],
  ["Loudness", "loudness_lufs", "LUFS"],
  ["Zero crossings", "zero_crossings_per_s", "per s"],
  ["Mean spectral centroid", "spectral_centroid_mean_hz", "Hz"],
  ["Mean spectral rolloff", "spectral_rolloff_mean_hz", "Hz"],
];

/** The colour (palette index) of the i-th song. */
export const colourOf = (i) => i % PALETTE_SIZE;

const words = (key) => key.replaceAll("_", " ");

function fromTemplate(id) {
  return document.getElementById(id).content.firstElementChild.cloneNode(true);
}

function element(name, content, attributes = {}) {
  const node = document.createElement(name);
  if (content !== undefined) node.textContent = content;
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  return node;
}

function row(cells, header = false) {
  const tr = document.createElement("tr");
  cells.forEach((cell, i) => {
    const td = header && i === 0 ? element("th", undefined, { scope: "row" }) : element("td");
    td.append(cell);
    tr.append(td);
  });
  return tr;
}

function meter(value, max, label) {
  return element("meter", undefined, { min: 0, max, value, "aria-label": label });
}

/**
 * One song's card: its numbers, plane, timeline, moods, features and raw JSON, or the
 * sentence of its problem. `raw` is the part of the answer shown as JSON.
 */
export function songCard(name, result, problem, colour, raw) {
  const card = fromTemplate("song-template");
  const find = (selector) => card.querySelector(selector);
  find(".song-name").textContent = name;
  fillRaw(find(".raw"), raw);
  if (!result) {
    find(".song-error").textContent = problemSentence(problem);
    find(".song-error").hidden = false;
    find(".song-body").hidden = true;
    return card;
  }
  card.classList.add(`c${colour}`);
  find(".valence").textContent = fixed(result.valence);
  find(".arousal").textContent = fixed(result.arousal);
  find(".quadrant").textContent = result.quadrant;
  fillConfidence(find(".quadrant"), result.confidence);
  find(".spread").textContent = `±${fixed(result.spread.valence)}, ±${fixed(result.spread.arousal)}`;
  find(".duration").textContent = `${fixed(result.duration_s)} s`;
  if (result.truncated) {
    find(".duration").append(element("span", " (the rest is past the service's limit)", { class: "hint" }));
  }
  find(".plane").append(plane(
    [{ ...result, colour, name, windows: result.timeline }],
    `Valence-arousal plane: ${name} at valence ${fixed(result.valence)}, ` +
      `arousal ${fixed(result.arousal)}, ${result.quadrant}`,
  ));
  fillTimeline(find(".timeline"), result.timeline, colour);
  fillMoods(find(".moods"), result.moods);
  fillFeatures(find(".features"), result.features);
  return card;
}

/** Below this probability the quadrant is shown as uncertain. */
const LOW_CONFIDENCE = 0.6;

/**
 * The quadrant's calibrated probability after its name, and a hint when it is low; nothing
 * when the model has no calibration (no `confidence` in the answer).
 */
function fillConfidence(quadrant, confidence) {
  if (!confidence) return;
  const p = confidence.quadrant;
  quadrant.append(element("span", ` (probability ${fixed(p, 2)})`, { class: "confidence" }));
  if (p < LOW_CONFIDENCE) {
    quadrant.append(element("span", " near the axes: the quadrant is uncertain", { class: "hint" }));
  }
}

function fillTimeline(section, windows, colour) {
  if (!windows?.length) {
    section.hidden = true;
    return;
  }
  section.querySelector(".charts").append(
    overTime(windows, "valence", colour), overTime(windows, "arousal", colour));
  section.querySelector("tbody").append(...windows.map((w) => row(
    [`${fixed(w.start_s, 1)}–${fixed(w.end_s, 1)} s`, fixed(w.valence), fixed(w.arousal)], true)));
}

function fillMoods(section, moods) {
  if (!moods || typeof moods !== "object") return;
  section.hidden = false;
  const entries = Object.entries(moods).sort(([, a], [, b]) => b - a);
  section.querySelector(".bars").append(...entries.map(([mood, share]) => {
    const item = element("li");
    item.append(element("span", words(mood), { class: "bar-name" }), meter(share, 1, words(mood)),
      element("span", fixed(share), { class: "bar-value" }));
    return item;
  }));
}

function fillFeatures(section, features) {
  if (!features) return;
  section.hidden = false;
  const rows = FEATURES.map(([label, key, unit]) => row([label, `${fixed(features[key])} ${unit}`], true));
  for (const [key, value] of Object.entries(features.timbre ?? {})) {
    const cell = document.createDocumentFragment();
    // Reverb is 0 or 1 (present or not): a word; the other descriptors run from 0 to 100.
    if (key === "reverb") cell.append(value ? "yes" : "no");
    else cell.append(meter(value, 100, words(key)), fixed(value));
    rows.push(row([`Timbre: ${words(key)}`, cell], true));
  }
  section.querySelector("tbody").append(...rows);
}

function fillRaw(details, raw) {
  const text = JSON.stringify(raw, null, 2);
  const code = details.querySelector("code");
  const said = details.querySelector(".copied");
  code.textContent = text;
  details.querySelector(".copy").addEventListener("click", async () => {
    said.textContent = (await copy(text, code))
      ? "Copied." : "Copying is blocked here: the JSON is selected, copy it with the keyboard.";
  });
}

// The Clipboard API exists only on secure origins (https, localhost); elsewhere select it.
async function copy(text, code) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const range = document.createRange();
    range.selectNodeContents(code);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    return document.execCommand("copy");
  }
}

// "happy/excited" may wrap after its slash in a narrow table (an element, not markup).
function breakable(quadrant) {
  const [first, ...rest] = quadrant.split("/");
  const text = document.createDocumentFragment();
  text.append(first);
  for (const part of rest) text.append("/", document.createElement("wbr"), part);
  return text;
}

/** Several songs on one plane, numbered, with a table of their numbers or problems. */
export function batchSummary(items) {
  const section = fromTemplate("batch-template");
  const songs = [];
  const rows = items.map((item, i) => {
    const name = item.filename ?? `file ${i + 1}`;
    if (!item.result) {  // not on the plane: its number, no colour
      const tr = row([String(i + 1), name]);
      tr.append(element("td", problemSentence(item.error), { colspan: 3, class: "error" }));
      return tr;
    }
    const swatch = document.createDocumentFragment();
    const dot = element("span", undefined, { class: `swatch c${colourOf(i)}`, "aria-hidden": "true" });
    swatch.append(dot, String(i + 1));
    const r = item.result;
    songs.push({ ...r, colour: colourOf(i), number: i + 1, name });
    return row([swatch, name, fixed(r.valence), fixed(r.arousal), breakable(r.quadrant)]);
  });
  section.querySelector("tbody").append(...rows);
  section.querySelector(".plane").append(plane(songs, `Valence-arousal plane of ${songs.length} songs: ` +
    songs.map((s) => `${s.number} ${s.name} at ${fixed(s.valence)}, ${fixed(s.arousal)}`).join("; ")));
  return section;
}
