/* hookstream browser client: an ES module, no dependencies. Docs: docs/streamer.md.
 *
 *   import { connect } from "/client.js";
 *   const stream = connect({ topics: ["demo/#"], getToken: async () => "..." });
 *   stream.on("record.updated", (data, event) => {});  // or "*"; event.position = SSE id
 *   stream.onStatus((status, info) => {});  // connecting|open|reconnecting|paused|closed
 *   stream.onReset(async () => refetch());  // events arriving meanwhile are held
 *   stream.lastEventId; stream.status; stream.close();
 *
 * Every (re)connect resumes from the last id; ids already seen are dropped
 * (log positions "<ms>-<seq>" only grow), as are envelope ids among the last
 * 1,000 within an hour (a job re-run after a Redis failover: same id).
 */
const pos = (s) => s.split("-").map(Number);
const after = (a, b) => {
  if (!b) return true;
  const [x, y] = pos(a), [u, v] = pos(b);
  return x > u || (x === u && (y | 0) > (v | 0));
};
const expOf = (t) => {
  try {
    return JSON.parse(atob(t.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).exp;
  } catch (e) {
    return 0;
  }
};
const later = (e) => setTimeout(() => { throw e; });

export function connect(o = {}) {
  const url = new URL(o.url || "events", o.url ? location.href : import.meta.url);
  for (const t of o.topics || []) url.searchParams.append("topic", t);
  const base = o.retryBaseMs || 1000, cap = o.retryMaxMs || 30000;
  const hide = o.pauseWhenHidden ?? 60000;
  const fns = {}, statusFns = [], resetFns = [];
  let token = o.token, lastId = o.lastEventId || null, status = "connecting", ctrl = null;
  let tries = 0, authRetried = false, held = null, timer, renewT, hideT;
  const seen = new Map();

  const set = (s, info = {}) => {
    if (s === status && s === "open") return;
    status = s;
    for (const f of statusFns) try { f(s, info); } catch (e) { later(e); }
  };
  const emit = (type, ev) => {
    for (const f of [...(fns[type] || []), ...(fns["*"] || [])]) {
      try { f(ev.data, ev); } catch (e) { later(e); }
    }
  };
  const push = (job) => (held ? held.push(job) : job());
  const reset = () => {
    held = [];
    Promise.all(resetFns.map(async (f) => f())).catch(later).finally(() => {
      const jobs = held;
      held = null;
      jobs.forEach(push);
    });
  };
  const dispatch = (type, data, id) => {
    if (type === "reset") {
      lastId = id;
      return push(reset);
    }
    if (id) {
      if (!after(id, lastId)) return;
      lastId = id;
    }
    let ev;
    try { ev = JSON.parse(data); } catch (e) { ev = { type, data }; }
    if (ev.id != null) {
      const now = Date.now();
      if (seen.get(ev.id) > now - 36e5) return;
      seen.set(ev.id, now).size > 1e3 && seen.delete(seen.keys().next().value);
    }
    ev.position = id;
    push(() => emit(type, ev));
  };

  const stop = () => {
    if (ctrl) ctrl.abort();
    ctrl = null;
    clearTimeout(timer);
  };
  const retry = (reason, ms) => {
    stop();
    if (ms == null) ms = Math.round(Math.random() * Math.min(cap, base * 2 ** tries++));
    set("reconnecting", { reason, retryInMs: ms });
    timer = setTimeout(open, ms);
  };
  const renew = () => {
    clearTimeout(renewT);
    const left = expOf(token || "") * 1000 - Date.now();
    if (!o.getToken || !(left > 0)) return;  // no exp (NaN) or expired: the 401 path renews
    renewT = setTimeout(async () => {
      try {
        token = await o.getToken();
        renew();
        if (status === "open") open();
      } catch (e) { later(e); }
    }, Math.min(2e9, Math.max(1000, left - Math.min(30000, left / 4))));  // setTimeout's range
  };
  const waitOf = (res) => {
    const h = res.headers.get("Retry-After");
    const ms = h && (isNaN(h) ? Date.parse(h) - Date.now() : h * 1000);
    return ms > 0 ? ms : null;
  };

  async function open() {
    clearTimeout(timer);
    const prev = ctrl, ctl = (ctrl = new AbortController());
    let seen = Date.now(), hb = 15000, why = "network", openedAt = 0, dog;
    const watch = () => {
      const left = seen + hb * 2.5 - Date.now();
      if (left > 0) dog = setTimeout(watch, left);
      else { why = "dead"; ctl.abort(); }
    };
    watch();
    try {
      if (!token && o.getToken) { token = await o.getToken(); renew(); }
      const headers = { Accept: "text/event-stream" };
      if (token) headers.Authorization = "Bearer " + token;
      if (lastId) headers["Last-Event-ID"] = lastId;
      let res;
      try {
        res = await fetch(url, { headers, signal: ctl.signal, credentials: "include", cache: "no-store" });
      } finally {
        if (prev) prev.abort();
      }
      const code = res.status;
      if (code !== 200) {
        clearTimeout(dog);
        if (ctl !== ctrl) return;
        if (code === 204) return close("no_content");
        if (code === 401 && o.getToken && !authRetried) {
          authRetried = true;
          token = await o.getToken();
          renew();
          return open();
        }
        if (code === 401 || code === 403 || code === 400) return close("http_" + code);
        return retry("http_" + code, code === 429 || code === 503 ? waitOf(res) : null);
      }
      authRetried = false;
      openedAt = Date.now();
      set("open");
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "", data = [], type = "", id = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        seen = Date.now();
        const lines = (buf + value).split(/\r?\n/);
        buf = lines.pop();
        for (const line of lines) {
          if (!line) {
            if (data.length) dispatch(type || "message", data.join("\n"), id);
            data = []; type = id = "";
            continue;
          }
          const i = line.indexOf(":");
          if (!i) {
            const m = /heartbeat_ms=(\d+)/.exec(line);
            if (m) { hb = +m[1]; clearTimeout(dog); watch(); }
            continue;
          }
          const field = i < 0 ? line : line.slice(0, i);
          const v = i < 0 ? "" : line.slice(line[i + 1] === " " ? i + 2 : i + 1);
          if (field === "data") data.push(v);
          else if (field === "event") type = v;
          else if (field === "id") id = v;
        }
      }
      why = "ended";
    } catch (e) {
      if (e.name !== "AbortError" && e.name !== "TypeError") later(e);
    }
    clearTimeout(dog);
    if (ctl !== ctrl) return;
    if (openedAt && Date.now() - openedAt > 5000) tries = 0;
    retry(why);
  }

  function close(reason = "closed") {
    stop();
    clearTimeout(renewT);
    clearTimeout(hideT);
    document.removeEventListener("visibilitychange", onVisible);
    set("closed", { reason });
  }
  function onVisible() {
    clearTimeout(hideT);
    if (!document.hidden) {
      if (status === "paused") { set("connecting"); open(); }
    } else if (hide !== false && status !== "closed") {
      hideT = setTimeout(() => { stop(); set("paused", { reason: "hidden" }); }, hide);
    }
  }

  document.addEventListener("visibilitychange", onVisible);
  if (document.hidden) onVisible();
  queueMicrotask(() => {  // after the caller's onStatus(...) registrations
    if (status === "closed") return;
    set("connecting");
    renew();
    open();
  });
  const add = (list, f) => (list.push(f), () => list.splice(list.indexOf(f) >>> 0, 1));
  return {
    on: (type, f) => add((fns[type] ||= []), f),
    onStatus: (f) => add(statusFns, f),
    onReset: (f) => add(resetFns, f),
    close: () => close(),
    get status() { return status; },
    get lastEventId() { return lastId; },
  };
}
