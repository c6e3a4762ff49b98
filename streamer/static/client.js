/* hookstream browser client: no dependencies.
 *
 *   const sub = hookstream.subscribe({
 *     url: "http://localhost:8001/events",
 *     topics: ["demo/#"],
 *     onEvent: (envelope, sseEvent) => {...},   // envelope = {id, topic, type, data, time, source}
 *     onReset: () => refetchEverything(),        // history was trimmed past our position
 *     onStatus: (status) => {...},               // "connecting" | "open" | "closed"
 *     token: "eyJ...",                           // optional JWT for private topics, or
 *     getToken: () => fetch("/token").then(r => r.text()),  // a fresh one per (re)connect
 *   });
 *   sub.close();
 *
 * EventSource resends Last-Event-ID itself after a network drop or a drained
 * stream (the server's header wins over the URL's older ?lastEventId=). When the
 * browser gives up (an error status: 401 once the token expired, 429, 503), we
 * reopen after a jittered delay with ?lastEventId= and, with getToken, a fresh
 * token, so nothing is missed. `event: reset` means the position is older than
 * the server's history: refetch your state; the stream continues from its id.
 */
(function (root) {
  "use strict";

  function subscribe(options) {
    var lastId = options.lastEventId || null;
    var source = null;
    var closed = false;
    var status = options.onStatus || function () {};

    function buildUrl(token) {
      var url = new URL(options.url, window.location.href);
      options.topics.forEach(function (t) { url.searchParams.append("topic", t); });
      if (lastId) url.searchParams.set("lastEventId", lastId);
      if (token) url.searchParams.set("access_token", token);
      return url.toString();
    }

    function withToken(then) {
      if (!options.getToken) return then(options.token || null);
      Promise.resolve(options.getToken()).then(then, function () {
        setTimeout(open, 1000 + Math.random() * 4000);
      });
    }

    function handle(sseEvent) {
      if (sseEvent.lastEventId) lastId = sseEvent.lastEventId;
      var envelope;
      try { envelope = JSON.parse(sseEvent.data); } catch (e) { return; }
      if (options.onEvent) options.onEvent(envelope, sseEvent);
    }

    function open() {
      if (closed) return;
      status("connecting");
      withToken(connect);
    }

    function connect(token) {
      if (closed) return;
      source = new EventSource(buildUrl(token), { withCredentials: !!options.withCredentials });
      source.onopen = function () { status("open"); };
      source.onmessage = handle;
      (options.types || []).forEach(function (t) { source.addEventListener(t, handle); });
      source.addEventListener("reset", function (e) {
        if (e.lastEventId) lastId = e.lastEventId;
        if (options.onReset) options.onReset();
      });
      source.onerror = function () {
        if (source.readyState === EventSource.CLOSED) {
          status("closed");
          var delay = 500 + Math.random() * 2500;
          setTimeout(open, delay);
        } else {
          status("connecting");
        }
      };
    }

    open();
    return {
      close: function () { closed = true; if (source) source.close(); status("closed"); },
      get lastEventId() { return lastId; },
    };
  }

  root.hookstream = { subscribe: subscribe };
})(typeof window !== "undefined" ? window : this);
