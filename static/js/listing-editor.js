// Listing editor: live field errors, counters and a tiny rich-text toolbar.
// The page works without this file; the server checks everything again on save.
(() => {
  "use strict";

  const DEBOUNCE_MS = 500;

  const plainText = (html) => {
    const doc = new DOMParser().parseFromString(html || "", "text/html");
    return (doc.body.textContent || "").replace(/\s+/g, " ").trim();
  };
  const wordCount = (html) => {
    const text = plainText(html);
    return text ? text.split(" ").length : 0;
  };
  const lineCount = (text) => (text || "").split("\n").filter((line) => line.trim()).length;

  // ------------------------------------------------------------ counters

  function addCounter(input) {
    const label = input.id && document.querySelector(`label[for="${input.id}"]`);
    if (!label) return;
    const counter = document.createElement("span");
    counter.className = "counter";
    counter.setAttribute("aria-live", "polite");
    label.after(counter);
    const { maxlength, minlength, maxwords, maxlines } = input.dataset;
    const update = () => {
      let used; let max; let unit; let under = false;
      if (maxwords) {
        used = wordCount(input.value); max = Number(maxwords); unit = "words";
      } else if (maxlines) {
        used = lineCount(input.value); max = Number(maxlines); unit = "lines";
      } else {
        used = input.value.trim().length; max = Number(maxlength); unit = "characters";
        under = Boolean(minlength) && used > 0 && used < Number(minlength);
      }
      counter.textContent = minlength
        ? `${used} ${unit} (${minlength}–${max})`
        : `${used} / ${max} ${unit}`;
      counter.classList.toggle("over", used > max);
      counter.classList.toggle("under", under);
    };
    input.addEventListener("input", update);
    update();
  }

  // ------------------------------------------------------------ live errors

  function showErrors(form, errors, touched) {
    form.querySelectorAll("[data-errors-for]").forEach((list) => {
      const name = list.dataset.errorsFor;
      if (!touched.has(name) && list.hidden) return;
      const messages = errors[name] || [];
      list.replaceChildren(...messages.map((text) => {
        const item = document.createElement("li");
        item.textContent = text;
        return item;
      }));
      list.hidden = messages.length === 0;
      const box = list.closest(".field");
      if (box) box.classList.toggle("has-error", messages.length > 0);
      form.querySelectorAll(`[name="${CSS.escape(name)}"]`).forEach((input) => {
        if (messages.length) {
          input.setAttribute("aria-invalid", "true");
        } else {
          input.removeAttribute("aria-invalid");
        }
      });
    });
  }

  function liveValidate(form) {
    const status = form.querySelector("[data-validate-status]");
    const token = form.querySelector("input[name=csrfmiddlewaretoken]");
    const touched = new Set();
    let timer = null;
    let sequence = 0;

    const validate = async () => {
      const mine = ++sequence;
      try {
        const response = await fetch(form.getAttribute("action") || window.location.href, {
          method: "POST",
          body: new FormData(form),
          headers: { "X-Validate-Only": "1", "X-CSRFToken": token ? token.value : "" },
          credentials: "same-origin",
        });
        if (mine !== sequence) return; // a newer check is on its way
        const errors = await response.json();
        showErrors(form, errors, touched);
        const general = errors.__all__ || [];
        const count = Object.keys(errors).length;
        if (status) {
          status.textContent = general.length ? general.join(" ")
            : count ? `${count} field${count > 1 ? "s" : ""} to correct before saving.` : "";
        }
      } catch (err) {
        if (status) status.textContent = "";
      }
    };
    const schedule = (event) => {
      if (!event.target.name) return;
      touched.add(event.target.name);
      clearTimeout(timer);
      timer = setTimeout(validate, event.type === "input" ? DEBOUNCE_MS : 0);
    };
    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
    form.addEventListener("focusout", schedule);
  }

  // ------------------------------------------------------------ rich text

  function toolbar(bar) {
    const area = document.getElementById(bar.dataset.toolbarFor);
    if (!area) return;
    area.before(bar);
    bar.hidden = false;
    bar.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-wrap]");
      if (!button) return;
      const { selectionStart: start, selectionEnd: end, value } = area;
      const selected = value.slice(start, end);
      let replacement;
      switch (button.dataset.wrap) {
        case "ul": {
          const items = (selected || "Item").split("\n").filter((l) => l.trim());
          replacement = `<ul>\n${items.map((l) => `<li>${l.trim()}</li>`).join("\n")}\n</ul>`;
          break;
        }
        case "a": {
          const href = window.prompt("Link address (https://…)", "https://");
          if (!href) return;
          replacement = `<a href="${href.replace(/"/g, "&quot;")}">${selected || href}</a>`;
          break;
        }
        default: {
          const tag = button.dataset.wrap;
          replacement = `<${tag}>${selected}</${tag}>`;
        }
      }
      area.setRangeText(replacement, start, end, "end");
      area.focus();
      area.dispatchEvent(new Event("input", { bubbles: true }));
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("listing-form");
    if (!form) return;
    form.querySelectorAll("[data-maxlength], [data-maxwords], [data-maxlines]").forEach(addCounter);
    if (form.hasAttribute("data-live-validate")) liveValidate(form);
    form.querySelectorAll("[data-toolbar-for]").forEach(toolbar);
  });
})();
