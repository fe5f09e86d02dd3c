/* rnnviz diagrams that are scaled down to the text column can be clicked to see them at
   their drawn size, scrolling sideways inside their block (click again to fit). The
   "Open full size" link under them does the same in a tab of its own. */
(function () {
  "use strict";
  function setUp(root) {
    root.querySelectorAll(".rnnviz svg.rnnviz-svg").forEach(function (svg) {
      var block = svg.closest(".rnnviz");  // each drawing of a block (and its narrow copy) zooms it
      if (!block || svg.getAttribute("data-rnnviz-zoom")) { return; }
      svg.setAttribute("data-rnnviz-zoom", "1");
      svg.addEventListener("click", function () {
        if (!block.classList.contains("rnnviz-zoomed") && svg.getBoundingClientRect().width + 1 >= natural(svg)) {
          return;  // already at its drawn size: nothing to zoom
        }
        block.classList.toggle("rnnviz-zoomed");
      });
    });
  }
  function natural(svg) {  // the drawn width in CSS pixels (inline style width: ...pt)
    var w = svg.style.width || "";
    var n = parseFloat(w);
    return /pt$/.test(w) ? n * 4 / 3 : n;
  }
  function shown(svg) { return svg.getBoundingClientRect().width > 0; }  // not the hidden copy of a pair
  function mark(svg, block) {
    var scaled = svg.getBoundingClientRect().width + 1 < natural(svg);
    block.classList.toggle("rnnviz-scaled", scaled || block.classList.contains("rnnviz-zoomed"));
    svg.setAttribute("title", scaled ? "Click to see the diagram at its full size" :
      (block.classList.contains("rnnviz-zoomed") ? "Click to fit the diagram to the page" : ""));
  }
  function remark() {  // a block with a copy for narrow screens: the drawing the reader sees decides
    document.querySelectorAll(".rnnviz svg.rnnviz-svg").forEach(function (svg) {
      if (shown(svg)) { mark(svg, svg.closest(".rnnviz")); }
    });
  }
  function start() { setUp(document.body); remark(); }
  window.addEventListener("resize", remark);
  document.addEventListener("click", function () { setTimeout(remark, 0); });
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(start);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
