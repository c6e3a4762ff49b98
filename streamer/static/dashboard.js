// The operator dashboard: reads GET /dashboard/stream (SSE over fetch, so the admin
// token goes as an Authorization header, never in a URL) and draws each view.
// No dependencies, no build step. Figure names: common/telemetry/figures.py.

const STREAM = "/dashboard/stream";
const TOKEN_KEY = "hookstream.dashboard.token";
const HISTORY = 60;          // points per sparkline (one per view, about 1 s apart)
const STALL_MS = 10000;      // no view for this long: reconnect
const MAX_BACKOFF_MS = 30000;

const $ = (id) => document.getElementById(id);
const series = new Map();    // key -> recent values, for sparklines
let session = null;          // {token, controller}
let lastViewAt = 0;

// ---------- small helpers ----------

const esc = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const num = (value) => {
  if (value === undefined || value === null || Number.isNaN(value)) return "–";
  if (Math.abs(value) >= 1e6) return (value / 1e6).toFixed(1) + "M";
  if (Math.abs(value) >= 1e4) return (value / 1e3).toFixed(1) + "k";
  return Number.isInteger(value) ? String(value) : value.toFixed(value < 10 ? 2 : 1);
};
const pct = (ratio) => (ratio === null ? "–" : (100 * ratio).toFixed(1) + "%");
const rows = (view, name) => (view.figures && view.figures[name]) || [];
const total = (list, field = "value") => list.reduce((sum, row) => sum + (row[field] || 0), 0);
const empty = (text = "no data yet") => `<div class="empty">${esc(text)}</div>`;

function group(list, label) {
  const groups = new Map();
  for (const row of list) {
    const key = row.labels[label] ?? "";
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(row);
  }
  return groups;
}

function remember(key, value) {
  let values = series.get(key);
  if (!values) series.set(key, (values = []));
  values.push(value);
  if (values.length > HISTORY) values.shift();
  return values;
}

function sparkline(values, { width = 120, height = 26, red = false } = {}) {
  if (!values || values.length < 2) return `<svg class="spark" width="${width}" height="${height}"></svg>`;
  const high = Math.max(...values, 1e-9);
  const step = width / (HISTORY - 1);
  const start = width - step * (values.length - 1);
  const points = values.map((v, i) =>
    `${(start + i * step).toFixed(1)},${(height - 1 - (v / high) * (height - 3)).toFixed(1)}`);
  const area = `${start.toFixed(1)},${height} ${points.join(" ")} ${width},${height}`;
  return `<svg class="spark${red ? " red" : ""}" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" role="img"><polygon points="${area}"/>` +
    `<polyline points="${points.join(" ")}"/></svg>`;
}

const bar = (ratio, hot = false) =>
  `<div class="bar${hot ? " hot" : ""}"><span style="width:${Math.min(100, Math.max(0, 100 * ratio)).toFixed(1)}%"></span></div>`;

function table(headers, body) {
  const head = headers.map((h) => `<th class="${h.num ? "num" : ""}">${esc(h.text ?? h)}</th>`).join("");
  return `<table><thead><tr>${head}</tr></thead><tbody>${body.join("")}</tbody></table>`;
}

const stat = (label, value, spark = "") =>
  `<div class="stat"><div class="value" data-stat="${esc(label)}">${esc(value)}</div>` +
  `<div class="label">${esc(label)}</div>${spark}</div>`;

function fill(id, html) {
  $(id).querySelector(".body").innerHTML = html;
}

// ---------- panels ----------

