// The progress of an ERP sync run: poll its JSON every 2 s until the run has finished.
(function () {
  var box = document.querySelector(".erp-progress[data-progress-url]");
  if (!box || !window.fetch) return;
  var url = box.getAttribute("data-progress-url");
  function part(name) { return box.querySelector('[data-progress="' + name + '"]'); }
  // The error is read out when a poll brings it: an alert region must be there before its text is.
  var errorBox = part("error");
  if (errorBox && !errorBox.hasAttribute("role")) errorBox.setAttribute("role", "alert");
  function show(data) {
    part("state").textContent = data.state_label;
    var bar = part("bar");
    bar.value = data.percent;
    bar.textContent = data.percent + "%";
    // A finished run's last phase would read as if it were still at work.
    part("phase").textContent = !data.finished ? (data.phase || "Waiting for a worker")
      : (data.state !== "succeeded" && data.phase ? "Stopped at: " + data.phase : "Finished");
    part("numbers").textContent = data.processed + " of " + data.total + " records";
    var c = data.counts;
    part("counts").textContent = c.created + " created, " + c.updated + " updated, " + c.pushed +
      " pushed, " + c.skipped + " skipped";
    var error = part("error");
    if (error.textContent !== (data.error || "")) error.textContent = data.error || "";  // said once
    error.hidden = !data.error;
    if (data.finished) {
      box.setAttribute("data-finished", data.state);
      part("refresh").textContent = "Refresh the page to see the run in the history";
    }
  }
  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return;  // signed out or gone: the refresh link still works
        show(data);
        if (!data.finished) window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 2000); });
  }
  window.setTimeout(poll, 2000);
})();
