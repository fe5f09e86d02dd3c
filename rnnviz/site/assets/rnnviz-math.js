/* Typeset the math of a page with the KaTeX copy shipped in rnnviz (no CDN).
   pymdownx.arithmatex (generic mode) leaves \( ... \) in span.arithmatex and
   \[ ... \] in div.arithmatex; Material's instant navigation reloads the page body
   through document$, so typeset on each of its pages. */
(function () {
  "use strict";
  function typeset(root) {
    if (typeof window.katex === "undefined") { return; }
    root.querySelectorAll(".arithmatex").forEach(function (el) {
      if (el.getAttribute("data-rnnviz-typeset")) { return; }
      var tex = el.textContent.trim();
      var display = el.tagName === "DIV";
      if (/^\\[\(\[]/.test(tex)) { tex = tex.slice(2, -2); }
      else if (/^\$\$/.test(tex)) { tex = tex.slice(2, -2); display = true; }
      else if (/^\$/.test(tex)) { tex = tex.slice(1, -1); }
      window.katex.render(tex, el, { displayMode: display, throwOnError: false, output: "htmlAndMathml" });
      el.setAttribute("data-rnnviz-typeset", "1");
    });
  }
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(function () { typeset(document.body); });
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { typeset(document.body); });
  } else {
    typeset(document.body);
  }
})();
