// Chargeline dashboard: the CSRF header for htmx, and live station events.
//
// Live parts: an element with data-live-any="" gets a "live" event for station events, one with
// data-live-station="<station id>" for that station's events only; give it hx-trigger="live"
// and an hx-get to refresh itself. Events are coalesced per element: the first at once, then at
// most one a second while they keep coming, and always one after the last (htmx's own throttle
// drops the events inside its window, so a stop right after a start would stay unseen). Each
// time the socket (re)opens every live part gets one "live" too (detail null): events sent
// while it was closed are not lost from view. The last message is in event.detail. Pages work
// without this script: only the live parts need it.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var token = csrfToken();
    if (token) {
      event.detail.headers["X-CSRF-Token"] = token;
    }
  });

  var WINDOW_MS = 1000;
  var coalescing = new WeakMap();

  function fire(element, state) {
    var message = state.message;
    state.pending = false;
    element.dispatchEvent(new CustomEvent("live", { detail: message }));
    state.timer = window.setTimeout(function () {
      state.timer = null;
      if (state.pending) {
        fire(element, state);
      }
    }, WINDOW_MS);
  }

  function poke(element, message) {
    var state = coalescing.get(element);
    if (!state) {
      state = { timer: null, pending: false, message: null };
      coalescing.set(element, state);
    }
    state.message = message;
    if (state.timer !== null) {
      state.pending = true;
    } else {
      fire(element, state);
    }
  }

  function deliver(message) {
    var targets = document.querySelectorAll("[data-live-any], [data-live-station]");
    targets.forEach(function (element) {
      var station = element.getAttribute("data-live-station");
      if (message === null || station === null || station === message.station_id) {
        poke(element, message);
      }
    });
    if (message !== null) {
      document.body.dispatchEvent(new CustomEvent("station-event", { detail: message }));
    }
  }

  function setState(text) {
    var state = document.getElementById("live-state");
    if (state) {
      state.textContent = text;
      state.setAttribute("data-state", text);
    }
  }

  function connect(path, delay) {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + path);
    socket.addEventListener("open", function () {
      delay = 1000;
      setState("live");
      deliver(null); // catch up with what happened while the socket was closed
    });
    socket.addEventListener("message", function (event) {
      try {
        deliver(JSON.parse(event.data));
      } catch (error) {
        // a message we cannot read is skipped; the next refresh shows the truth
      }
    });
    socket.addEventListener("close", function (event) {
      if (event.code === 1008) {
        setState("offline");
        return; // refused: the session ended; the next page load goes to the login page
      }
      setState("reconnecting");
      window.setTimeout(function () {
        connect(path, Math.min(delay * 2, 30000));
      }, delay);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var path = document.body.getAttribute("data-live-events");
    if (path && "WebSocket" in window) {
      connect(path, 1000);
    }
  });
})();
