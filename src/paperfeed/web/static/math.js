// Render LaTeX math ($...$, $$...$$, \(...\)) in titles and abstracts with the vendored KaTeX.
// The math comes from the catalog, so anyone can write it: KaTeX may draw nothing larger than
// maxSize (\rule{300em}{300em} painted over the page), expand macros only maxExpand times
// (\def\a{\a\a}\a), and run no command that needs trust (\href, \url, \includegraphics,
// \htmlClass...). Math KaTeX cannot typeset stays as the text it was written as: KaTeX would
// colour it with a style attribute, which the Content-Security-Policy (style-src 'self') refuses.
document.addEventListener("DOMContentLoaded", function () {
  if (typeof renderMathInElement !== "function") return;
  document.querySelectorAll(".tex").forEach(function (element) {
    renderMathInElement(element, {
      delimiters: [
        { left: "$$", right: "$$", display: true },
        { left: "$", right: "$", display: false },
        { left: "\\(", right: "\\)", display: false },
      ],
      throwOnError: true,
      errorCallback: function () {},
      maxSize: 5,
      maxExpand: 100,
      trust: false,
    });
  });
});
