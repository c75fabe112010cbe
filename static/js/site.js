// Small progressive enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", () => {
  const toggle = document.querySelector(".nav-toggle");
  const nav = document.getElementById("site-nav");
  if (toggle && nav) {
    toggle.addEventListener("click", () => {
      const open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", String(open));
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && nav.classList.contains("open")) {
        nav.classList.remove("open");
        toggle.setAttribute("aria-expanded", "false");
        toggle.focus();
      }
    });
  }
  // Copy buttons: <button data-copy="#id">.
  document.querySelectorAll("[data-copy]").forEach((btn) => {
    btn.addEventListener("click", () => {
      const target = document.querySelector(btn.dataset.copy);
      if (target) navigator.clipboard.writeText(target.textContent.trim());
      btn.textContent = "Copied";
    });
  });
  // Messages that came with the page: errors are role="alert"; the others' text goes into the empty
  // status region once the page is there (a live region filled at load is seldom read out).
  const announcer = document.getElementById("announcer");
  const said = Array.from(document.querySelectorAll(".messages .message:not([role=alert])"),
    (message) => message.textContent.trim()).filter(Boolean);
  if (announcer && said.length) {
    window.setTimeout(() => { announcer.textContent = said.join(" "); }, 300);
  }
  // A refused form's error summary takes the focus, so it is read first; its links move the focus to
  // the control they name: <div data-focus-on-load tabindex="-1">.
  const summary = document.querySelector("[data-focus-on-load]");
  if (summary) {
    summary.focus();
    summary.querySelectorAll("a[href^='#']").forEach((link) => {
      link.addEventListener("click", (event) => {
        const target = document.getElementById(link.getAttribute("href").slice(1));
        if (!target) return;
        event.preventDefault();
        target.scrollIntoView({ block: "center" });
        target.focus();
      });
    });
  }
  // Auto-submit selects in filter bars: <select data-autosubmit>.
  document.querySelectorAll("select[data-autosubmit]").forEach((sel) => {
    sel.addEventListener("change", () => sel.form.submit());
  });
});
