// The page's wiring: files in (picked or dropped), progress and status, results out.

import { ApiError, aboutTheFile, analyse } from "./api.js";
import { catalogueView } from "./catalogue.js";
import { fixed } from "./charts.js";
import { batchSummary, colourOf, songCard } from "./render.js";

const $ = (id) => document.getElementById(id);
const input = $("files"), drop = $("drop"), form = $("upload"), again = $("analyse");
const featuresBox = $("features"), keyInput = $("api-key");
const panel = $("progress-panel"), bar = $("progress"), barLabel = $("progress-label");
const status = $("status"), error = $("error"), results = $("results");

// The key lives in this tab's session only: never in localStorage, never in a cookie.
const KEY_ITEM = "music-emotion-api-key";
keyInput.value = sessionStorage.getItem(KEY_ITEM) ?? "";
keyInput.addEventListener("input", () => {
  if (keyInput.value) sessionStorage.setItem(KEY_ITEM, keyInput.value);
  else sessionStorage.removeItem(KEY_ITEM);
});

catalogueView(() => keyInput.value.trim());

let chosen = [];
let analysed = null;
let busy = false;

input.addEventListener("change", () => start([...input.files]));
form.addEventListener("submit", (event) => {
  event.preventDefault();
  start(chosen);
});

// Files dropped anywhere on the page are analysed (the browser would otherwise open them).
document.addEventListener("dragover", (event) => {
  event.preventDefault();
  drop.classList.add("dragging");
});
document.addEventListener("dragleave", (event) => {
  if (!event.relatedTarget) drop.classList.remove("dragging");
});
document.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("dragging");
  start([...event.dataTransfer.files]);
});

const describe = (files) => files.length === 1 ? files[0].name : `${files.length} files`;

async function start(files) {
  if (!files.length) return;
  if (busy) {
    status.textContent = "An analysis is running; the new files wait until you analyse again.";
    chosen = files;
    return;
  }
  chosen = files;
  busy = true;
  again.disabled = true;
  error.hidden = true;
  results.replaceChildren();
  results.setAttribute("aria-busy", "true");
  showProgress(`Uploading ${describe(files)}`, 0);
  status.textContent = `Uploading ${describe(files)}.`;
  try {
    const answer = await analyse(files, {
      features: featuresBox.checked,
      apiKey: keyInput.value.trim(),
      onProgress: (fraction) => onProgress(files, fraction),
      onWait: (seconds, attempt) => {
        const text = `The service is busy; trying again in ${seconds} s (retry ${attempt} of 3).`;
        showProgress(text, null);
        status.textContent = text;
      },
    });
    show(files, answer);
  } catch (failure) {
    status.textContent = "";
    error.textContent = failure instanceof ApiError
      ? naming(files, failure) : `The page failed: ${failure.message}`;
    error.hidden = false;
  } finally {
    busy = false;
    analysed = files;
    again.disabled = false;
    // "Again" only for the files just analysed; files chosen meanwhile are new.
    again.textContent = chosen === analysed ? "Analyse again" : "Analyse";
    panel.hidden = true;
    results.removeAttribute("aria-busy");
  }
}

// An error about the file sent starts with its name: "notes.mp3: this file is not audio…".
function naming(files, failure) {
  if (!aboutTheFile(failure.status)) return failure.message;
  const sentence = failure.message;
  return `${describe(files)}: ${sentence[0].toLowerCase()}${sentence.slice(1)}`;
}

function onProgress(files, fraction) {
  if (fraction === null) {
    const text = `Analysing ${describe(files)}…`;
    showProgress(text, null);
    status.textContent = text;
  } else {
    showProgress(`Uploading ${describe(files)}: ${Math.round(fraction * 100)} %`, fraction);
  }
}

// A null value makes the bar indeterminate: the service does not report its progress.
function showProgress(text, value) {
  panel.hidden = false;
  barLabel.textContent = text;
  if (value === null) bar.removeAttribute("value");
  else bar.value = value;
}

function show(files, answer) {
  if (!answer.items) {
    const name = files[0].name;
    results.append(songCard(name, answer, null, colourOf(0), answer));
    status.textContent = `${name}: valence ${fixed(answer.valence)}, ` +
      `arousal ${fixed(answer.arousal)}, ${answer.quadrant}.`;
    return;
  }
  const cards = answer.items.map((item, i) => songCard(
    item.filename ?? files[i].name, item.result, item.error, colourOf(i), item));
  results.append(batchSummary(answer.items), ...cards);
  const failed = answer.items.filter((item) => !item.result).length;
  status.textContent = `Analysed ${answer.items.length} files` +
    (failed ? `; ${failed} could not be analysed.` : ".");
}
