// Org Permissions: switch labels that say their state, rows that look off while management is
// off, a warning before leaving with unsaved choices, and a live region that announces what the
// page answered (a save, a check, a preview). The page works without this script: the server
// renders every state, and the preview and the check keep unsaved choices on their own.
(function () {
  "use strict";
  var announcer = document.getElementById("announcer");

  function announce(text) {
    if (!announcer || !text) { return; }
    announcer.textContent = "";
    // A change of content after load is what screen readers announce.
    window.setTimeout(function () { announcer.textContent = text; }, 150);
  }

  // What the server answered on this load: messages, then check results and the preview.
  var answered = [];
  document.querySelectorAll(".messages .message").forEach(function (message) {
    answered.push(message.textContent.trim());
  });
  document.querySelectorAll("[data-announce]").forEach(function (element) {
    answered.push(element.getAttribute("data-announce"));
  });
  announce(answered.join(" "));

  var impact = document.getElementById("impact");
  if (impact && impact.classList.contains("confirming")) { impact.focus(); }

  // Every input that remembers its saved value (policy switches, grant checkboxes).
  var tracked = Array.prototype.slice.call(document.querySelectorAll("input[data-saved]"));
  function changed(input) { return input.checked !== (input.getAttribute("data-saved") === "true"); }

  var unsaved = document.getElementById("unsaved");
  // The form whose unsaved choices the marker counts: the policy form, or the team grants'.
  var form = document.getElementById("policy-form") || (unsaved && unsaved.closest("form"));
  var enabled = document.getElementById("id_enabled");

  function refresh() {
    tracked.forEach(function (input) {
      var state = input.parentNode.querySelector("[data-state]");
      if (state) {
        state.textContent = input.getAttribute(input.checked ? "data-on" : "data-off");
      }
    });
    if (enabled) {
      document.querySelectorAll("[data-needs-enabled]").forEach(function (element) {
        element.classList.toggle("is-off", !enabled.checked);
      });
    }
    if (unsaved && form) {
      unsaved.hidden = !tracked.some(function (input) { return input.form === form && changed(input); });
    }
  }

  tracked.forEach(function (input) {
    input.addEventListener("change", function () {
      refresh();
      var label = input.labels && input.labels[0] ? input.labels[0].textContent.trim() : "";
      if (input.getAttribute("role") === "switch" && label) {
        announce(label + (changed(input) ? " (not saved)" : " (as saved)"));
      }
    });
  });
  refresh();

  // Leaving the page loses unsaved choices: ask first. Submitting a form keeps its own
  // choices (the preview and the check carry them), so only the others count then.
  var submitted = null;
  document.addEventListener("submit", function (event) { submitted = event.target; });
  window.addEventListener("beforeunload", function (event) {
    var lost = tracked.some(function (input) { return changed(input) && input.form !== submitted; });
    submitted = null;
    if (lost) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
