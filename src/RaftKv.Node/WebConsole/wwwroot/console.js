// The RaftKv web console: plain browser JavaScript over the node's public HTTP API, nothing to build.
"use strict";

const $ = id => document.getElementById(id);
const state = { token: null, self: null, page: null, watch: null, samples: { reads: [], writes: [] }, lastCounts: null };
const SAMPLES = 60;

// ---- API calls -------------------------------------------------------------------------------

async function api(path, init = {}) {
  const headers = new Headers(init.headers || {});
  if (state.token) headers.set("Authorization", "Bearer " + state.token);
  const response = await fetch(path, { ...init, headers });
  if (response.status === 401) showSignIn(true);
  return response;
}

/** The RFC 9457 problem body's title and detail, or the status line. */
async function problem(response) {
  try {
    const body = await response.json();
    return `${response.status} ${body.title || ""}${body.detail ? ": " + body.detail : ""}`;
  } catch {
    return `${response.status} ${response.statusText}`;
  }
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

async function expectOk(response) {
  if (!response.ok) throw new Error(await problem(response));
  return response;
}

function keyUrl(key) { return "/v1/kv/" + encodeURIComponent(key); }

function idempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, b => b.toString(16).padStart(2, "0")).join("");
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text ?? "";
  if (className) td.className = className;
  return td;
}

// ---- Sign-in, when authentication is on -------------------------------------------------------

function showSignIn(show) { $("sign-in").hidden = !show; }

async function checkAuth() {
  const response = await fetch("/v1/auth/status");
  if (response.ok && (await response.json()).enabled && !state.token) showSignIn(true);
}

$("sign-in").addEventListener("submit", async event => {
  event.preventDefault();
  const basic = btoa(String.fromCharCode(...new TextEncoder().encode($("user").value + ":" + $("password").value)));
  const response = await fetch("/v1/auth/token", { method: "POST", headers: { Authorization: "Basic " + basic } });
  if (!response.ok) { showError("Sign-in failed: " + await problem(response)); return; }
  state.token = (await response.json()).token;
  showSignIn(false);
  $("signed-in").textContent = "signed in as " + $("user").value;
  $("signed-in").hidden = false;
  showError("");
});

// ---- Cluster view -----------------------------------------------------------------------------

async function refreshCluster() {
  try {
    const response = await expectOk(await api("/v1/cluster/status"));
    renderCluster(await response.json());
    $("cluster-updated").textContent = "updated " + new Date().toLocaleTimeString();
  } catch (e) {
    $("cluster-updated").textContent = "not updated: " + e.message;
  }
}

function renderCluster(cluster) {
  const reports = cluster.members;
  state.self = reports.find(m => m.id === cluster.node)?.status ?? null;
  const leaderStatus = reports.map(m => m.status).find(s => s && s.role === "leader");
  $("node-name").textContent = `node ${cluster.node}` + (state.self ? ` (${state.self.role})` : "");
  const body = $("members").tBodies[0];
  body.replaceChildren();
  for (const report of reports) {
    const s = report.status;
    const row = body.insertRow();
    row.dataset.member = report.id;
    row.dataset.role = s ? s.role : "unreachable";
    if (s?.role === "leader") row.classList.add("leader");
    if (!s) row.classList.add("down");
    cell(row, report.id + (report.id === cluster.node ? " (this node)" : ""));
    cell(row, s ? s.role : "—");
    cell(row, s?.term, "num");
    cell(row, s?.commitIndex, "num");
    cell(row, s?.appliedIndex, "num");
    // Behind the leader's commit index when a leader answered, else behind its own.
    cell(row, s ? Math.max(0, (leaderStatus ?? s).commitIndex - s.appliedIndex) : "", "num");
    cell(row, !s ? "down: " + report.error : s.diskLow ? "disk low" : s.leader ? "ok" : "no leader");
    cell(row, s?.leader?.id ?? "—");
    cell(row, report.url);
  }
}

// ---- Throughput sparklines, from this node's own request counters ------------------------------

