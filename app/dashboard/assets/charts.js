// Chargeline dashboard charts: a session's charging curve drawn with uPlot.
//
// An element with data-curve-url="..." gets the curve fetched from that JSON (power_kw,
// energy_kwh and plan_kw series, each {t: [epoch seconds], y: [values]}) and drawn on one time
// axis: power and the plan in kW on the left, energy in kWh on the right. With
// data-live-station it is fetched again on that station's live events (dashboard.js), at most
// once a second. After each drawing the element carries data-drawn, data-points (times on the
// axis), data-series (lines) and data-readings (meter readings behind them), for tests and
// for anyone curious. Without this script the page's meter values table shows the same data.
(function () {
  "use strict";

  var HEIGHT = 320;
  var REFETCH_MS = 1000;

  function tables(body) {
    var sets = [
      [body.power_kw.t, body.power_kw.y],
      [body.energy_kwh.t, body.energy_kwh.y]
    ];
    var planned = body.plan_kw.t.length > 0;
    if (planned) {
      sets.push([body.plan_kw.t, body.plan_kw.y]);
    }
    return { data: window.uPlot.join(sets), planned: planned };
  }

  // Both value axes start at zero (a curve from 7.1 to 7.4 kW is nearly flat, not a cliff).
  function fromZero(u, min, max) {
    return [0, max > 0 ? max * 1.05 : 1];
  }

  // Times in UTC, as the pages print them.
  function utc(ts) {
    return window.uPlot.tzDate(new Date(ts * 1000), "Etc/UTC");
  }

  function options(width, planned) {
    var series = [
      { label: "Time (UTC)" },
      { label: "Power (kW)", scale: "kw", stroke: "#1f6feb", width: 2, spanGaps: true },
      { label: "Energy (kWh)", scale: "kwh", stroke: "#2da44e", width: 2, spanGaps: true }
    ];
    if (planned) {
      series.push({ label: "Plan (kW)", scale: "kw", stroke: "#9a6700", width: 2, dash: [6, 4], spanGaps: true });
    }
    return {
      width: width,
      height: HEIGHT,
      tzDate: utc,
      scales: { x: { time: true }, kw: { range: fromZero }, kwh: { range: fromZero } },
      series: series,
      axes: [
        {},
        { scale: "kw", label: "kW" },
        { scale: "kwh", label: "kWh", side: 1, grid: { show: false } }
      ]
    };
  }

  function Curve(element) {
    this.element = element;
    this.url = element.getAttribute("data-curve-url");
    this.plot = null;
    this.planned = false;
    this.busy = false;
    this.again = false;
    this.last = 0;
    this.status = document.getElementById("curve-status");
  }

  Curve.prototype.say = function (text) {
    if (this.status) {
      this.status.textContent = text;
    }
  };

  Curve.prototype.draw = function (body) {
    var table = tables(body);
    var points = table.data[0].length;
    if (points === 0) {
      this.say("No power or energy readings yet.");
    } else {
      this.say(body.thinned ? "Thinned to " + points + " points from " + body.readings + " readings." : "");
    }
    if (this.plot && this.planned === table.planned) {
      this.plot.setData(table.data);
    } else {
      if (this.plot) {
        this.plot.destroy();
      }
      this.element.textContent = "";
      this.planned = table.planned;
      this.plot = new window.uPlot(options(this.width(), table.planned), table.data, this.element);
    }
    this.element.setAttribute("data-points", String(points));
    this.element.setAttribute("data-series", String(table.data.length - 1));
    this.element.setAttribute("data-readings", String(body.readings));
    this.element.setAttribute("data-drawn", "true");
  };

  Curve.prototype.width = function () {
    return Math.max(300, this.element.clientWidth || 600);
  };

  Curve.prototype.fetch = function () {
    var self = this;
    if (self.busy) {
      self.again = true;
      return;
    }
    self.busy = true;
    self.last = Date.now();
    window.fetch(self.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (body) {
        self.draw(body);
      })
      .catch(function () {
        self.say("The curve could not be loaded; the meter values below are current as of page load.");
      })
      .then(function () {
        self.busy = false;
        if (self.again) {
          self.again = false;
          self.soon();
        }
      });
  };

  Curve.prototype.soon = function () {
    var self = this;
    var wait = Math.max(0, self.last + REFETCH_MS - Date.now());
    if (self.timer) {
      return;
    }
    self.timer = window.setTimeout(function () {
      self.timer = null;
      self.fetch();
    }, wait);
  };

  Curve.prototype.resize = function () {
    if (this.plot) {
      this.plot.setSize({ width: this.width(), height: HEIGHT });
    }
  };

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.uPlot || !window.fetch) {
      return;
    }
    document.querySelectorAll("[data-curve-url]").forEach(function (element) {
      var curve = new Curve(element);
      element.addEventListener("live", function () {
        curve.soon();
      });
      window.addEventListener("resize", function () {
        curve.resize();
      });
      curve.fetch();
    });
  });
})();
