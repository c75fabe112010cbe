// Profile editor: show the chosen logo file before it is uploaded. The server checks the file.
(() => {
  "use strict";

  document.addEventListener("DOMContentLoaded", () => {
    const input = document.querySelector(".logo-editor input[type=file]");
    const figure = document.querySelector(".logo-preview");
    if (!input || !figure) return;
    let url = null;
    input.addEventListener("change", () => {
      const file = input.files && input.files[0];
      if (!file) return;
      if (url) URL.revokeObjectURL(url);
      url = URL.createObjectURL(file);
      let img = figure.querySelector("img[data-logo-preview]");
      if (!img) {
        img = document.createElement("img");
        img.width = 160;
        img.height = 160;
        img.dataset.logoPreview = "";
        const placeholder = figure.querySelector("[data-logo-placeholder]");
        if (placeholder) placeholder.replaceWith(img); else figure.prepend(img);
      }
      img.src = url;
      img.alt = `Preview of ${file.name}, not uploaded yet`;
    });
  });
})();
