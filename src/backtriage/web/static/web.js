// backtriage clinician page.  When a live update of the assessment fails (the server cannot be
// reached, or answers with an error), htmx leaves the old assessment in place: a pane that says
// ROUTINE for a form that now has a red flag.  This replaces it with a message saying so.
// Loaded from this origin only (the page's CSP); it builds text nodes, never HTML.
(function () {
  "use strict";

  function outOfDate(event) {
    var pane = document.getElementById("assessment");
    if (!pane || !event.detail || event.detail.elt !== pane) {
      return;
    }
    var xhr = event.detail.xhr;
    var why = event.type === "htmx:responseError" && xhr && xhr.status
      ? "the server answered with error " + xhr.status
      : "the server could not be reached";
    var what = "The assessment could not be updated";
    var todo = " (" + why + "). The earlier one no longer matches the form, so it is hidden. " +
      "Check that backtriage is running, then change a field or press Assess.";
    var heading = document.createElement("h2");
    heading.id = "assessment-title";
    heading.textContent = "Assessment";
    var box = document.createElement("div");
    box.className = "error";
    box.setAttribute("role", "alert");
    var strong = document.createElement("strong");
    strong.textContent = what;
    box.append(strong, todo);
    pane.replaceChildren(heading, box);
    var now = document.getElementById("urgency-now");
    if (now) {
      now.className = "now problem";
      now.textContent = "not updated";
    }
    var status = document.getElementById("live-status");
    if (status) {
      status.textContent = what + todo;
    }
  }

  document.addEventListener("htmx:sendError", outOfDate);
  document.addEventListener("htmx:responseError", outOfDate);
})();