function throughput(view) {
  const events = total(rows(view, "streamer_events_total"), "rate");
  const deliveries = total(rows(view, "streamer_deliveries_total"), "rate");
  const connections = total(rows(view, "streamer_connections"));
  const received = total(rows(view, "ingress_webhooks_total").filter((r) => r.labels.outcome === "received"), "rate");
  const jobs = total(rows(view, "worker_messages_total"), "rate");
  const big = { width: 140, height: 44 };
  fill("throughput", `<div class="stats">
    ${stat("connections", num(connections), sparkline(remember("connections", connections), big))}
    ${stat("events/s", num(events), sparkline(remember("events", events), big))}
    ${stat("deliveries/s", num(deliveries), sparkline(remember("deliveries", deliveries), big))}
    ${stat("webhooks/s", num(received), sparkline(remember("webhooks", received), big))}
    ${stat("jobs/s", num(jobs), sparkline(remember("jobs", jobs), big))}</div>`);
}

function processes(view) {
  const list = view.processes || [];
  const roles = group(list.map((p) => ({ labels: { role: p.role } })), "role");
  $("roles").textContent = [...roles].map(([role, items]) => `${items.length} ${role}`).join(" · ");
  if (!list.length) return fill("processes", empty("no process is reporting"));
  fill("processes", table(["role", "pid", "host", { text: "up", num: true }, { text: "report age", num: true }],
    list.map((p) => `<tr data-role="${esc(p.role)}"><td>${esc(p.role)}</td><td>${esc(p.pid)}</td>` +
      `<td class="name">${esc(p.host)}</td><td class="num">${num(p.uptime_s)} s</td>` +
      `<td class="num">${num(p.report_age_s)} s</td></tr>`)));
}

function connectionsBy(view, id, name, label) {
  const groups = [...group(rows(view, name), label)].map(([key, list]) => [key, total(list)])
    .filter(([, count]) => count > 0).sort((a, b) => b[1] - a[1]);
  if (!groups.length) return fill(id, empty("no open streams"));
  const most = groups[0][1];
  fill(id, table([label, { text: "streams", num: true }, ""], groups.map(([key, count]) =>
    `<tr><td class="name" title="${esc(key)}">${esc(key)}</td><td class="num">${num(count)}</td>` +
    `<td>${bar(count / most)}</td></tr>`)));
}

function slowClients(view) {
  const drops = rows(view, "streamer_drops_total");
  const dropRate = total(drops, "rate");
  const closes = [...group(rows(view, "streamer_closes_total"), "reason")]
    .map(([reason, list]) => [reason, total(list), total(list, "rate")]).sort((a, b) => b[1] - a[1]);
  const slow = closes.find(([reason]) => reason === "slow_consumer");
  fill("slow", `<div class="stats">
    ${stat("dropped frames", num(total(drops)))}
    ${stat("drops/s", num(dropRate), sparkline(remember("drops", dropRate), { red: true }))}
    ${stat("cut for being slow", num(slow ? slow[1] : 0))}</div>` +
    (closes.length ? table(["closed because", { text: "streams", num: true }, { text: "/s", num: true }],
      closes.map(([reason, count, rate]) => `<tr><td class="${reason === "slow_consumer" ? "bad" : ""}">` +
        `${esc(reason)}</td><td class="num">${num(count)}</td><td class="num">${num(rate)}</td></tr>`)) : ""));
}

const OUTCOMES = ["received", "accepted", "duplicates", "filtered"];

function webhooks(view) {
  const sources = group(rows(view, "ingress_webhooks_total"), "source");
  const rejected = group(rows(view, "ingress_rejections_total"), "source");
  if (!sources.size) return fill("webhooks", empty());
  const body = [...sources].map(([source, list]) => {
    const by = Object.fromEntries(list.map((row) => [row.labels.outcome, row]));
    const refused = total(rejected.get(source) || []);
    const rate = (by.received && by.received.rate) || 0;
    return `<tr data-source="${esc(source)}"><td class="name">${esc(source)}</td>` +
      OUTCOMES.map((o) => `<td class="num" data-outcome="${o}">${num(by[o] ? by[o].value : 0)}</td>`).join("") +
      `<td class="num ${refused ? "bad" : ""}" data-outcome="rejected">${num(refused)}</td>` +
      `<td class="num">${num(rate)}</td><td>${sparkline(remember(`source:${source}`, rate), { width: 90 })}</td></tr>`;
  });
  fill("webhooks", table(["source", ...OUTCOMES.map((o) => ({ text: o, num: true })),
    { text: "rejected", num: true }, { text: "/s", num: true }, ""], body));
}

