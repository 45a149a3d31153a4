/*
 * Draw the static effective-rate panels that optimlib.static_widgets writes
 * into the book's pages, with plotly.js served from the site.
 *
 * optimlib computed every curve for every grid point of the controls ahead
 * of time. This script decodes the stored curves of the selected grid point
 * and hands them to plotly.js: it computes no effective rate itself.
 *
 * After each draw a panel fires "optimlib-panel-drawn", whose detail.elapsed
 * is the time in ms since the control moved. The browser tests and the
 * latency benchmark listen for it.
 */
(function () {
  "use strict";

  var PLOTLY_URL = new URL(
    "../vendor/plotly/plotly-basic.min.js", document.currentScript.src
  ).href;
  var plotlyLoaded = null;
  var panelCount = 0;

  function loadPlotly() {
    if (window.Plotly) {
      return Promise.resolve(window.Plotly);
    }
    if (plotlyLoaded === null) {
      plotlyLoaded = new Promise(function (resolve, reject) {
        var tag = document.createElement("script");
        tag.src = PLOTLY_URL;
        tag.onload = function () { resolve(window.Plotly); };
        tag.onerror = function () {
          reject(new Error("failed to load " + PLOTLY_URL));
        };
        document.head.appendChild(tag);
      });
    }
    return plotlyLoaded;
  }

  // base64 of little-endian uint16 codes, as encode_log_uint16 writes them.
  function decodeCodes(base64) {
    var bytes = atob(base64);
    var codes = new Uint16Array(bytes.length / 2);
    for (var i = 0; i < codes.length; i++) {
      codes[i] = bytes.charCodeAt(2 * i) | (bytes.charCodeAt(2 * i + 1) << 8);
    }
    return codes;
  }

  // The stored rates of one part for the selected grid point, one array per
  // curve. shape is (control dims..., curves, points) in C order.
  function lookUp(part, codes, selected) {
    var offset = 0;
    part.dims.forEach(function (name, axis) {
      offset = offset * part.shape[axis] + selected[name];
    });
    var curves = part.shape[part.dims.length];
    var points = part.shape[part.dims.length + 1];
    offset *= curves * points;
    var result = [];
    for (var c = 0; c < curves; c++) {
      var rates = new Array(points);
      for (var k = 0; k < points; k++) {
        var code = codes[offset + c * points + k];
        rates[k] = Math.pow(10, part.low + part.step * code);
      }
      result.push(rates);
    }
    return result;
  }

  function buildControl(container, control, id, onInput) {
    var row = document.createElement("div");
    row.className = "optimlib-panel-control";
    var label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = control.label;
    var input = document.createElement("input");
    input.type = "range";
    input.id = id;
    input.min = "0";
    input.max = String(control.values.length - 1);
    input.step = "1";
    input.value = String(control.initial);
    input.dataset.control = control.name;
    var output = document.createElement("output");
    output.htmlFor = id;

    function show() {
      var text = control.texts[Number(input.value)];
      output.textContent = text;
      input.setAttribute("aria-valuetext", text);
    }
    show();
    input.addEventListener("input", function () {
      show();
      onInput();
    });
    row.appendChild(label);
    row.appendChild(input);
    row.appendChild(output);
    container.appendChild(row);
    return input;
  }

  function layoutFor(spec) {
    return {
      height: 420,
      margin: { l: 70, r: 20, t: 10, b: 50 },
      paper_bgcolor: "#ffffff",
      plot_bgcolor: "#ffffff",
      font: { color: "#222222" },
      // Fixed axes: a change of scale or eta moves the curves, as it does in
      // the live panel, instead of relabelling the y axis. Ticks on the step
      // axis only at powers of 10 make each redraw about 2 ms faster.
      xaxis: {
        type: "log", title: { text: spec.xTitle },
        range: [0, Math.log10(spec.steps[spec.steps.length - 1])], dtick: 1,
        fixedrange: true, exponentformat: "power", gridcolor: "#dddddd",
      },
      yaxis: {
        type: "log", title: { text: spec.yTitle }, range: spec.yRange,
        fixedrange: true, exponentformat: "power", gridcolor: "#dddddd",
      },
      legend: { orientation: "h", x: 0, y: -0.2, xanchor: "left", yanchor: "top" },
      showlegend: true,
    };
  }

  function setUp(panel, Plotly) {
    var dataTag = panel.querySelector("script.optimlib-panel-data");
    var spec = JSON.parse(dataTag.textContent);
    var codes = spec.parts.map(function (part) { return decodeCodes(part.data); });
    var number = ++panelCount;

    var controls = document.createElement("div");
    controls.className = "optimlib-panel-controls";
    var plot = document.createElement("div");
    plot.className = "optimlib-panel-plot";
    plot.setAttribute("role", "img");
    plot.setAttribute("aria-label", spec.description);
    panel.insertBefore(controls, panel.firstChild);
    panel.insertBefore(plot, controls.nextSibling);

    var inputs = {};
    var layout = layoutFor(spec);
    var config = { displayModeBar: false, responsive: true };

    function traces() {
      var selected = {};
      Object.keys(inputs).forEach(function (name) {
        selected[name] = Number(inputs[name].value);
      });
      var curves = [];
      spec.parts.forEach(function (part, p) {
        curves = curves.concat(lookUp(part, codes[p], selected));
      });
      return curves.map(function (rates, k) {
        var style = spec.traces[k];
        return {
          type: "scatter", mode: "lines", name: style.name,
          x: spec.steps, y: rates, line: style.line,
        };
      });
    }

    function draw(start) {
      return Plotly.react(plot, traces(), layout, config).then(function () {
        panel.dispatchEvent(new CustomEvent("optimlib-panel-drawn", {
          detail: { elapsed: performance.now() - start },
        }));
      });
    }

    spec.controls.forEach(function (control) {
      var id = "optimlib-panel-" + number + "-" + control.name;
      inputs[control.name] = buildControl(controls, control, id, function () {
        draw(performance.now());
      });
    });
    var notice = panel.querySelector(".optimlib-panel-nojs");
    if (notice) {
      notice.remove();
    }
    return draw(performance.now()).then(function () {
      panel.dataset.state = "ready";
    });
  }

  function start() {
    var panels = document.querySelectorAll(".optimlib-panel");
    if (panels.length === 0) {
      return;
    }
    loadPlotly().then(function (Plotly) {
      panels.forEach(function (panel) {
        setUp(panel, Plotly).catch(function (error) {
          panel.dataset.state = "error";
          console.error("optimlib panel: drawing failed:", error);
        });
      });
    }, function (error) {
      panels.forEach(function (panel) { panel.dataset.state = "error"; });
      console.error("optimlib panel:", error.message);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
