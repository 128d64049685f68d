// The imgedge playground: generate or upload an image, show it through the proxy, and report what the
// browser actually received. Plain ES module, no build step.

const config = JSON.parse(document.getElementById("imgedge-config").textContent);

const form = document.getElementById("composer");
const promptField = document.getElementById("prompt");
const aspectsField = document.getElementById("aspects");
const uploadInput = document.getElementById("upload");
const stage = document.getElementById("stage");
const details = document.getElementById("details");
const gallery = document.getElementById("gallery");
const refreshButton = document.getElementById("refresh");
const copyButton = document.getElementById("copy-prompt-url");

// Each new request bumps this; a slower, older request that finishes later must not overwrite the stage.
let currentRun = 0;
let retryTimer = 0;

// Resource Timing entries by URL, kept as they arrive: a variant shown a second time comes from the
// memory cache and gets no new entry, yet its first one still says what went over the wire.
const resourceEntries = new Map();
performance.setResourceTimingBufferSize(1000);
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) resourceEntries.set(entry.name, entry);
}).observe({ type: "resource", buffered: true });

// ---------- small helpers ----------

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

function formatBytes(bytes) {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / 1_000_000).toFixed(2)} MB`;
}

function formatName(contentType) {
  const subtype = (contentType || "").split("/")[1] || "";
  return subtype.split(";")[0].toUpperCase() || "unknown";
}

class ApiProblem extends Error {
  constructor(status, message, retryAfter) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

// ---------- API key: kept in this tab only, sent as a bearer token ----------

const KEY_STORAGE = "imgedge-api-key";

function apiKey() {
  try {
    return sessionStorage.getItem(KEY_STORAGE) || "";
  } catch {
    return "";
  }
}

function setApiKey(value) {
  try {
    if (value) sessionStorage.setItem(KEY_STORAGE, value);
    else sessionStorage.removeItem(KEY_STORAGE);
  } catch {
    // Storage disabled: the key then lasts as long as nothing asks for it again.
  }
}

async function api(url, options = {}) {
  const headers = new Headers(options.headers || {});
  const key = apiKey();
  if (key) headers.set("Authorization", `Bearer ${key}`);
  let response;
  try {
    response = await fetch(url, { cache: "no-store", ...options, headers });
  } catch {
    throw new ApiProblem(0, "The generator could not be reached. Is imgedge still running?");
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const retry = Number.parseInt(response.headers.get("Retry-After") || "", 10);
    throw new ApiProblem(response.status, body.error || `request failed (${response.status})`,
      Number.isFinite(retry) ? retry : null);
  }
  return body;
}

// ---------- the stage: one frame whose box never changes between skeleton and image ----------

function showFrame(width, height) {
  let frame = stage.querySelector(".frame");
  if (!frame) {
    frame = el("div", { class: "frame" });
    stage.append(frame);
  }
  frame.style.setProperty("--w", width);
  frame.style.setProperty("--h", height);
  frame.dataset.width = width;
  frame.dataset.height = height;
  frame.replaceChildren();
  return frame;
}

function showEmpty() {
  const [width, height] = config.aspects[selectedAspect()];
  const frame = showFrame(width, height);
  frame.classList.add("empty");
  frame.append(el("p", { class: "empty-hint", text: "Your image appears here" }));
}

function showSkeleton(frame, text) {
  frame.classList.remove("empty");
  const status = el("span", { class: "status-text", text });
  const elapsed = el("span", { class: "status-elapsed" });
  frame.append(
    el("div", { class: "skeleton", role: "status", "aria-live": "polite" },
      // Changing parts last: text that grows must not push anything that was already on screen.
      el("div", { class: "status" }, el("span", { class: "progress" }, el("span")), elapsed, status)),
  );
  const started = performance.now();
  const tick = setInterval(() => {
    if (!elapsed.isConnected) return clearInterval(tick);
    elapsed.textContent = `${((performance.now() - started) / 1000).toFixed(1)} s`;
  }, 100);
  return (next) => { status.textContent = next; };
}

// The asset's LQIP (blurred, over its dominant colour) fills the frame behind the skeleton's status while
// the delivered image loads; it is positioned absolutely in the reserved box, so nothing moves.
function showPlaceholder(frame, placeholders) {
  if (!placeholders || frame.querySelector(".placeholder")) return;
  frame.style.backgroundColor = placeholders.dominant_color;
  frame.prepend(el("img", { class: "placeholder", alt: "", "aria-hidden": "true", src: placeholders.lqip }));
  frame.querySelector(".skeleton")?.classList.add("over-placeholder");
}

function showNotice(frame, kind, title, message) {
  frame.classList.remove("empty");
  const text = el("p", { text: message });
  frame.replaceChildren(
    el("div", { class: `notice ${kind}`, role: "alert" }, el("strong", { text: title }), text),
  );
  return text;
}

function showKeyPrompt(frame, problem) {
  clearInterval(retryTimer);
  // A key this tab sent and the generator refused (wrong, revoked) is forgotten, and the reason shown.
  const refusedKey = Boolean(apiKey());
  setApiKey("");
  const text = showNotice(frame, "warn", "API key needed", refusedKey ? sentence(problem.message)
    : "This generator only works for callers with an API key. Enter yours; it stays in this tab.");
  const input = el("input", {
    type: "password", id: "api-key", name: "api-key", autocomplete: "off", spellcheck: "false",
    placeholder: "ie_…", "aria-label": "API key",
  });
  const form = el("form", { class: "key-form" }, input,
    el("button", { type: "submit", class: "button primary", text: "Use key" }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (!value) {
      input.focus();
      return;
    }
    setApiKey(value);
    showEmpty();
    loadGallery();
  });
  text.after(form);
}

function showProblem(frame, problem) {
  clearInterval(retryTimer);
  if (problem.status === 401) {
    showKeyPrompt(frame, problem);
  } else if (problem.status === 429) {
    const title = /queue/i.test(problem.message) ? "The queue is full" : "Too many requests";
    const text = showNotice(frame, "warn", title, "");
    let left = problem.retryAfter ?? 5;
    const render = () => {
      text.textContent = left > 0 ? `Try again in ${left} s.` : "You can try again now.";
    };
    render();
    retryTimer = setInterval(() => {
      left -= 1;
      render();
      if (left <= 0) clearInterval(retryTimer);
    }, 1000);
  } else if (problem.status === 422) {
    showNotice(frame, "error", "Refused", sentence(problem.message));
  } else if (problem instanceof JobFailed) {
    showNotice(frame, "error", "Generation failed", sentence(problem.message));
  } else {
    showNotice(frame, "error", "Something went wrong", sentence(problem.message));
  }
}

function sentence(message) {
  const text = String(message || "unknown error");
  return text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? "" : ".");
}

class JobFailed extends Error {}

// ---------- generating ----------

function selectedAspect() {
  return aspectsField.querySelector("input:checked")?.value || "1:1";
}

async function waitForJob(statusUrl, run, setStatus) {
  let delay = 150;
  while (run === currentRun) {
    const job = await api(statusUrl);
    if (job.status === "done") return job;
    if (job.status === "failed") throw new JobFailed(job.error || "the job failed");
    if (job.status === "queued") {
      const health = await api("/healthz").catch(() => null);
      const waiting = health ? health.queue_depth : null;
      setStatus(waiting ? `Queued · ${waiting} ${waiting === 1 ? "job" : "jobs"} waiting` : "Queued");
    } else {
      setStatus("Generating");
    }
    await sleep(delay);
    delay = Math.min(delay * 1.5, 1000);
  }
  return null;
}

async function generate(event) {
  event.preventDefault();
  const prompt = promptField.value.trim();
  if (!prompt) {
    promptField.focus();
    return;
  }
  const aspect = selectedAspect();
  const [width, height] = config.aspects[aspect];
  const run = ++currentRun;
  clearInterval(retryTimer);
  const frame = showFrame(width, height);
  const setStatus = showSkeleton(frame, "Sending");
  clearDetails();
  try {
    const accepted = await api("/v1/images", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ prompt, aspect }),
    });
    setStatus("Queued");
    const job = await waitForJob(accepted.status_url, run, setStatus);
    if (!job || run !== currentRun) return;
    setStatus("Delivering");
    const meta = await api(job.image_url);
    if (run !== currentRun) return;
    await present(meta, frame, run);
    announceNew();
  } catch (problem) {
    if (run === currentRun) showProblem(frame, problem);
  }
}

// ---------- uploading ----------

async function pixelSize(file) {
  // The frame is reserved before the upload so nothing moves when the delivered image arrives;
  // createImageBitmap applies EXIF orientation just as the proxy does.
  try {
    const bitmap = await createImageBitmap(file);
    const size = [bitmap.width, bitmap.height];
    bitmap.close();
    return size;
  } catch {
    return [1, 1];
  }
}

async function upload() {
  const file = uploadInput.files[0];
  uploadInput.value = "";
  if (!file) return;
  const run = ++currentRun;
  clearInterval(retryTimer);
  const [width, height] = await pixelSize(file);
  if (run !== currentRun) return;
  const frame = showFrame(width, height);
  const setStatus = showSkeleton(frame, "Uploading");
  clearDetails();
  try {
    const grant = await api("/v1/uploads", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{}",
    });
    if (file.size > grant.max_bytes) {
      throw new ApiProblem(413, `the file is ${formatBytes(file.size)}; the limit is ${formatBytes(grant.max_bytes)}`);
    }
    const stored = await api(grant.upload_url, {
      method: grant.method,
      headers: { "Content-Type": file.type || "application/octet-stream" },
      body: file,
    });
    setStatus("Delivering");
    const meta = await api(stored.image_url);
    if (run !== currentRun) return;
    const ready = meta.width * height === meta.height * width ? frame : showFrame(meta.width, meta.height);
    await present(meta, ready, run);
    announceNew();
  } catch (problem) {
    if (run === currentRun) showProblem(frame, problem);
  }
}

// ---------- presenting an asset ----------

async function present(meta, frame, run) {
  fillProvenance(meta);
  if (meta.moderation.state !== "approved" || !meta.transforms) {
    const reason = meta.moderation.reason ? ` (${meta.moderation.reason})` : "";
    showNotice(frame, "warn", `Moderation: ${meta.moderation.state}`,
      `The proxy serves this image once it is approved${reason}.`);
    return;
  }
  showPlaceholder(frame, meta.placeholders);
  const widths = Object.keys(meta.transforms.widths).map(Number).sort((a, b) => a - b);
  const img = el("img", {
    alt: meta.provenance.prompt || "Uploaded image",
    width: meta.width,
    height: meta.height,
    fetchpriority: "high",
    decoding: "async",
    elementtiming: "stage-image",
    // The frame's width is the slot the image fills; the browser multiplies it by its pixel ratio.
    sizes: `${Math.ceil(frame.getBoundingClientRect().width)}px`,
    srcset: meta.transforms.srcset,
    src: meta.transforms.widths[String(widths[widths.length - 1])],
  });
  try {
    // Decoding before insertion swaps skeleton for the finished picture in one frame, never half-drawn.
    await img.decode();
  } catch {
    if (run === currentRun) showNotice(frame, "error", "Not delivered", "The proxy could not deliver this image.");
    return;
  }
  if (run !== currentRun) return;
  frame.classList.remove("empty");
  frame.replaceChildren(img);
  frame.dataset.assetId = meta.asset_id;
  history.replaceState(null, "", `?asset=${meta.asset_id}`);
  fillDelivery(img, meta);
}

// ---------- the details panel ----------

function field(name) {
  return details.querySelector(`[data-field="${name}"]`);
}

function setField(name, text, title) {
  const node = field(name);
  node.textContent = text;
  if (title) node.title = title;
  else node.removeAttribute("title");
}

function clearDetails() {
  for (const name of ["format", "received", "original", "saving", "variant", "server", "model", "prompt",
    "seed", "prompt-url", "created", "moderation"]) setField(name, "—");
  copyButton.classList.add("unavailable");
  field("meter").style.width = "0";
  field("format").className = "badge";
  field("moderation").className = "badge";
}

function fillProvenance(meta) {
  const p = meta.provenance;
  setField("model", p.origin === "generated" ? `${p.model} · ${p.steps} steps` : "Upload", p.model_hash || "");
  setField("prompt", p.prompt || "—", p.prompt || "");
  setField("seed", p.seed === null || p.seed === undefined ? "—" : String(p.seed));
  // The signed URL that makes this very image again on first request (then served like any variant).
  setField("prompt-url", meta.prompt_url || "—", meta.prompt_url ? "" : "only for generated images made with the default steps");
  // Shown and hidden by visibility only: the panel keeps its layout, so nothing shifts.
  copyButton.classList.toggle("unavailable", !meta.prompt_url);
  copyButton.dataset.url = meta.prompt_url || "";
  copyButton.textContent = "Copy";
  setField("created", new Date(meta.created_at * 1000).toLocaleString());
  setField("moderation", meta.moderation.state, meta.moderation.reason || "");
  field("moderation").className = `badge moderation-${meta.moderation.state}`;
  setField("original", `${formatBytes(meta.bytes)} · ${meta.width}×${meta.height}`);
}

function fillDelivery(img, meta) {
  const url = img.currentSrc;
  const entry = resourceEntries.get(url) || performance.getEntriesByName(url, "resource").at(-1);
  const match = /\/w:(\d+)\//.exec(url);
  const variantWidth = match ? Number(match[1]) : meta.width;
  const variantHeight = Math.round((variantWidth * meta.height) / meta.width);
  setField("variant", `${variantWidth}×${variantHeight} px`, `chosen for a ${img.sizes} slot: ${url}`);
  if (!entry) {
    setField("received", "from the browser cache");
    return;
  }
  const [contentType, source] = receivedType(entry);
  const format = contentType ? formatName(contentType) : "not exposed";
  setField("format", format, contentType ? `${contentType}, read from ${source}` : source);
  field("format").className = `badge format-${format.toLowerCase()}`;
  const body = entry.encodedBodySize;
  const wire = entry.transferSize;
  setField("received", wire ? formatBytes(body) : `${formatBytes(body)} (cached)`,
    wire ? `${formatBytes(wire)} on the wire, headers included` : "served from the browser's HTTP cache");
  const ratio = meta.bytes ? body / meta.bytes : 1;
  field("meter").style.width = `${Math.max(1, Math.min(100, ratio * 100)).toFixed(1)}%`;
  setField("saving", ratio < 1 ? `${Math.round((1 - ratio) * 100)}% smaller` : "no smaller");
  const durations = entry.serverTiming.filter((t) => t.name !== "type");
  const timings = Object.fromEntries(durations.map((t) => [t.name, t.duration]));
  const total = timings.total ?? entry.responseEnd - entry.requestStart;
  const cache = "transform" in timings ? "rendered" : "cache hit";
  setField("server", `${total.toFixed(1)} ms · ${cache}`,
    durations.map((t) => `${t.name} ${t.duration.toFixed(1)} ms`).join(", "));
}

function receivedType(entry) {
  // Resource Timing's contentType is empty for a cross-origin <img> fetched without CORS, which is how the
  // proxy's images load here; the proxy therefore names the type it sent in Server-Timing, which the
  // browser does expose because the proxy answers with Timing-Allow-Origin: *.
  if (entry.contentType) return [entry.contentType, "Resource Timing contentType"];
  const named = entry.serverTiming.find((t) => t.name === "type" && t.description);
  if (named) return [named.description, "the Server-Timing of that response"];
  return ["", "The browser does not expose the content type of this cross-origin response"];
}

// ---------- gallery ----------

async function loadGallery() {
  let images;
  try {
    ({ images } = await api("/v1/images?limit=12"));
  } catch (problem) {
    // The first thing the page asks for: where a key is needed, say so at once, not after a Generate.
    if (problem.status === 401) showKeyPrompt(stage.querySelector(".frame") || showFrame(1, 1), problem);
    return;
  }
  refreshButton.textContent = "Refresh";
  if (!images.length) {
    gallery.replaceChildren(el("li", { class: "gallery-empty", text: "Nothing here yet. Generate something!" }));
    return;
  }
  gallery.replaceChildren(...images.map((meta) => {
    const widths = Object.keys(meta.transforms.widths).map(Number).sort((a, b) => a - b);
    const img = el("img", {
      alt: meta.provenance.prompt || "Uploaded image",
      width: meta.width,
      height: meta.height,
      loading: "lazy",
      decoding: "async",
      sizes: "(min-width: 720px) 160px, 45vw",
      srcset: meta.transforms.srcset,
      src: meta.transforms.widths[String(widths[0])],
    });
    const button = el("button", { type: "button", class: "thumb", "aria-label": `Show ${img.alt}` }, img);
    button.addEventListener("click", () => showAsset(meta.asset_id));
    return el("li", {}, button);
  }));
}

function announceNew() {
  // The gallery is not re-laid out under the reader's eyes (that would be a layout shift); it waits for a click.
  const count = Number(refreshButton.dataset.count || 0) + 1;
  refreshButton.dataset.count = String(count);
  refreshButton.textContent = `Show ${count} new`;
}

refreshButton.addEventListener("click", () => {
  refreshButton.dataset.count = "0";
  loadGallery();
});

async function showAsset(assetId) {
  const run = ++currentRun;
  clearInterval(retryTimer);
  try {
    const meta = await api(`/v1/images/${encodeURIComponent(assetId)}`);
    if (run !== currentRun) return;
    clearDetails();
    await present(meta, showFrame(meta.width, meta.height), run);
  } catch (problem) {
    if (run === currentRun) showProblem(showFrame(1, 1), problem);
  }
}

// ---------- start-up ----------

async function copyPromptUrl() {
  const url = new URL(copyButton.dataset.url, config.proxyOrigin || location.href).href;
  try {
    await navigator.clipboard.writeText(url);
    copyButton.textContent = "Copied";
  } catch {
    // No clipboard permission: select the text so one keystroke copies it.
    getSelection().selectAllChildren(field("prompt-url"));
    copyButton.textContent = "Press Ctrl+C";
  }
}

function setUpAspectPicker() {
  // The buttons are in the HTML (added by script they would push the page down after its first paint).
  for (const input of aspectsField.querySelectorAll("input")) {
    const [width, height] = config.aspects[input.value];
    input.parentElement.title = `${width}×${height} px`;
    input.addEventListener("change", () => {
      if (stage.querySelector(".frame.empty")) showEmpty();
    });
  }
}

setUpAspectPicker();
form.addEventListener("submit", generate);
uploadInput.addEventListener("change", upload);
const linked = new URLSearchParams(location.search).get("asset");
// A linked asset draws its frame only once its size is known; an empty frame first would then have to move.
if (linked) showAsset(linked);
else showEmpty();
loadGallery();
copyButton.addEventListener("click", copyPromptUrl);