/** Sums raftkv_request_duration_seconds_count into reads and writes: GET of keys and Range; the rest of the key routes and transactions. */
function countRequests(text) {
  const counts = { reads: 0, writes: 0 };
  for (const line of text.split("\n")) {
    if (!line.startsWith("raftkv_request_duration_seconds_count{")) continue;
    const close = line.lastIndexOf("}");
    const labels = Object.fromEntries([...line.slice(line.indexOf("{") + 1, close).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(m => [m[1], m[2]]));
    const value = Number(line.slice(close + 1).trim().split(" ")[0]);
    if (labels.api === "peer") continue;
    const route = labels.route || "";
    const keyRoute = route.startsWith("/v1/kv");
    if ((keyRoute && labels.method === "GET") || route === "/etcdserverpb.KV/Range") counts.reads += value;
    else if (keyRoute || route === "/v1/txn" || /^\/etcdserverpb\.KV\/(Put|DeleteRange|Txn)$/.test(route)) counts.writes += value;
  }
  return counts;
}

async function refreshThroughput() {
  try {
    const response = await expectOk(await api("/metrics"));
    const now = performance.now();
    const counts = countRequests(await response.text());
    if (state.lastCounts) {
      const seconds = (now - state.lastCounts.at) / 1000;
      for (const kind of ["reads", "writes"]) {
        const rate = Math.max(0, counts[kind] - state.lastCounts[kind]) / seconds;
        const samples = state.samples[kind];
        samples.push(rate);
        if (samples.length > SAMPLES) samples.shift();
        $(kind + "-rate").textContent = rate.toFixed(rate < 10 ? 1 : 0);
        drawSpark($(kind + "-spark"), samples);
      }
    }
    state.lastCounts = { ...counts, at: now };
  } catch {
    // The next tick tries again; the cluster view says when the node is unreachable.
  }
}

function drawSpark(svg, samples) {
  const max = Math.max(1, ...samples);
  const step = 300 / (SAMPLES - 1);
  const offset = SAMPLES - samples.length;
  const points = samples.map((v, i) => `${((offset + i) * step).toFixed(1)},${(58 - 56 * v / max).toFixed(1)}`).join(" ");
  let line = svg.querySelector("polyline");
  if (!line) {
    line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    svg.appendChild(line);
  }
  line.setAttribute("points", points);
}

// ---- Key browser -------------------------------------------------------------------------------

function displayValue(item) {
  return item.valueEncoding === "base64" ? "(base64) " + item.value : item.value;
}

async function listKeys(next) {
  const prefix = $("prefix").value;
  const params = new URLSearchParams({ prefix, limit: $("page-size").value || "20" });
  if (next) {
    params.set("from", next.from);
    params.set("revision", next.revision);
  }
  try {
    const response = await expectOk(await api("/v1/kv?" + params));
    const page = await response.json();
    // Later pages read at the first page's revision, so the listing stays consistent while writes go on.
    state.page = { prefix, revision: page.revision, next: page.more ? page.next : null, first: !next };
    const body = $("key-list").tBodies[0];
    body.replaceChildren();
    for (const kv of page.kvs) {
      const row = body.insertRow();
      row.dataset.key = kv.key;
      cell(row, kv.key);
      cell(row, displayValue(kv), "value");
      cell(row, kv.modRevision, "num");
      cell(row, kv.version, "num");
      cell(row, kv.lease ? kv.lease : "", "num");
      row.addEventListener("click", () => showKey(kv.key));
    }
    $("list-summary").textContent = `${page.count} key(s) under "${prefix}" at revision ${page.revision}` + (page.more ? ", more on the next page" : "");
    $("next-page").disabled = !page.more;
    $("first-page").disabled = !next;
    showError("");
  } catch (e) {
    showError("List failed: " + e.message);
  }
}

$("list-form").addEventListener("submit", event => { event.preventDefault(); listKeys(null); });
$("next-page").addEventListener("click", () => state.page?.next && listKeys({ from: state.page.next, revision: state.page.revision }));
$("first-page").addEventListener("click", () => listKeys(null));

async function readValue(response) {
  const bytes = await response.arrayBuffer();
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return "(base64) " + btoa(String.fromCharCode(...new Uint8Array(bytes)));
  }
}

async function showKey(key) {
  const response = await api(keyUrl(key));
  if (response.status === 404) {
    showError(`Key "${key}" does not exist.`);
    $("key-detail").hidden = true;
    return;
  }
  if (!response.ok) { showError("Read failed: " + await problem(response)); return; }
  const meta = {
    modRevision: Number((response.headers.get("ETag") || "").replaceAll('"', "")),
    createRevision: Number(response.headers.get("X-RaftKv-Create-Revision")),
    version: response.headers.get("X-RaftKv-Version"),
    lease: response.headers.get("X-RaftKv-Lease"),
    readAt: response.headers.get("X-RaftKv-Revision"),
  };
  $("detail-key").textContent = key;
  $("detail-key").dataset.key = key;
  $("detail-value").textContent = await readValue(response);
  $("detail-meta").textContent = `created at ${meta.createRevision}, modified at ${meta.modRevision}, version ${meta.version}` +
    (meta.lease && meta.lease !== "0" ? `, lease ${meta.lease}` : "") + `; read at revision ${meta.readAt}`;
  $("key-detail").hidden = false;
  showError("");
  await showRevisions(key, meta);
}

