// Credentials page: copy buttons and key downloads. The page works without it (select and copy by hand;
// the download links carry their content as data: addresses).
document.addEventListener("DOMContentLoaded", () => {
  // A secret or private key shown once: bring its whole box into view, heading first, with the
  // focus on its Copy button (autofocus does that much without this script, but may leave the
  // heading above the fold on a phone).
  const reveal = document.querySelector(".reveal-box");
  if (reveal) {
    const copy = reveal.querySelector("[data-copy-field]");
    if (copy) copy.focus({ preventScroll: true });
    reveal.scrollIntoView({ block: "start" });
  }

  const textOf = (el) => ("value" in el && el.tagName !== "BUTTON" ? el.value : el.textContent).trim();

  document.querySelectorAll("[data-copy-field]").forEach((btn) => {
    const label = btn.textContent;
    btn.addEventListener("click", async () => {
      const target = document.getElementById(btn.dataset.copyField);
      if (!target) return;
      try {
        await navigator.clipboard.writeText(textOf(target));
        btn.textContent = "Copied";
      } catch (err) {
        // No clipboard access (plain http, old browser): select the text for Ctrl+C instead.
        if (target.select) { target.focus(); target.select(); }
        else { const range = document.createRange(); range.selectNodeContents(target);
          const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range); }
        btn.textContent = "Press Ctrl+C";
      }
      setTimeout(() => { btn.textContent = label; }, 2500);
    });
  });

  // Downloads from the text on the page through a Blob, so nothing goes back to the server.
  document.querySelectorAll("a[data-download-field]").forEach((link) => {
    link.addEventListener("click", (event) => {
      const target = document.getElementById(link.dataset.downloadField);
      if (!target || !window.Blob || !URL.createObjectURL) return;
      event.preventDefault();
      const url = URL.createObjectURL(new Blob([textOf(target) + "\n"], { type: "application/octet-stream" }));
      const temp = document.createElement("a");
      temp.href = url;
      temp.download = link.getAttribute("download");
      document.body.appendChild(temp);
      temp.click();
      temp.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    });
  });
});
