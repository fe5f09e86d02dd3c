/* A step slider under every unrolled diagram of a page: its nodes and edges carry
   data-step (rnnviz.diagrams.frames.stepped_svg); moving the slider to k shows steps 0..k
   and fades the later ones, so a lecture can reveal the forward pass step by step. Each
   drawing of a block with a copy for narrow screens has its own slider, inside its
   .rnnviz-wide or .rnnviz-tall box, so it shows and hides with its drawing. */
(function () {
  "use strict";
  var FADED = "0.12";
  function steps(svg) {
    var seen = {};
    svg.querySelectorAll("[data-step]").forEach(function (el) {
      seen[parseInt(el.getAttribute("data-step"), 10)] = true;
    });
    return Object.keys(seen).map(Number).filter(function (k) { return k >= 1; }).sort(function (a, b) { return a - b; });
  }
  function show(svg, k) {
    svg.querySelectorAll("[data-step]").forEach(function (el) {
      var later = parseInt(el.getAttribute("data-step"), 10) > k;
      el.style.opacity = later ? FADED : "";
      el.classList.toggle("rnnviz-step-hidden", later);
    });
  }
  function setUp(root) {
    root.querySelectorAll(".rnnviz svg.rnnviz-svg").forEach(function (svg) {
      var block = svg.closest(".rnnviz-wide, .rnnviz-tall") || svg.closest(".rnnviz");
      if (!block || block.querySelector(".rnnviz-steps")) { return; }
      var ks = steps(svg);
      if (ks.length < 2) { return; }
      var last = ks[ks.length - 1];
      var bar = document.createElement("div");
      bar.className = "rnnviz-steps";
      var label = document.createElement("label");
      var input = document.createElement("input");
      input.type = "range";
      input.min = String(ks[0]);
      input.max = String(last);
      input.step = "1";
      input.value = String(last);
      input.setAttribute("aria-label", "time steps shown");
      var out = document.createElement("span");
      function update() {
        var k = parseInt(input.value, 10);
        out.textContent = " steps 1 to " + k + " of " + last;
        show(svg, k);
      }
      input.addEventListener("input", update);
      label.appendChild(document.createTextNode("Step "));
      label.appendChild(input);
      label.appendChild(out);
      bar.appendChild(label);
      svg.insertAdjacentElement("afterend", bar);
      update();
    });
  }
  function start() { setUp(document.body); }
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(start);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
