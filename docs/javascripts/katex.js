// Render the maths of each page with the vendored KaTeX (docs/assets/katex).
// pymdownx.arithmatex (generic mode) wraps formulas in \( \) and \[ \].
document$.subscribe(({ body }) => {
  renderMathInElement(body, {
    delimiters: [
      { left: "$$", right: "$$", display: true },
      { left: "\\[", right: "\\]", display: true },
      { left: "\\(", right: "\\)", display: false },
    ],
    throwOnError: false,
  });
});
