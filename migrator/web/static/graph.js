"use strict";
// The dependency graph: graphology + sigma.js (WebGL), data from /api/graph, layout from the server.
(function () {
  var container = document.getElementById("graph");
  if (!container) return;
  var status = document.getElementById("graph-status");
  var palette = ["#4e79a7", "#f28e2b", "#59a14f", "#76b7b2", "#edc948", "#b07aa1", "#9c755f", "#bab0ac", "#86bcb6", "#8cd17d"];  // no red: red marks cross-wave edges
  var renderer = null;

  function colour(wave) { return wave ? palette[(wave - 1) % palette.length] : "#999999"; }

  function draw(data) {
    var graph = new graphology.Graph({ multi: false, type: "directed" });
    var maxTraffic = 1;
    data.nodes.forEach(function (n) { maxTraffic = Math.max(maxTraffic, n.traffic || 0); });
    data.nodes.forEach(function (n) {
      graph.addNode(n.id, {
        x: n.x, y: n.y, label: n.label, color: colour(n.wave), url: n.url,
        size: 4 + 9 * Math.sqrt((n.traffic || 0) / maxTraffic),
      });
    });
    data.edges.forEach(function (e) {
      if (!graph.hasEdge(e.source, e.target)) {
        graph.addEdge(e.source, e.target, {
          color: e.cross_wave ? "#d62728" : "#cccccc", size: e.cross_wave ? 1.5 : 0.5, cross: e.cross_wave,
        });
      }
    });
    if (renderer) renderer.kill();
    renderer = new Sigma(graph, container, {
      renderEdgeLabels: false, labelRenderedSizeThreshold: data.nodes.length > 300 ? 8 : 0,
    });
    renderer.on("clickNode", function (ev) {
      var url = graph.getNodeAttribute(ev.node, "url");
      if (url) window.location.assign(url);
    });
    renderer.once("afterRender", function () {
      container.dataset.firstFrameMs = String(Math.round(performance.now()));  // since navigation start
      container.dataset.rendered = String(data.nodes.length);
      // Where one clickable VM and one external endpoint are drawn (CSS pixels in the container):
      // lets a test click them.
      [["probe", "vm"], ["probeExternal", "external"]].forEach(function (pair) {
        var probe = data.nodes.find(function (n) { return n.url && n.kind === pair[1]; });
        if (!probe) return;
        var at = renderer.graphToViewport({ x: probe.x, y: probe.y });
        container.dataset[pair[0]] = JSON.stringify({ id: probe.id, url: probe.url, x: Math.round(at.x), y: Math.round(at.y) });
      });
    });
    renderer.refresh();
    var cross = data.edges.filter(function (e) { return e.cross_wave; }).length;
    var external = data.nodes.filter(function (n) { return n.kind === "external"; }).length;
    status.textContent = (data.nodes.length - external) + (data.aggregated ? " application groups" : " VMs") +
      (external ? ", " + external + " external endpoints (grey, left of wave 1)" : "") + ", " +
      data.edges.length + " edges (" + cross + " cross-wave, in red); colour = wave, size = traffic; click a node to open its page";
  }

  function load(params) {
    var query = new URLSearchParams();
    Object.keys(params).forEach(function (k) { if (params[k] !== "" && params[k] != null) query.set(k, params[k]); });
    status.textContent = "loading…";
    fetch("/api/graph?" + query.toString(), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("graph API: " + r.status); return r.json(); })
      .then(draw)
      .catch(function (err) { status.textContent = String(err); });
  }

  var initial = { wave: container.dataset.wave || "" };
  var search = new URLSearchParams(window.location.search);
  ["application", "environment", "wave", "aggregate"].forEach(function (k) { if (search.get(k)) initial[k] = search.get(k); });
  var form = document.getElementById("filters");
  if (form) {
    Object.keys(initial).forEach(function (k) { if (form.elements[k]) form.elements[k].value = initial[k]; });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var params = {};
      ["application", "environment", "wave", "aggregate"].forEach(function (k) { params[k] = form.elements[k].value; });
      load(params);
    });
  }
  load(initial);
})();
