// backtriage clinician page.  When a live update of the assessment fails (the server cannot be
// reached, or answers with an error), htmx leaves the old assessment in place: a pane that says
// ROUTINE for a form that now has a red flag.  This replaces it with a message saying so.
// "Clear the form" asks before it clears a form with anything entered (below).
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

  // "Clear the form" asks first, in a modal dialog, when anything is entered: a click by mistake
  // must not lose what a clinician typed.  An empty form is cleared at once (nothing to lose).
  // Without this script the button posts to /web/clear, which asks on a page of its own.
  function entered(form) {
    return Array.prototype.some.call(form.elements, function (control) {
      if (!control.name || !control.matches("input, select, textarea")) {
        return false;
      }
      if (control.hasAttribute("data-goes-with")) {
        return false; // a unit alone (days, weeks) is not an entry
      }
      if ((control.type === "radio" || control.type === "checkbox") && !control.checked) {
        return false;
      }
      var value = control.value.trim();
      return value !== "" && value !== "unknown"; // as the server reads the form
    });
  }

  var intake = document.getElementById("intake");
  var ask = document.getElementById("confirm-clear");
  if (intake && ask && typeof ask.showModal === "function") {
    var opener = null;
    intake.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (!button || button.id !== "clear-form") {
        return;
      }
      event.preventDefault();
      if (!entered(intake)) {
        window.location.assign("/");
        return;
      }
      opener = button;
      ask.showModal(); // focus goes to "Keep the form"; Escape keeps the form too
    });
    ask.addEventListener("close", function () {
      if (opener) {
        opener.focus();
        opener = null;
      }
    });
  }
})();