function rejections(view) {
  const list = rows(view, "ingress_rejections_total").filter((r) => r.value > 0)
    .sort((a, b) => b.value - a.value);
  if (!list.length) return fill("rejections", empty("none rejected"));
  fill("rejections", table(["source", "reason", { text: "count", num: true }, { text: "/s", num: true }],
    list.map((r) => `<tr><td class="name">${esc(r.labels.source)}</td><td>${esc(r.labels.reason)}</td>` +
      `<td class="num">${num(r.value)}</td><td class="num">${num(r.rate)}</td></tr>`)));
}

function queues(view) {
  const waiting = group(rows(view, "queue_messages"), "queue");
  const dead = group(rows(view, "dead_letters"), "queue");
  const names = [...new Set([...waiting.keys(), ...dead.keys()])].sort();
  if (!names.length) return fill("queues", empty("no worker is reporting"));
  fill("queues", table(["queue", { text: "waiting", num: true }, "", { text: "dead letters", num: true }],
    names.map((queue) => {
      const depth = total(waiting.get(queue) || []);
      const letters = total(dead.get(queue) || []);
      return `<tr data-queue="${esc(queue)}"><td class="name">${esc(queue)}</td><td class="num">${num(depth)}</td>` +
        `<td>${sparkline(remember(`queue:${queue}`, depth), { width: 90 })}</td>` +
        `<td class="num ${letters ? "bad" : ""}">${num(letters)}</td></tr>`;
    })));
}

function jobs(view) {
  const list = rows(view, "worker_messages_total");
  if (!list.length) return fill("jobs", empty("no message processed yet"));
  fill("jobs", table(["actor", "outcome", { text: "count", num: true }, { text: "/s", num: true }],
    list.map((r) => `<tr><td class="name">${esc(r.labels.actor)}</td>` +
      `<td class="${r.labels.outcome === "failed" ? "bad" : ""}">${esc(r.labels.outcome)}</td>` +
      `<td class="num">${num(r.value)}</td><td class="num">${num(r.rate)}</td></tr>`)));
}

function cache(view) {
  const hits = group(rows(view, "cache_hits_total"), "cache");
  const misses = group(rows(view, "cache_misses_total"), "cache");
  const names = [...new Set([...hits.keys(), ...misses.keys()])].sort();
  if (!names.length) return fill("cache", empty());
  fill("cache", table(["cache", { text: "hit rate", num: true }, "", { text: "overall", num: true },
    { text: "hits", num: true }, { text: "misses", num: true }], names.map((name) => {
    const hit = hits.get(name) || [], miss = misses.get(name) || [];
    const ratio = (a, b) => (a + b > 0 ? a / (a + b) : null);
    const now = ratio(total(hit, "rate"), total(miss, "rate"));
    const overall = ratio(total(hit), total(miss));
    const values = remember(`cache:${name}`, now ?? overall ?? 0);
    return `<tr><td class="name">${esc(name)}</td><td class="num">${pct(now)}</td>` +
      `<td>${sparkline(values, { width: 80 })}</td><td class="num">${pct(overall)}</td>` +
      `<td class="num">${num(total(hit))}</td><td class="num">${num(total(miss))}</td></tr>`;
  })));
}

const NOT_REQUESTS = ["throttled", "pauses"];

