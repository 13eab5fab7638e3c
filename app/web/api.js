// The service's public API, as any client calls it: uploads with progress, retries on
// 503 after Retry-After, and problem+json answers turned into readable sentences.

const RETRIES = 3;
const LONGEST_WAIT_S = 30;

const LEADS = {
  400: "The file is empty.",
  401: "The service needs a valid API key: type it in the API key field and analyse again.",
  404: "The service does not know this address.",
  413: "The file is too large for this service.",
  415: "This file is not audio in a supported format (mp3, wav, flac, ogg/opus or m4a/aac).",
  422: "The service could not analyse this request.",
  500: "The analysis failed on the server; analysing again may work.",
  503: `The service is still busy after ${RETRIES} retries; try again in a moment.`,
  504: "The analysis took longer than the service allows.",
};

const LEADS_BY_TYPE = {
  "audio-too-short": "The audio is too short to analyse.",
  "silent-audio": "The audio is silent.",
  "empty-file": LEADS[400],
  "batch-too-large": "Together the files are too large for one batch; analyse fewer at a time.",
  "too-many-files": "There are too many files for one batch; analyse fewer at a time.",
  "not-ready": "The service is still starting; try again in a moment.",
  "no-catalogue": "This service has no catalogue to show.",
  "search-unavailable": "This service cannot search catalogues: it lacks its catalogue extra.",
  "corrupt-index": "The catalogue's similarity index is damaged.",
  "unknown-song": "The catalogue does not hold this song.",
};

/**
 * A readable sentence for a problem+json object (RFC 9457) and its HTTP status: its lead,
 * then the service's detail unless the lead already says it.
 */
export function problemSentence(problem, status) {
  const code = problem?.status ?? status;
  const slug = String(problem?.type ?? "").split("/").pop();
  const lead = LEADS_BY_TYPE[slug] ?? LEADS[code] ??
    `The service answered ${code}${problem?.title ? ` ${problem.title}` : ""}.`;
  const detail = String(problem?.detail ?? "").replace(/\.$/, "");
  const said = lead.toLowerCase().includes(detail.toLowerCase().replace(/^the (file|audio) /, ""));
  return detail && !said ? `${lead} The service says: ${detail}.` : lead;
}

/** Whether an error answer is about the file sent (not the key, the address or the load). */
export const aboutTheFile = (status) => [400, 413, 415, 422, 500, 504].includes(status);

/** An error answer of the API, with the sentence to show. */
export class ApiError extends Error {
  constructor(sentence, status = 0, problem = null) {
    super(sentence);
    this.status = status;
    this.problem = problem;
  }
}

/**
 * Analyse files: one file with `POST /v1/emotion`, several with `POST /v1/emotion/batch`.
 *
 * `onProgress(fraction)` follows the upload (null once it is sent: the analysis runs),
 * `onWait(seconds, attempt)` announces a retry after a 503. Resolves to the parsed answer.
 */
export async function analyse(files, { features, apiKey, onProgress, onWait }) {
  const batch = files.length > 1;
  const query = new URLSearchParams({ timeline: "true", moods: "true" });
  if (features) query.set("features", "true");
  const url = `/v1/emotion${batch ? "/batch" : ""}?${query}`;
  const form = new FormData();
  for (const file of files) form.append(batch ? "files" : "file", file, file.name);

  for (let attempt = 1; ; attempt += 1) {
    const answer = await post(url, form, apiKey, onProgress);
    if (answer.status === 200) return answer.body;
    if (answer.status === 503 && attempt <= RETRIES) {
      const wait = Math.min(Number(answer.retryAfter) || 1, LONGEST_WAIT_S);
      onWait(wait, attempt);
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
      continue;
    }
    const problem = answer.body && typeof answer.body === "object" ? answer.body : null;
    throw new ApiError(problemSentence(problem, answer.status), answer.status, problem);
  }
}

/** GET a JSON answer of the API; throws an ApiError with the problem's sentence. */
export async function getJson(url, apiKey) {
  return answerOf(await fetch(url, { headers: apiKey ? { "X-API-Key": apiKey } : {} }));
}

/** POST a form to the API and read its JSON answer, as :func:`getJson`. */
export async function postForm(url, form, apiKey) {
  const headers = apiKey ? { "X-API-Key": apiKey } : {};
  return answerOf(await fetch(url, { method: "POST", body: form, headers }));
}

async function answerOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON: the status alone makes the sentence.
  }
  if (response.ok) return body;
  const problem = body && typeof body === "object" ? body : null;
  throw new ApiError(problemSentence(problem, response.status), response.status, problem);
}

// XMLHttpRequest rather than fetch: only it reports upload progress.
function post(url, form, apiKey, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    let sent = false;
    request.open("POST", url);
    request.responseType = "text";
    if (apiKey) request.setRequestHeader("X-API-Key", apiKey);
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    request.upload.addEventListener("load", () => {
      sent = true;
      onProgress(null);
    });
    request.addEventListener("load", () => {
      let body = null;
      try {
        body = JSON.parse(request.responseText);
      } catch {
        // Not JSON (a proxy's error page, say): the status alone makes the sentence.
      }
      resolve({ status: request.status, body, retryAfter: request.getResponseHeader("Retry-After") });
    });
    request.addEventListener("error", () => {
      reject(new ApiError(sent
        ? "The connection to the service broke during the analysis; analysing again may work."
        : "The upload was cut off: the service may be unreachable, or the file larger than it accepts."));
    });
    request.send(form);
  });
}
