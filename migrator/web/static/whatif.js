"use strict";
// What-if: preview (GET, nothing stored) then save (POST with the CSRF header). All text via textContent.
(function () {
  var form = document.getElementById("whatif");
  var save = document.getElementById("save"), status = document.getElementById("whatif-status");
  var result = document.getElementById("whatif-result");
  var current = null;

  function row(cells) {
    var tr = document.createElement("tr");
    cells.forEach(function (c) { var td = document.createElement("td"); td.textContent = c == null ? "-" : String(c); tr.appendChild(td); });
    return tr;
  }
  function fill(id, rows) {
    var body = document.getElementById(id);
    body.replaceChildren.apply(body, rows.map(row));
  }
  function money(v) { return v == null ? "-" : "$" + Math.round(v).toLocaleString("en-US"); }

  function show(d) {
    fill("moved", d.moved.map(function (m) { return [m.vm, m.from, m.to, m.why]; }));
    fill("effect", [
      ["cross-wave edges", d.cross_wave_before.edges, d.cross_wave_after.edges],
      ["cross-wave GB", (d.cross_wave_before.bytes / 1e9).toFixed(3), (d.cross_wave_after.bytes / 1e9).toFixed(3)],
      ["rule violations", d.violations_before.length, d.violations_after.length],
      ["AWS $/month", money(d.cost_before.aws_monthly_usd), money(d.cost_after.aws_monthly_usd)],
      ["newly unplaced", "", d.unplaced_added.join(", ") || "none"],
    ]);
    fill("waves-changed", d.waves_changed.map(function (n) {
      var b = d.wave_metrics_before[n] || {}, a = d.wave_metrics_after[n] || {};
      return [n, b.vms, a.vms, money(b.aws_monthly_usd), money(a.aws_monthly_usd), b.replication_hours, a.replication_hours];
    }));
    result.hidden = false;
    status.textContent = "Preview against plan " + d.plan_id + ": " + d.moved.length + " VM(s) move, waves changed: " +
      (d.waves_changed.join(", ") || "none") + ". Nothing saved yet.";
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var q = new URLSearchParams({ vm: form.elements.vm.value });
    if (form.elements.wave.value !== "") q.set("wave", form.elements.wave.value);
    status.textContent = "re-planning…";
    save.disabled = true;
    fetch("/api/whatif?" + q.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (d) { return { ok: r.ok, d: d }; }); })
      .then(function (res) {
        if (!res.ok) { status.textContent = "error: " + (res.d.detail || JSON.stringify(res.d)); return; }
        current = { vm: res.d.vm, wave: res.d.wave };
        show(res.d);
        save.disabled = false;
      });
  });
  // Arriving from a VM page's pin form (/whatif?vm=...&wave=...): preview at once.
  var asked = new URLSearchParams(window.location.search);
  if (asked.get("vm")) {
    form.elements.vm.value = asked.get("vm");
    form.elements.wave.value = asked.get("wave") || "";
    form.requestSubmit();
  }
  save.addEventListener("click", function () {
    if (!current) return;
    save.disabled = true;
    window.migrator.post("/api/pins", current).then(function (res) {
      status.textContent = res.ok ? "Saved: new plan " + res.data.plan_id + " (" + (current.wave == null ? "unpinned " : "pinned ") + current.vm + ")."
        : "error: " + (res.data.detail || JSON.stringify(res.data));
    });
  });
})();
