// Configuration editor: the "Does this URL match?" tester. The rest of the page works without it.
(() => {
  "use strict";

  const box = document.querySelector("[data-url-tester]");
  if (!box) return;
  const patternInput = box.querySelector("#tester-pattern");
  const urlInput = box.querySelector("#tester-url");
  const result = box.querySelector("[data-tester-result]");
  const entries = box.querySelector("#tester-entries");
  const button = box.querySelector("[data-tester-run]");

  // Offer the redirect entries typed in the form, patterns first.
  const refreshEntries = () => {
    const lines = [];
    document.querySelectorAll('textarea[data-url-list="redirect_urls"]').forEach((area) => {
      area.value.split("\n").map((line) => line.trim()).filter(Boolean).forEach((line) => {
        if (!lines.includes(line)) lines.push(line);
      });
    });
    lines.sort((a, b) => Number(b.startsWith("^")) - Number(a.startsWith("^")));
    entries.replaceChildren(...lines.map((line) => {
      const option = document.createElement("option");
      option.value = line;
      return option;
    }));
    if (!patternInput.value && lines.length) patternInput.value = lines[0];
  };

  const show = (text, state) => {
    result.textContent = text;
    result.dataset.state = state;
  };

  const run = async () => {
    const pattern = patternInput.value.trim();
    const url = urlInput.value.trim();
    if (!pattern || !url) {
      show("Enter an entry and a URL.", "error");
      return;
    }
    const query = new URLSearchParams({ pattern, url });
    show("Testing…", "busy");
    try {
      const response = await fetch(`${box.dataset.endpoint}?${query}`, {
        headers: { Accept: "application/json" }, credentials: "same-origin",
      });
      const data = await response.json();
      if (data.error) show(data.error, "error");
      else if (data.matches) show("Yes: this URL matches.", "match");
      else show(`No: this URL does not match.${data.reason ? ` ${data.reason}` : ""}`, "nomatch");
    } catch (error) {
      show("The test could not run; try again.", "error");
    }
  };

  button.addEventListener("click", run);
  [patternInput, urlInput].forEach((input) => input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      run();
    }
  }));
  document.querySelectorAll('textarea[data-url-list="redirect_urls"]').forEach((area) => {
    area.addEventListener("change", refreshEntries);
  });
  refreshEntries();
  box.hidden = false;
})();
