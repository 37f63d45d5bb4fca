// Chargeline dashboard, fleet pages: live parts that never miss the last change.
//
// An element with data-live-settle="" (and data-live-any or data-live-station) gets a
// "live-refresh" event for the first station event at once, then at most once a second while
// events keep coming, and once more after the last of them. Give it
// hx-trigger="live-refresh" to re-fetch itself. (htmx's "throttle" drops the events inside its
// window, so a StatusNotification right after a StartTransaction would stay unseen.)
(function () {
  "use strict";

  var WINDOW_MS = 1000;
  var states = new WeakMap();

  function fire(element, state) {
    state.pending = false;
    element.dispatchEvent(new CustomEvent("live-refresh"));
    state.timer = window.setTimeout(function () {
      state.timer = null;
      if (state.pending) {
        fire(element, state);
      }
    }, WINDOW_MS);
  }

  function watch(element) {
    var state = { timer: null, pending: false };
    states.set(element, state);
    element.addEventListener("live", function () {
      if (state.timer !== null) {
        state.pending = true;
      } else {
        fire(element, state);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-live-settle]").forEach(function (element) {
      if (!states.has(element)) {
        watch(element);
      }
    });
  });
})();