/** The key's retained history since its creation, from a watch that starts there and stops at its current version. */
async function showRevisions(key, meta) {
  const body = $("revisions").tBodies[0];
  body.replaceChildren();
  const compacted = state.self?.compactRevision ?? 0;
  const from = Math.max(meta.createRevision, compacted + 1);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 5000);
  try {
    await readWatch(`/v1/watch?key=${encodeURIComponent(key)}&fromRevision=${from}`, abort.signal, change => {
      for (const event of change.events) {
        const row = body.insertRow(0);
        cell(row, event.modRevision || change.revision, "num");
        cell(row, event.type);
        cell(row, event.version, "num");
        cell(row, event.type === "put" ? displayValue(event) : "", "value");
      }
      if (change.revision >= meta.modRevision) abort.abort();
    });
  } catch (e) {
    if (!abort.signal.aborted) {
      const row = body.insertRow();
      cell(row, "history unavailable: " + e.message).colSpan = 4;
    }
  } finally {
    clearTimeout(timer);
  }
  if (from > meta.createRevision) {
    const row = body.insertRow();
    cell(row, `revisions before ${from} are compacted`, "muted").colSpan = 4;
  }
}

$("put-form").addEventListener("submit", async event => {
  event.preventDefault();
  const key = $("put-key").value;
  try {
    // One idempotency key per click: the node applies the put once even if the answer is lost and it is sent again.
    const response = await expectOk(await api(keyUrl(key), { method: "PUT", body: $("put-value").value, headers: { "Idempotency-Key": idempotencyKey() } }));
    const result = await response.json();
    $("put-result").textContent = `put "${key}" at revision ${result.revision}`;
    $("put-result").dataset.revision = result.revision;
    showError("");
    await showKey(key);
    if (state.page && key.startsWith(state.page.prefix)) await listKeys(null);
  } catch (e) {
    showError("Put failed: " + e.message);
  }
});

$("delete-key").addEventListener("click", async () => {
  const key = $("detail-key").dataset.key;
  try {
    const response = await expectOk(await api(keyUrl(key), { method: "DELETE", headers: { "Idempotency-Key": idempotencyKey() } }));
    const result = await response.json();
    $("put-result").textContent = result.deleted ? `deleted "${key}" at revision ${result.revision}` : `"${key}" was already gone`;
    $("key-detail").hidden = true;
    if (state.page) await listKeys(null);
  } catch (e) {
    showError("Delete failed: " + e.message);
  }
});

// ---- Watch, over the SSE watch API --------------------------------------------------------------

/**
 * Reads a /v1/watch stream with fetch rather than EventSource, which cannot send a token.
 * Calls onChange for each change event; returns the last event id when the stream ends.
 */
async function readWatch(url, signal, onChange, lastEventId) {
  const headers = lastEventId ? { "Last-Event-ID": String(lastEventId) } : {};
  const response = await api(url, { signal, headers });
  if (!response.ok) throw new Error(await problem(response));
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let id = lastEventId;
  let message = { event: "message", data: "" };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return id;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, end).replace(/\r$/, "");
      buffer = buffer.slice(end + 1);
      if (line === "") {
        if (message.event === "change") onChange(JSON.parse(message.data));
        if (message.event === "error") throw new Error(message.data);
        message = { event: "message", data: "" };
      } else if (line.startsWith("id:")) {
        id = line.slice(3).trim();
      } else if (line.startsWith("event:")) {
        message.event = line.slice(6).trim();
      } else if (line.startsWith("data:")) {
        message.data += line.slice(5).trimStart();
      }
    }
  }
}

async function startWatch() {
  const prefix = $("watch-prefix").value;
  const abort = new AbortController();
  state.watch = abort;
  $("watch-toggle").textContent = "Stop";
  $("watch-events").replaceChildren();
  let lastId = null;
  // Resumes after the last event it saw when the stream breaks (a node restart, a lost connection).
  while (!abort.signal.aborted) {
    $("watch-state").textContent = `watching "${prefix}"`;
    try {
      lastId = await readWatch(`/v1/watch?prefix=${encodeURIComponent(prefix)}`, abort.signal, showChange, lastId);
    } catch (e) {
      if (abort.signal.aborted) break;
      $("watch-state").textContent = "reconnecting: " + e.message;
    }
    await new Promise(resolve => setTimeout(resolve, 1000));
  }
}

function showChange(change) {
  const list = $("watch-events");
  for (const event of change.events) {
    const item = document.createElement("li");
    item.className = event.type;
    item.dataset.revision = change.revision;
    item.dataset.key = event.key;
    item.textContent = `r${change.revision} ${event.type.toUpperCase()} ${event.key}` + (event.type === "put" ? ` = ${displayValue(event)}` : "");
    list.prepend(item);
  }
  while (list.children.length > 200) list.lastElementChild.remove();
}

$("watch-form").addEventListener("submit", event => {
  event.preventDefault();
  if (state.watch) {
    state.watch.abort();
    state.watch = null;
    $("watch-toggle").textContent = "Start";
    $("watch-state").textContent = "stopped";
  } else {
    startWatch();
  }
});

// ---- Start ---------------------------------------------------------------------------------------

checkAuth();
refreshCluster();
refreshThroughput();
setInterval(refreshCluster, 1000);
setInterval(refreshThroughput, 1000);