function airtable(view) {
  const used = rows(view, "airtable_budget_used_ratio");
  const requests = rows(view, "airtable_requests_total");
  if (!used.length && !requests.length) return fill("airtable", empty());
  const scopes = used.map((r) => `<tr><td class="name">${esc(r.labels.scope ?? "")}</td>` +
    `<td class="num">${pct(r.value)}</td><td>${bar(r.value, r.value >= 0.8)}</td>` +
    `<td>${sparkline(remember(`airtable:${r.labels.scope}`, r.value), { width: 80, red: r.value >= 0.8 })}</td></tr>`);
  // throttled (429s) and pauses count what happened to requests already counted
  const sent = requests.filter((r) => !NOT_REQUESTS.includes(r.labels.outcome));
  const throttled = requests.filter((r) => r.labels.outcome === "throttled");
  const asked = requests.length ? `<div class="stats">${stat("requests/s", num(total(sent, "rate")))}` +
    `${stat("requests", num(total(sent)))}${stat("429s", num(total(throttled)))}</div>` : "";
  fill("airtable", asked + (scopes.length ? table(["budget", { text: "used", num: true }, "", ""], scopes) : ""));
}

function sql(view) {
  const lags = rows(view, "sql_watch_lag_s");
  if (!lags.length) return fill("sql", empty());
  fill("sql", table(["watch", { text: "lag", num: true }, ""], lags.map((r) =>
    `<tr><td class="name">${esc(r.labels.watch ?? "")}</td><td class="num ${r.value > 5 ? "bad" : ""}">` +
    `${num(r.value)} s</td><td>${sparkline(remember(`sql:${r.labels.watch}`, r.value), { width: 110, red: r.value > 5 })}</td></tr>`)));
}

function render(view) {
  lastViewAt = Date.now();
  if (view.error) {
    $("updated").textContent = `Redis unavailable (${new Date(view.at_ms).toLocaleTimeString()})`;
    return;
  }
  throughput(view);
  processes(view);
  connectionsBy(view, "topics", "streamer_connections_by_topic", "topic");
  connectionsBy(view, "subjects", "streamer_connections_by_subject", "subject");
  slowClients(view);
  webhooks(view);
  rejections(view);
  queues(view);
  jobs(view);
  cache(view);
  airtable(view);
  sql(view);
  $("updated").textContent = `updated ${new Date(view.at_ms).toLocaleTimeString()}`;
}

// ---------- the stream ----------

function setStatus(status) {
  $("status").textContent = status;
  $("status").className = status;
}

async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message", data = [];
      for (const line of block.split("\n")) {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") event = text;
        else if (field === "data") data.push(text);
      }
      if (data.length) onEvent(event, data.join("\n"));
    }
  }
}

async function follow(current) {
  for (let attempt = 0; session === current; attempt++) {
    setStatus(attempt ? "reconnecting" : "connecting");
    current.controller = new AbortController();
    try {
      const response = await fetch(STREAM, { headers: { Authorization: `Bearer ${current.token}` },
        cache: "no-store", signal: current.controller.signal });
      if (response.status === 401 || response.status === 403) {
        const answer = await response.json().catch(() => ({}));
        return signOut((answer.error && answer.error.message) || `refused (${response.status})`);
      }
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      setStatus("open");
      attempt = 0;
      lastViewAt = Date.now();
      await readEvents(response.body, (event, data) => event === "figures" && render(JSON.parse(data)));
    } catch (error) {
      if (session !== current) return;
    }
    if (session !== current) return;
    setStatus("reconnecting");
    await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt)));
  }
}

setInterval(() => {
  if (session && session.controller && $("status").className === "open" && Date.now() - lastViewAt > STALL_MS) {
    session.controller.abort();
  }
}, 1000);

function signIn(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
  $("login").hidden = true;
  $("board").hidden = false;
  $("signout").hidden = false;
  session = { token, controller: null };
  follow(session);
}

function signOut(reason = "") {
  if (session && session.controller) session.controller.abort();
  session = null;
  sessionStorage.removeItem(TOKEN_KEY);
  setStatus("signed out");
  $("board").hidden = true;
  $("signout").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = reason;
  $("token").value = "";
  $("token").focus();
}

$("login").addEventListener("submit", (event) => {
  event.preventDefault();
  const token = $("token").value.trim();
  if (token) signIn(token);
});
$("signout").addEventListener("click", () => signOut());

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) signIn(saved); else signOut();
