"use strict";
(function () {
  var box = document.getElementById("pr-actions");
  if (!box) return;
  var number = box.dataset.number, out = document.getElementById("pr-result");
  function show(res) {
    out.textContent = (res.ok ? "" : "error " + res.status + ": ") + JSON.stringify(res.data, null, 2);
    if (res.ok && res.data.status) document.getElementById("pr-status").textContent = res.data.status;
    if (res.ok && res.data.merge_commit) document.getElementById("pr-status").textContent = "merged";
  }
  document.getElementById("approve").addEventListener("click", function () {
    // team mode has no name field: the server approves as the signed-in person
    var field = document.getElementById("reviewer");
    var body = field ? { by: field.value || "dashboard" } : {};
    window.migrator.post("/api/prs/" + encodeURIComponent(number) + "/approve", body).then(show);
  });
  document.getElementById("merge").addEventListener("click", function () {
    out.textContent = "validating…";
    window.migrator.post("/api/prs/" + encodeURIComponent(number) + "/merge", { use_tools: true }).then(show);
  });
})();
