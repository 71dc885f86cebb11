"use strict";
// Timeline bars: width proportional to the wave's VM count (data-attributes, no inline style).
document.querySelectorAll("#timeline .wave").forEach(function (el) {
  var vms = Number(el.dataset.vms) || 0, max = Number(el.dataset.max) || 1;
  el.style.flexGrow = String(Math.max(0.3, vms / max));
});
