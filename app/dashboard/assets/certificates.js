// Certificate page: the station's connection state is refreshed on the station's live events
// (dashboard.js). Events sent before the live socket opened are missed, so the state is also
// re-read once each time the socket becomes live (first load, reconnects).
(function () {
  "use strict";

  function watch() {
    var indicator = document.getElementById("live-state");
    var target = document.getElementById("station-state");
    if (!indicator || !target || !("MutationObserver" in window)) {
      return;
    }
    new MutationObserver(function () {
      if (indicator.getAttribute("data-state") === "live") {
        target.dispatchEvent(new CustomEvent("live", { detail: null }));
      }
    }).observe(indicator, { attributes: true, attributeFilter: ["data-state"] });
  }

  document.addEventListener("DOMContentLoaded", watch);
})();
