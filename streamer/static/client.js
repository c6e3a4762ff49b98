/* hookstream browser client: no dependencies.
 *
 *   const sub = hookstream.subscribe({
 *     url: "http://localhost:8001/events",
 *     topics: ["demo/#"],
 *     onEvent: (envelope, sseEvent) => {...},   // envelope = {id, topic, type, data, time, source}
 *     onReset: () => refetchEverything(),        // history was trimmed past our position
 *     onStatus: (status) => {...},               // "connecting" | "open" | "closed"
 *   });
 *   sub.close();
 *
 * EventSource resends Last-Event-ID itself after a network drop; when the stream
 * ends (server drain) we reopen with ?lastEventId= so nothing is missed.
 */
(function (root) {
  "use strict";

  function subscribe(options) {
    var lastId = options.lastEventId || null;
    var source = null;
    var closed = false;
    var status = options.onStatus || function () {};

    function buildUrl() {
      var url = new URL(options.url, window.location.href);
      options.topics.forEach(function (t) { url.searchParams.append("topic", t); });
      if (lastId) url.searchParams.set("lastEventId", lastId);
      if (options.token) url.searchParams.set("access_token", options.token);
      return url.toString();
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
      source = new EventSource(buildUrl(), { withCredentials: !!options.withCredentials });
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
